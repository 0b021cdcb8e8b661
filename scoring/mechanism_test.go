package scoring

import (
	"math"
	"testing"

	"github.com/failcast/failcast/models/calibrate"
	"github.com/failcast/failcast/pipeline"
)

// TestKnownMechanisms: a send whose failure share the schedule fixes is
// scored with that share, not with the trees' capped extrapolation (the
// demo plan's 230 mps campaign: model 0.35, observed 0.65).
func TestKnownMechanisms(t *testing.T) {
	name := func(k int) string { return featureNames[k] }
	fast := testSend("s")
	fast.CampaignRateMPS = 200
	service := testSend("s")
	service.Category, service.MessageType, service.Template = pipeline.CategoryService, "text", ""
	tests := []struct {
		name    string
		send    pipeline.PlannedSend
		pFail   float64
		fam     pipeline.Family
		feats   map[string]float32
		want    float64
		wantFam pipeline.Family
	}{
		{"throughput replaces the model's throttle mass", fast, 0.35, pipeline.FamilyThrottle, nil, 1 - 80.0/200, pipeline.FamilyThrottle},
		{"throughput with an independent other cause", fast, 0.2, pipeline.FamilyRecipient, nil, 1 - (80.0/200)*(1-0.2), pipeline.FamilyThrottle},
		{"never lowers the model", fast, 0.9, pipeline.FamilyThrottle, nil, 0.9, pipeline.FamilyThrottle},
		{"within throughput: the model alone", testSend("s"), 0.1, pipeline.FamilyRecipient, nil, 0.1, pipeline.FamilyRecipient},
		{"template parameter share", testSend("s"), 0.1, pipeline.FamilyPayload, map[string]float32{name(fTemplateParamRate): 0.8}, 0.8, pipeline.FamilyPayload},
		{"closed window", service, 0.2, pipeline.FamilyRecipient, map[string]float32{name(fRcptHoursSinceInbound): 40}, 1, pipeline.FamilyRecipient},
		{"open window", service, 0.2, pipeline.FamilyRecipient, map[string]float32{name(fRcptHoursSinceInbound): 3}, 0.2, pipeline.FamilyRecipient},
		{"beyond the tier limit, new recipient", testSend("s"), 0.3, pipeline.FamilyQuality,
			map[string]float32{name(fPhoneUnique24h): 900, name(fPhoneTierLimit): 250, name(fPairHoursSincePrev): 1e6}, 1, pipeline.FamilyQuality},
		{"beyond the tier limit, recipient already counted", testSend("s"), 0.3, pipeline.FamilyQuality,
			map[string]float32{name(fPhoneUnique24h): 900, name(fPhoneTierLimit): 250, name(fPairHoursSincePrev): 3}, 0.3, pipeline.FamilyQuality},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewScorer(testConfig())
			if err != nil {
				t.Fatal(err)
			}
			ps, err := s.Score(nil, oneRow(tc.send, tc.pFail, tc.fam, tc.feats))
			if err != nil {
				t.Fatal(err)
			}
			p := ps[0]
			if math.Abs(p.PFail-tc.want) > 1e-6 {
				t.Fatalf("p_fail %v, want %v", p.PFail, tc.want)
			}
			sum := 0.0
			for _, v := range p.PFamily {
				sum += v
			}
			if math.Abs(sum-p.PFail) > 1e-9 || likelyFamily(&p.PFamily) != tc.wantFam {
				t.Fatalf("families %v (sum %v, likely %v), want sum %v, likely %v", p.PFamily, sum, likelyFamily(&p.PFamily), p.PFail, tc.wantFam)
			}
		})
	}
}

func TestScorerAppliesCalibration(t *testing.T) {
	cfg := testConfig()
	c := calibrate.Platt{A: 1, B: math.Log(3.2)} // odds x3.2: 0.25 -> 0.516
	cfg.Calibration = &c
	s, err := NewScorer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := s.Score(nil, oneRow(testSend("s"), 0.25, pipeline.FamilyRecipient, nil))
	if err != nil {
		t.Fatal(err)
	}
	if p := ps[0]; math.Abs(p.PFail-3.2/6.2) > 1e-9 || math.Abs(p.PFamily[pipeline.FamilyRecipient]-3.2/6.2) > 1e-9 || p.Risk != RiskHigh {
		t.Fatalf("calibrated p_fail %v, recipient %v, risk %v; want 0.516 twice, high", p.PFail, p.PFamily[pipeline.FamilyRecipient], p.Risk)
	}
	bad := calibrate.Platt{A: -1}
	cfg.Calibration = &bad
	if _, err := NewScorer(cfg); err == nil {
		t.Fatal("a decreasing calibration map was accepted")
	}
}

// TestScorerTierLedger: the tier limit counts conversations. The plan's
// sends the limit refuses open none, so when the number's admitted sends
// age out of the 24-hour window their slots are free again, although
// the feature (which counts every send) still counts the refused ones.
// Before, every send whose feature count reached the limit was scored as
// refused: the day-2 sends of the demo's limited number, which went out
// fine, at p_fail 1. The sends come in two batches, as scoring's do.
func TestScorerTierLedger(t *testing.T) {
	names := []string{featureNames[fPhoneUnique24h], featureNames[fPhoneTierLimit], featureNames[fPairHoursSincePrev]}
	const h = int64(3600e6)
	steps := []struct {
		at     int64 // hours after the first send
		recip  string
		unique float32 // the feature's count, refused sends included
		want   float64
	}{
		{0, "a", 0, 0.1}, {0, "b", 1, 0.1}, {0, "c", 2, 0.1},
		{12, "d", 3, 1}, {12, "e", 4, 1}, {12, "f", 5, 1},
		// a, b, c left the window; the feature still counts d, e, f.
		{25, "g", 3, 0.1}, {25, "h", 4, 0.1}, {25, "i", 5, 0.1}, {25, "j", 6, 1},
	}
	s, err := NewScorer(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	var got []Prediction
	for _, part := range [][2]int{{0, 4}, {4, len(steps)}} {
		var b Batch
		b.Features.Names = names
		for _, st := range steps[part[0]:part[1]] {
			send := testSend(st.recip)
			send.Recipient, send.ScheduledAt = "h:"+st.recip, testAsOf+st.at*h
			b.Sends = append(b.Sends, send)
			b.Features.X = append(b.Features.X, st.unique, 3, 1e6)
			b.PFail = append(b.PFail, 0.1)
			b.PFamily = append(b.PFamily, familyProbs(pipeline.FamilyRecipient, 0.1))
		}
		if got, err = s.Score(got, b); err != nil {
			t.Fatal(err)
		}
	}
	for i, st := range steps {
		if math.Abs(got[i].PFail-st.want) > 1e-9 {
			t.Errorf("send to %s at %d h (feature count %v): p_fail %v, want %v", st.recip, st.at, st.unique, got[i].PFail, st.want)
		}
	}
}
