package simulate

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/predictions"
)

// Actions are the recommendations applied in a replay.
type Actions struct {
	// Send maps a send id to its action, a word of the predictions
	// contract; sends not in it, and exploration, go as planned.
	Send map[string]predictions.Action
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
		act := replayAction(actions.Send, plan[i].SendID)
		rep.ByAction[string(act)]++
		s := all[i]
		switch act {
		case predictions.ActionSuppress:
			rep.Suppressed++
			continue
		case predictions.ActionDefer24h:
			rep.Deferred++
			s.at += usDay
		case predictions.ActionThrottle:
			s.paced = true
		case predictions.ActionFixTemplate:
			s.fixTemplate = true
		case predictions.ActionRenewToken:
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
		act := replayAction(actions.Send, plan[i].SendID)
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
		if act == predictions.ActionSuppress && before == pipeline.NoErrorCode {
			rep.GoodSuppressed++
		}
		if act == predictions.ActionDefer24h && after != pipeline.NoErrorCode {
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

// ReadSendActions reads the action of every send from a predictions CSV
// through the predictions contract (predictions.ReadActions).
func ReadSendActions(name string, r io.Reader) (map[string]predictions.Action, error) {
	return predictions.ReadActions(name, r)
}

// ReadCampaignRates reads the recommended rates of the throttled campaigns
// from a campaigns CSV through the predictions contract
// (predictions.ReadCampaignRates).
func ReadCampaignRates(name string, r io.Reader) (map[string]float64, error) {
	return predictions.ReadCampaignRates(name, r)
}

// replayAction is the action a replay applies to the send id: the
// recommended one, with exploration and no recommendation played as
// planned.
func replayAction(actions map[string]predictions.Action, id string) predictions.Action {
	switch a := actions[id]; a {
	case "", predictions.ActionExploration:
		return predictions.ActionSendAsPlanned
	default:
		return a
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
