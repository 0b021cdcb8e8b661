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
