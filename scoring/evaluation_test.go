package scoring

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

func TestEvaluator(t *testing.T) {
	sc, err := NewScorer(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	// p, family, actual outcome
	rows := []struct {
		id     string
		p      float64
		fam    pipeline.Family
		failed bool
		code   int32
		last   float32 // recipient_last_outcome_family: the rule baseline flags > 0
	}{
		{"a", 0.9, pipeline.FamilyRecipient, true, 131050, 5},  // high, hit, right family; rule hit
		{"b", 0.6, pipeline.FamilyRecipient, false, -1, 5},     // high, false alarm; rule false alarm
		{"c", 0.3, pipeline.FamilyAuth, true, 131049, 0},       // medium, hit, wrong family
		{"d", 0.05, pipeline.FamilyRecipient, true, 130429, 3}, // low, missed; rule hit
		{"e", 0.01, pipeline.FamilyRecipient, false, -1, -1},
		{"f", 0.01, pipeline.FamilyRecipient, false, -1, 5}, // no outcome
	}
	var outcomes []pipeline.PlanOutcome
	var preds []Prediction
	for _, r := range rows {
		ps, err := sc.Score(nil, oneRow(testSend(r.id), r.p, r.fam, map[string]float32{featureNames[fRcptLastOutcomeFamily]: r.last}))
		if err != nil {
			t.Fatal(err)
		}
		preds = append(preds, ps...)
		if r.id != "f" {
			outcomes = append(outcomes, pipeline.PlanOutcome{SendID: r.id, Failed: r.failed, ErrorCode: r.code})
		}
	}
	outcomes = append(outcomes, pipeline.PlanOutcome{SendID: "rejected-row", Failed: true, ErrorCode: 131026})
	e := NewEvaluator(outcomes)
	e.Add(preds[:3])
	e.Add(preds[3:])
	ev := e.Result()
	if ev.Sends != 6 || ev.WithOutcome != 5 || ev.MissingOutcome != 1 || ev.UnscoredOutcomes != 1 || ev.Failures != 3 {
		t.Errorf("counts %+v", ev)
	}
	if ev.High != (FlagStats{Flagged: 2, Hits: 1, Precision: 0.5, Recall: 1.0 / 3}) {
		t.Errorf("high %+v", ev.High)
	}
	if ev.MediumOrHigh != (FlagStats{Flagged: 3, Hits: 2, Precision: 2.0 / 3, Recall: 2.0 / 3}) {
		t.Errorf("medium or high %+v", ev.MediumOrHigh)
	}
	if ev.RuleLastFailed != (FlagStats{Flagged: 3, Hits: 2, Precision: 2.0 / 3, Recall: 2.0 / 3}) {
		t.Errorf("rule baseline %+v", ev.RuleLastFailed)
	}
	wantBrier := (0.01 + 0.36 + 0.49 + 0.9025 + 0.0001) / 5
	if math.Abs(ev.Brier-wantBrier) > 1e-12 || math.Abs(ev.BaseRate-0.6) > 1e-12 {
		t.Errorf("brier %v base rate %v, want %v 0.6", ev.Brier, ev.BaseRate, wantBrier)
	}
	byFam := map[string]FamilyEvaluation{}
	for _, f := range ev.ByFamily {
		byFam[f.Family] = f
	}
	// Expected failures per family: the sum of p_<family> over the sends
	// with an outcome (a, b, d, e for recipient; f has none).
	if f := byFam["recipient"]; math.Abs(f.ExpectedFailures-1.56) > 1e-9 {
		t.Errorf("recipient expected %v, want 1.56", f.ExpectedFailures)
	}
	if _, ok := byFam["auth"]; ok {
		t.Errorf("auth listed with no failure and 0.3 expected: %+v", byFam["auth"])
	}
	if f := byFam["recipient"]; f.Failures != 2 || f.FlaggedMediumOrHigh != 2 || f.LikelyFamilyRight != 1 {
		t.Errorf("recipient %+v", f)
	}
	if f := byFam["throttle"]; f.Failures != 1 || f.FlaggedMediumOrHigh != 0 || f.Recall != 0 {
		t.Errorf("throttle %+v", f)
	}
	var buf bytes.Buffer
	if err := ev.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Evaluation
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.High != ev.High {
		t.Errorf("JSON round trip: %v, %+v", err, back.High)
	}
}
