package simulate

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// Action is what the sender does with a planned send.
type Action uint8

// Actions a scoring run can recommend.
const (
	SendAsPlanned Action = iota // unchanged
	Suppress                    // not sent
	Defer24h                    // sent 24 hours later
	Throttle                    // sent by a pacer: within the number's throughput and the pair rate
	FixTemplate                 // the template's bug, pause or oversized media is fixed first, a free-form send outside the window goes as a template: no template, media or 131047 error
	RenewToken                  // the access token is renewed first: no token error
)

var actionNames = [...]string{"send as planned", "suppress", "defer 24h", "throttle", "fix template", "renew token"}

// String returns the action's name as the predictions CSV spells it.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// ParseAction parses an action name of the predictions CSV; "send as
// planned (exploration)" is SendAsPlanned. Case and surrounding spaces are
// ignored; an empty name is SendAsPlanned.
func ParseAction(name string) (Action, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "", "send as planned (exploration)":
		return SendAsPlanned, nil
	}
	for i, a := range actionNames {
		if n == a {
			return Action(i), nil
		}
	}
	return SendAsPlanned, fmt.Errorf("unknown action %q (want one of %s, send as planned (exploration))", name, strings.Join(actionNames[:], ", "))
}

// Actions are the recommendations applied in a replay.
type Actions struct {
	// Send maps a send id to its action; sends not in it go as planned.
	Send map[string]Action
	// CampaignRate maps a campaign id to a recommended rate (messages per
	// second): the campaign's sends are re-timed to go out at that rate.
	CampaignRate map[string]float64
}

// FamilyReplay counts the failures of one error family in a replay.
type FamilyReplay struct {
	Family      string `json:"family"`
	AsPlanned   int    `json:"failures_as_planned"`
	WithActions int    `json:"failures_with_actions"`
	Prevented   int    `json:"prevented"`
}

// ReplayReport measures what acting on recommendations would have changed.
type ReplayReport struct {
	Sends               int            `json:"sends_planned"`
	FailuresAsPlanned   int            `json:"failures_as_planned"`
	FailuresWithActions int            `json:"failures_with_actions"`
	Prevented           int            `json:"failures_prevented"` // failed as planned, not with actions
	PreventedShare      float64        `json:"prevented_share"`    // Prevented / FailuresAsPlanned
	NewFailures         int            `json:"new_failures"`       // succeeded as planned, failed with actions
	Suppressed          int            `json:"suppressed"`
	GoodSuppressed      int            `json:"good_sends_suppressed"` // the cost: suppressed sends that would have succeeded
	Deferred            int            `json:"deferred"`
	DeferredFailed      int            `json:"deferred_then_failed"`
	Throttled           int            `json:"throttled"` // sends paced or in a re-timed campaign
	ByAction            map[string]int `json:"by_action"`
	ByFamily            []FamilyReplay `json:"by_family"`
	Elapsed             time.Duration  `json:"-"`
}

// Replay simulates the world of cfg, then plays the plan twice from AsOf,
// as planned and with the actions applied, and compares the outcomes.
func Replay(ctx context.Context, cfg Config, plan []pipeline.PlannedSend, actions Actions) (*ReplayReport, error) {
	w, err := Run(ctx, cfg, nil)
	if err != nil {
		return nil, err
	}
	return w.Replay(ctx, plan, actions)
}

// Replay plays the plan from AsOf as planned and with the actions applied,
// and compares the outcomes.
func (w *World) Replay(ctx context.Context, plan []pipeline.PlannedSend, actions Actions) (*ReplayReport, error) {
	began := time.Now()
	base, err := w.Outcomes(ctx, plan)
	if err != nil {
		return nil, err
	}
	e := w.eng.clone()
	all, err := e.resolve(plan)
	if err != nil {
		return nil, err
	}
	rep := &ReplayReport{Sends: len(plan), ByAction: map[string]int{}}
	// Campaign starts and rates, for re-timing throttled campaigns.
	type campaignTiming struct {
		start int64
		rate  float64
	}
	timing := map[string]campaignTiming{}
	for i := range plan {
		p := &plan[i]
		ct, ok := timing[p.CampaignID]
		if !ok || p.ScheduledAt < ct.start {
			ct.start = p.ScheduledAt
		}
		ct.rate = max(ct.rate, p.CampaignRateMPS)
		timing[p.CampaignID] = ct
	}
	var sends []send
	var index []int // sends[k] is plan[index[k]]
	for i := range plan {
		act := actions.Send[plan[i].SendID]
		rep.ByAction[act.String()]++
		s := all[i]
		switch act {
		case Suppress:
			rep.Suppressed++
			continue
		case Defer24h:
			rep.Deferred++
			s.at += usDay
		case Throttle:
			s.paced = true
		case FixTemplate:
			s.fixTemplate = true
		case RenewToken:
			s.renewToken = true
		}
		if rate, ok := actions.CampaignRate[plan[i].CampaignID]; ok && rate > 0 && plan[i].CampaignID != "" {
			ct := timing[plan[i].CampaignID]
			if ct.rate > 0 && rate < ct.rate {
				s.at += int64(float64(plan[i].ScheduledAt-ct.start) * (ct.rate/rate - 1))
				s.at = s.at / 1000 * 1000
			}
			s.rate = rate
			s.paced = s.paced || rate <= throughputMPS
		}
		if s.paced {
			rep.Throttled++
		}
		sends = append(sends, s)
		index = append(index, i)
	}
	codes, err := e.playPlan(ctx, sends)
	if err != nil {
		return nil, err
	}
	acted := make([]int32, len(plan))
	for i := range acted {
		acted[i] = pipeline.NoErrorCode
	}
	for k, i := range index {
		acted[i] = codes[k]
	}
	var fam [pipeline.NumFamilies]FamilyReplay
	for i := range plan {
		before, after := base[i].ErrorCode, acted[i]
		act := actions.Send[plan[i].SendID]
		fb, fa := pipeline.FamilyOf(before), pipeline.FamilyOf(after)
		if before != pipeline.NoErrorCode {
			rep.FailuresAsPlanned++
			fam[fb].AsPlanned++
			if after == pipeline.NoErrorCode {
				rep.Prevented++
				fam[fb].Prevented++
			}
		}
		if after != pipeline.NoErrorCode {
			rep.FailuresWithActions++
			fam[fa].WithActions++
			if before == pipeline.NoErrorCode {
				rep.NewFailures++
			}
		}
		if act == Suppress && before == pipeline.NoErrorCode {
			rep.GoodSuppressed++
		}
		if act == Defer24h && after != pipeline.NoErrorCode {
			rep.DeferredFailed++
		}
	}
	if rep.FailuresAsPlanned > 0 {
		rep.PreventedShare = float64(rep.Prevented) / float64(rep.FailuresAsPlanned)
	}
	for f := 1; f < pipeline.NumFamilies; f++ {
		if fam[f].AsPlanned > 0 || fam[f].WithActions > 0 {
			fam[f].Family = pipeline.Family(f).String()
			rep.ByFamily = append(rep.ByFamily, fam[f])
		}
	}
	rep.Elapsed = time.Since(began)
	return rep, nil
}

// ReadSendActions reads a predictions CSV: a header row naming the columns
// send_id and action (other columns are ignored), then one row per send.
// name is used in error messages.
func ReadSendActions(name string, r io.Reader) (map[string]Action, error) {
	out := map[string]Action{}
	err := readCSV(name, r, []string{"send_id", "action"}, func(line int, v []string) error {
		if v[0] == "" {
			return fmt.Errorf("%s: row %d: column send_id is empty", name, line)
		}
		a, err := ParseAction(v[1])
		if err != nil {
			return fmt.Errorf("%s: row %d: column action: %w", name, line, err)
		}
		out[v[0]] = a
		return nil
	})
	return out, err
}

// ReadCampaignRates reads a campaigns CSV: a header row naming the columns
// campaign_id and recommended_rate_mps (other columns are ignored). An
// empty rate means no throttling; campaigns without one are left out.
func ReadCampaignRates(name string, r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	err := readCSV(name, r, []string{"campaign_id", "recommended_rate_mps"}, func(line int, v []string) error {
		if strings.TrimSpace(v[1]) == "" {
			return nil
		}
		rate, err := strconv.ParseFloat(strings.TrimSpace(v[1]), 64)
		if err != nil || rate <= 0 || math.IsInf(rate, 0) || math.IsNaN(rate) {
			return fmt.Errorf("%s: row %d: column recommended_rate_mps: want a positive number of messages per second, got %q", name, line, v[1])
		}
		out[v[0]] = rate
		return nil
	})
	return out, err
}

// readCSV reads a CSV with a header and calls row with the values of the
// wanted columns of each data row (line is the 1-based file row).
func readCSV(name string, r io.Reader, want []string, row func(line int, values []string) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: empty file, want a header row with columns %s", name, strings.Join(want, ", "))
	}
	if err != nil {
		return fmt.Errorf("%s: header: %w", name, err)
	}
	cols := make([]int, len(want))
	for i, w := range want {
		cols[i] = -1
		for j, h := range header {
			h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
			if strings.EqualFold(h, w) {
				cols[i] = j
				break
			}
		}
		if cols[i] < 0 {
			return fmt.Errorf("%s: header has no column %q (want columns %s)", name, w, strings.Join(want, ", "))
		}
	}
	values := make([]string, len(want))
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: row %d: %w", name, line, err)
		}
		for i, c := range cols {
			if c >= len(rec) {
				return fmt.Errorf("%s: row %d: has %d columns, want at least %d", name, line, len(rec), c+1)
			}
			values[i] = strings.Clone(rec[c])
		}
		if err := row(line, values); err != nil {
			return err
		}
	}
}

// WriteTable writes the report as an aligned text table.
func (r *ReplayReport) WriteTable(w io.Writer) error {
	var b strings.Builder
	pct := func(n, d int) string {
		if d == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(d))
	}
	fmt.Fprintf(&b, "%-34s %10d\n", "sends planned", r.Sends)
	fmt.Fprintf(&b, "%-34s %10d  %s of sends\n", "failures as planned", r.FailuresAsPlanned, pct(r.FailuresAsPlanned, r.Sends))
	fmt.Fprintf(&b, "%-34s %10d  %s of sends\n", "failures with actions", r.FailuresWithActions, pct(r.FailuresWithActions, r.Sends))
	fmt.Fprintf(&b, "%-34s %10d  %s of failures\n", "failures prevented", r.Prevented, pct(r.Prevented, r.FailuresAsPlanned))
	fmt.Fprintf(&b, "%-34s %10d\n", "new failures (caused by actions)", r.NewFailures)
	fmt.Fprintf(&b, "%-34s %10d\n", "sends suppressed", r.Suppressed)
	fmt.Fprintf(&b, "%-34s %10d  %s of suppressed\n", "good sends suppressed (cost)", r.GoodSuppressed, pct(r.GoodSuppressed, r.Suppressed))
	fmt.Fprintf(&b, "%-34s %10d\n", "sends deferred 24h", r.Deferred)
	fmt.Fprintf(&b, "%-34s %10d  %s of deferred\n", "deferred sends that then failed", r.DeferredFailed, pct(r.DeferredFailed, r.Deferred))
	fmt.Fprintf(&b, "%-34s %10d\n", "sends throttled", r.Throttled)
	if len(r.ByFamily) > 0 {
		fmt.Fprintf(&b, "\n%-16s %12s %12s %12s %10s\n", "family", "as planned", "with actions", "prevented", "share")
		for _, f := range r.ByFamily {
			fmt.Fprintf(&b, "%-16s %12d %12d %12d %10s\n", f.Family, f.AsPlanned, f.WithActions, f.Prevented, pct(f.Prevented, f.AsPlanned))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
