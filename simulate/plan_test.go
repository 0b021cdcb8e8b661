package simulate

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/predictions"
)

// demoPlan returns the demo world's plan and its outcomes.
func demoPlan(t *testing.T) (*World, []pipeline.PlannedSend, []pipeline.PlanOutcome) {
	t.Helper()
	w, _ := demoWorld(t)
	plan := w.Plan()
	out, err := w.Outcomes(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	return w, plan, out
}

func TestPlanShape(t *testing.T) {
	w, plan, _ := demoPlan(t)
	cfg := w.Config()
	if len(plan) < 5000 {
		t.Fatalf("plan has %d sends", len(plan))
	}
	ids := map[string]bool{}
	byCampaign := map[string][]pipeline.PlannedSend{}
	for i, p := range plan {
		if ids[p.SendID] {
			t.Fatalf("duplicate send id %s", p.SendID)
		}
		ids[p.SendID] = true
		if p.ScheduledAt < cfg.asOf() || p.ScheduledAt >= cfg.planEnd() {
			t.Fatalf("send %s scheduled at %s, outside the plan window", p.SendID, fmtMicros(p.ScheduledAt))
		}
		if i > 0 && p.ScheduledAt < plan[i-1].ScheduledAt {
			t.Fatalf("plan not in time order at row %d", i+1)
		}
		if p.CampaignRateMPS <= 0 || p.CampaignID == "" || p.Recipient[:2] != pipeline.HashedPrefix {
			t.Fatalf("incomplete plan row %+v", p)
		}
		if !slices.Contains(pipeline.Categories, p.Category) || !slices.Contains(pipeline.MessageTypes, p.MessageType) {
			t.Fatalf("plan row %s: category %q, message type %q", p.SendID, p.Category, p.MessageType)
		}
		byCampaign[p.CampaignID] = append(byCampaign[p.CampaignID], p)
	}
	// The planned rate is visible from the timestamps alone.
	for id, sends := range byCampaign {
		slices.SortFunc(sends, func(a, b pipeline.PlannedSend) int { return int(a.ScheduledAt - b.ScheduledAt) })
		rate := sends[0].CampaignRateMPS
		for i, s := range sends {
			want := sends[0].ScheduledAt + int64(float64(i)*1e6/rate)
			if math.Abs(float64(s.ScheduledAt-want)) > 1000 {
				t.Fatalf("campaign %s at %g mps: send %d at +%d us, want +%d us", id, rate, i, s.ScheduledAt-sends[0].ScheduledAt, want-sends[0].ScheduledAt)
			}
		}
	}
	if again := w.Plan(); !slices.Equal(again, plan) {
		t.Error("Plan is not deterministic")
	}
}

func TestPlanRisksAndOutcomes(t *testing.T) {
	w, plan, out := demoPlan(t)
	if len(out) != len(plan) {
		t.Fatalf("%d outcomes for %d sends", len(out), len(plan))
	}
	codes := map[int32]int{}
	failed := 0
	for i, o := range out {
		if o.SendID != plan[i].SendID {
			t.Fatalf("outcome %d is for %s, want %s", i, o.SendID, plan[i].SendID)
		}
		if o.Failed != (o.ErrorCode != pipeline.NoErrorCode) {
			t.Fatalf("outcome %+v: Failed disagrees with ErrorCode", o)
		}
		if o.Failed {
			failed++
			codes[o.ErrorCode]++
		}
		if o.ErrorCode == 130429 && plan[i].CampaignRateMPS <= throughputMPS {
			t.Errorf("send %s fails 130429 at a planned %g mps", o.SendID, plan[i].CampaignRateMPS)
		}
	}
	codes[132000] += codes[132012] // the template bug fails with either
	for _, code := range []int32{190, 130429, 131026, 131047, 131048, 131049, 131050, 131056, 132000, 132015} {
		if codes[code] == 0 {
			t.Errorf("no planned send fails with %d (plan failures: %v)", code, codes)
		}
	}
	if r := float64(failed) / float64(len(plan)); r < 0.05 || r > 0.4 {
		t.Errorf("plan failure rate %.1f%%", 100*r)
	}
	again, err := w.Outcomes(context.Background(), plan)
	if err != nil || !slices.Equal(again, out) {
		t.Errorf("Outcomes is not deterministic (err %v)", err)
	}
}

// TestOutcomesConsistentWithHistory checks that the plan continues the
// history's world: recipients undeliverable or opted out in the history
// stay so in the plan.
func TestOutcomesConsistentWithHistory(t *testing.T) {
	_, an := demoWorld(t)
	_, plan, out := demoPlan(t)
	checked := 0
	for i, p := range plan {
		o := out[i]
		sync := o.ErrorCode == 190 || o.ErrorCode == 368 || o.ErrorCode == 130429 || o.ErrorCode/1000 == 132 || o.ErrorCode == 500 || o.ErrorCode == 503
		if an.undeliverable[p.Recipient] {
			checked++
			if !sync && o.ErrorCode != 131026 {
				t.Errorf("send %s to a recipient undeliverable in the history: code %d", p.SendID, o.ErrorCode)
			}
		}
		if _, ok := an.optedOut[p.Recipient]; ok && p.Category == pipeline.CategoryMarketing && !an.undeliverable[p.Recipient] {
			checked++
			if !o.Failed {
				t.Errorf("marketing send %s to a recipient opted out in the history succeeded", p.SendID)
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d plan sends to undeliverable or opted-out recipients", checked)
	}
}

// TestOutcomesKeyedOnSendID plays one campaign alone and within the whole
// plan: draws are keyed on the send, so its throughput failures (which no
// other send influences) are the same.
func TestOutcomesKeyedOnSendID(t *testing.T) {
	w, plan, out := demoPlan(t)
	var fast string
	for _, p := range plan {
		if p.CampaignRateMPS > throughputMPS {
			fast = p.CampaignID
			break
		}
	}
	if fast == "" {
		t.Fatal("no campaign above the throughput")
	}
	var alone []pipeline.PlannedSend
	want := map[string]bool{}
	for i, p := range plan {
		if p.CampaignID == fast {
			alone = append(alone, p)
			want[p.SendID] = out[i].ErrorCode == 130429
		}
	}
	got, err := w.Outcomes(context.Background(), alone)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range got {
		if (o.ErrorCode == 130429) != want[o.SendID] {
			t.Errorf("send %s: 130429 alone %v, in the plan %v", o.SendID, o.ErrorCode == 130429, want[o.SendID])
		}
		if want[o.SendID] {
			n++
		}
	}
	if n == 0 {
		t.Error("the fast campaign has no 130429 failures")
	}
}

func TestOutcomesBadPlan(t *testing.T) {
	w, plan, _ := demoPlan(t)
	tests := []struct {
		name   string
		change func(*pipeline.PlannedSend)
		ok     bool
	}{
		{"unknown phone number", func(p *pipeline.PlannedSend) { p.PhoneNumberID = "999" }, false},
		{"unknown WABA", func(p *pipeline.PlannedSend) { p.WABAID = "999" }, false},
		{"before as-of", func(p *pipeline.PlannedSend) { p.ScheduledAt -= 30 * usDay }, false},
		{"unknown recipient", func(p *pipeline.PlannedSend) { p.Recipient = "h:0000000000000000" }, true},
		{"unknown template", func(p *pipeline.PlannedSend) { p.Template = "never_seen_v1" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := slices.Clone(plan[:10])
			tt.change(&p[3])
			_, err := w.Outcomes(context.Background(), p)
			if (err == nil) != tt.ok {
				t.Errorf("Outcomes error = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestReplay(t *testing.T) {
	w, plan, out := demoPlan(t)
	ctx := context.Background()
	failing := Actions{Send: map[string]predictions.Action{}}
	throttle := Actions{Send: map[string]predictions.Action{}, CampaignRate: map[string]float64{}}
	renew := Actions{Send: map[string]predictions.Action{}}
	fix := Actions{Send: map[string]predictions.Action{}}
	deferLimited := Actions{Send: map[string]predictions.Action{}}
	explored := Actions{Send: map[string]predictions.Action{}}
	n190, n429, nTemplate := 0, 0, 0
	for i, o := range out {
		id := plan[i].SendID
		if o.Failed {
			failing.Send[id] = predictions.ActionSuppress
			explored.Send[id] = predictions.ActionExploration
		}
		if plan[i].CampaignRateMPS > throughputMPS {
			throttle.CampaignRate[plan[i].CampaignID] = throughputMPS
		}
		switch o.ErrorCode {
		case 190:
			renew.Send[id] = predictions.ActionRenewToken
			n190++
		case 130429:
			n429++
		case 132000, 132012, 132015, 132016:
			fix.Send[id] = predictions.ActionFixTemplate
			nTemplate++
		case 131049:
			deferLimited.Send[id] = predictions.ActionDefer24h
		}
	}
	tests := []struct {
		name  string
		acts  Actions
		check func(t *testing.T, r *ReplayReport)
	}{
		{"no actions", Actions{}, func(t *testing.T, r *ReplayReport) {
			if r.Prevented != 0 || r.NewFailures != 0 || r.FailuresWithActions != r.FailuresAsPlanned {
				t.Errorf("no actions changed the outcome: %+v", r)
			}
		}},
		{"exploration is sent as planned", explored, func(t *testing.T, r *ReplayReport) {
			if r.Prevented != 0 || r.Suppressed != 0 || r.FailuresWithActions != r.FailuresAsPlanned ||
				r.ByAction[string(predictions.ActionSendAsPlanned)] != r.Sends {
				t.Errorf("explored sends did not go out as planned: %+v", r)
			}
		}},
		{"suppress every failure", failing, func(t *testing.T, r *ReplayReport) {
			if r.PreventedShare != 1 || r.FailuresWithActions != 0 || r.GoodSuppressed != 0 || r.Suppressed != r.FailuresAsPlanned {
				t.Errorf("suppressing the failures: %+v", r)
			}
		}},
		{"throttle fast campaigns", throttle, func(t *testing.T, r *ReplayReport) {
			if r.Throttled == 0 || familyWithActions(r, pipeline.FamilyThrottle) > familyAsPlanned(r, pipeline.FamilyThrottle)-n429 {
				t.Errorf("throttling left throttle failures: %+v (130429 as planned: %d)", r.ByFamily, n429)
			}
		}},
		{"renew token", renew, func(t *testing.T, r *ReplayReport) {
			// A send with a renewed token may still meet the error behind
			// the 190 (a paused template, a full messaging limit), so not
			// every 190 is prevented.
			if familyWithActions(r, pipeline.FamilyAuth) != 0 || r.Prevented == 0 {
				t.Errorf("renewing the token: %+v (190 as planned: %d)", r, n190)
			}
		}},
		{"fix template", fix, func(t *testing.T, r *ReplayReport) {
			if familyWithActions(r, pipeline.FamilyTemplateState) != 0 || r.Prevented < nTemplate/2 {
				t.Errorf("fixing templates: %+v (template failures as planned: %d)", r, nTemplate)
			}
		}},
		{"defer marketing-limited sends", deferLimited, func(t *testing.T, r *ReplayReport) {
			if r.Deferred != len(deferLimited.Send) || r.DeferredFailed >= r.Deferred || r.Prevented == 0 {
				t.Errorf("deferring 131049 sends: %+v", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := w.Replay(ctx, plan, tt.acts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Sends != len(plan) {
				t.Errorf("report counts %d sends, plan has %d", r.Sends, len(plan))
			}
			tt.check(t, r)
		})
	}
}

func familyAsPlanned(r *ReplayReport, f pipeline.Family) int {
	for _, x := range r.ByFamily {
		if x.Family == f.String() {
			return x.AsPlanned
		}
	}
	return 0
}

func familyWithActions(r *ReplayReport, f pipeline.Family) int {
	for _, x := range r.ByFamily {
		if x.Family == f.String() {
			return x.WithActions
		}
	}
	return 0
}
