package outcomes

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// Options are the join's tolerances (DefaultOptions).
type Options struct {
	// Early and Late bound a message's send time around the planned
	// scheduled_at for a join by send.
	Early, Late time.Duration
	// Settle is how long after its send a message without a failed,
	// delivered or read event must be covered by the history to count as
	// not failed.
	Settle time.Duration
}

// DefaultOptions: a send may go out a minute early (clock skew) and up to
// a day late (pacing, deferral); a message without a terminal status is
// settled once the history covers an hour after it (Meta reports
// asynchronous failures within seconds to minutes).
func DefaultOptions() Options {
	return Options{Early: time.Minute, Late: 24 * time.Hour, Settle: time.Hour}
}

// How a send was joined.
const (
	joinNone = iota
	joinID
	joinSend
)

// Result is the derived outcomes and what could not be derived.
type Result struct {
	Outcomes     []pipeline.PlanOutcome // joined and settled sends, in plan order
	Sends        int                    // planned sends given
	ByID, BySend int                    // joined by message id, by send attributes
	Failed       int
	Unsettled    int      // joined, no failure, history too short after the send
	Unmatched    int      // no message joined
	Duplicates   int      // plan rows repeating an earlier send_id (left out)
	Examples     []string // up to 5 send ids of unmatched sends
	HistoryEnd   int64    // the history's last event time, Unix µs
}

type sendState struct {
	join     uint8
	failed   bool
	settled  bool
	code     int32
	sentAt   int64
	matchVia string // message id
}

// Derive joins plan (recipients hashed as in the history) to the history
// and returns the outcomes it establishes.
func Derive(ctx context.Context, plan []pipeline.PlannedSend, history *pipeline.Dataset, opt Options, log *slog.Logger) (*Result, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.Early < 0 || opt.Late < 0 || opt.Settle < 0 {
		return nil, fmt.Errorf("outcomes: negative tolerance %+v", opt)
	}
	res := &Result{Sends: len(plan)}
	if len(plan) == 0 {
		return res, nil
	}
	byID := make(map[string]int32, len(plan))
	type key struct{ phone, recipient string }
	byKey := make(map[key][]int32)
	minAt := int64(math.MaxInt64)
	dup := make([]bool, len(plan))
	for i := range plan {
		p := &plan[i]
		if _, ok := byID[p.SendID]; ok {
			dup[i] = true
			res.Duplicates++
			continue
		}
		byID[p.SendID] = int32(i)
		k := key{p.PhoneNumberID, p.Recipient}
		byKey[k] = append(byKey[k], int32(i))
		minAt = min(minAt, p.ScheduledAt)
	}
	for _, idx := range byKey {
		slices.SortStableFunc(idx, func(a, b int32) int { return cmpInt(plan[a].ScheduledAt, plan[b].ScheduledAt) })
	}
	from := minAt - opt.Early.Microseconds() - 1
	state := make([]sendState, len(plan))

	// Pass 1: sends whose id is a message id of the history.
	idJoined := make([]bool, len(plan))
	err := history.Scan(ctx, pipeline.ScanOptions{Columns: []string{pipeline.ColMessageID}, From: from}, func(batch []pipeline.Event) error {
		for i := range batch {
			if j, ok := byID[batch[i].MessageID]; ok {
				idJoined[j] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outcomes: history: %w", err)
	}

	// Pass 2: join every message's first status event, then follow its
	// statuses.
	cols := []string{pipeline.ColMessageID, pipeline.ColTimestamp, pipeline.ColPhoneNumberID, pipeline.ColRecipient,
		pipeline.ColCampaignID, pipeline.ColStatus, pipeline.ColErrorCode}
	msgs := map[string]int32{} // message id -> plan row (-1: a message of no planned send)
	late, early := opt.Late.Microseconds(), opt.Early.Microseconds()
	end := int64(math.MinInt64)
	err = history.Scan(ctx, pipeline.ScanOptions{Columns: cols, From: from}, func(batch []pipeline.Event) error {
		for i := range batch {
			e := &batch[i]
			end = max(end, e.Timestamp)
			if e.MessageID == "" || e.Status == pipeline.StatusInbound || e.Status.IsAccountEvent() || e.Status == pipeline.StatusUnknown {
				continue
			}
			j, seen := msgs[e.MessageID]
			if !seen {
				j = -1
				if k, ok := byID[e.MessageID]; ok && state[k].join == joinNone {
					j = k
					state[k].join = joinID
				} else if !ok {
					best, bestD := int32(-1), int64(math.MaxInt64)
					for _, k := range byKey[key{e.PhoneNumberID, e.Recipient}] {
						p := &plan[k]
						if p.ScheduledAt > e.Timestamp+early {
							break
						}
						if state[k].join != joinNone || idJoined[k] || e.Timestamp > p.ScheduledAt+late ||
							p.CampaignID != "" && e.CampaignID != "" && p.CampaignID != e.CampaignID {
							continue
						}
						if d := abs(e.Timestamp - p.ScheduledAt); d < bestD {
							best, bestD = k, d
						}
					}
					if best >= 0 {
						j = best
						state[j].join = joinSend
					}
				}
				msgs[e.MessageID] = j
				if j >= 0 {
					state[j].sentAt, state[j].matchVia = e.Timestamp, e.MessageID
				}
			}
			if j < 0 {
				continue
			}
			s := &state[j]
			switch e.Status {
			case pipeline.StatusFailed:
				if !s.failed {
					s.failed, s.code = true, e.ErrorCode
				}
			case pipeline.StatusDelivered, pipeline.StatusRead:
				s.settled = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outcomes: history: %w", err)
	}
	res.HistoryEnd = end
	settle := opt.Settle.Microseconds()
	for i := range plan {
		if dup[i] {
			continue
		}
		s := &state[i]
		switch {
		case s.join == joinNone:
			res.Unmatched++
			if len(res.Examples) < 5 {
				res.Examples = append(res.Examples, plan[i].SendID)
			}
			continue
		case s.join == joinID:
			res.ByID++
		default:
			res.BySend++
		}
		o := pipeline.PlanOutcome{SendID: plan[i].SendID, ErrorCode: pipeline.NoErrorCode}
		switch {
		case s.failed:
			o.Failed, o.ErrorCode = true, s.code
			res.Failed++
		case s.settled || end-s.sentAt >= settle:
		default:
			res.Unsettled++
			continue
		}
		res.Outcomes = append(res.Outcomes, o)
	}
	log.Info("outcomes derived from the history", "sends", res.Sends, "joined_by_id", res.ByID, "joined_by_send", res.BySend,
		"failed", res.Failed, "unsettled", res.Unsettled, "unmatched", res.Unmatched, "duplicate_send_ids", res.Duplicates)
	if res.Unmatched > 0 {
		log.Warn("planned sends no message of the history joins (not sent, sent outside the window, or by other means): they get no outcome",
			"sends", res.Unmatched, "examples", res.Examples)
	}
	if res.Unsettled > 0 {
		log.Warn("sends whose messages the history does not follow long enough to know they did not fail: they get no outcome",
			"sends", res.Unsettled, "settle", opt.Settle.String())
	}
	return res, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
