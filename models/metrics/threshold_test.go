package metrics

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// Ten rows, four positive. Precision after flagging the top k rows:
// 1/1 2/2 2/3 3/4 3/5 3/6 4/7 4/8 4/9 4/10.
var (
	thrScores = []float64{0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05}
	thrLabels = []bool{true, true, false, true, false, false, true, false, false, false}
)

func TestThresholdForPrecision(t *testing.T) {
	tests := []struct {
		target          float64
		value           float64
		flagged         int
		precision, rec  float64
		wantUnreachable bool
	}{
		{target: 1, value: 0.8, flagged: 2, precision: 1, rec: 0.5},
		{target: 0.75, value: 0.6, flagged: 4, precision: 0.75, rec: 0.75},
		{target: 0.5, value: 0.2, flagged: 8, precision: 0.5, rec: 1},
		{target: 0.4, value: 0.05, flagged: 10, precision: 0.4, rec: 1},
	}
	for _, tc := range tests {
		got, err := ThresholdForPrecision(thrScores, thrLabels, tc.target)
		if err != nil {
			t.Fatalf("target %v: %v", tc.target, err)
		}
		if !got.Reached || got.Rule != RulePrecision || got.Target != tc.target || got.Value != tc.value || got.Flagged != tc.flagged ||
			!near(got.Precision, tc.precision) || !near(got.Recall, tc.rec) || !near(got.AlertRate, float64(tc.flagged)/10) {
			t.Errorf("target %v: got %+v, want value %v flagged %d precision %v recall %v", tc.target, got, tc.value, tc.flagged, tc.precision, tc.rec)
		}
		r, err := RecallAtPrecision(thrScores, thrLabels, tc.target)
		if err != nil || !near(r, tc.rec) {
			t.Errorf("RecallAtPrecision(%v) = %v, %v; want %v", tc.target, r, err, tc.rec)
		}
	}

	// The top row is negative: precision 1 is out of reach.
	scores := []float64{0.9, 0.5, 0.1}
	labels := []bool{false, true, false}
	got, err := ThresholdForPrecision(scores, labels, 0.9)
	if !errors.Is(err, ErrUnreachable) || got.Reached || !math.IsInf(got.Value, 1) || got.Flagged != 0 || got.Recall != 0 {
		t.Errorf("unreachable precision: got %+v, %v", got, err)
	}
	if r, err := RecallAtPrecision(scores, labels, 0.9); err != nil || r != 0 {
		t.Errorf("RecallAtPrecision unreachable = %v, %v; want 0, nil", r, err)
	}
	for _, bad := range []float64{0, -0.1, 1.1, math.NaN()} {
		if _, err := ThresholdForPrecision(thrScores, thrLabels, bad); err == nil {
			t.Errorf("target precision %v accepted", bad)
		}
	}
}

func TestThresholdForBudget(t *testing.T) {
	tests := []struct {
		name    string
		scores  []float64
		labels  []bool
		budget  float64
		value   float64
		flagged int
		prec    float64
	}{
		{"top 30%", thrScores, thrLabels, 0.3, 0.7, 3, 2.0 / 3},
		{"top 40%", thrScores, thrLabels, 0.4, 0.6, 4, 0.75},
		{"everything", thrScores, thrLabels, 1, 0.05, 10, 0.4},
		// Ties at the boundary are left out rather than exceed the budget.
		{"tie at boundary", []float64{0.9, 0.8, 0.8, 0.1}, []bool{true, true, false, false}, 0.5, 0.9, 1, 1},
		{"float slack", make100(), make100Labels(), 0.29, 72, 29, 1},
	}
	for _, tc := range tests {
		got, err := ThresholdForBudget(tc.scores, tc.labels, tc.budget)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !got.Reached || got.Rule != RuleBudget || got.Value != tc.value || got.Flagged != tc.flagged || !near(got.Precision, tc.prec) {
			t.Errorf("%s: got %+v, want value %v flagged %d precision %v", tc.name, got, tc.value, tc.flagged, tc.prec)
		}
		p, err := PrecisionAtBudget(tc.scores, tc.labels, tc.budget)
		if err != nil || !near(p, tc.prec) {
			t.Errorf("%s: PrecisionAtBudget = %v, %v", tc.name, p, err)
		}
	}
	got, err := ThresholdForBudget(thrScores, thrLabels, 0.05) // 0 rows allowed
	if !errors.Is(err, ErrUnreachable) || got.Reached || got.Flagged != 0 {
		t.Errorf("budget below one row: %+v, %v", got, err)
	}
	// One class is fine for a budget; recall is undefined without positives.
	got, err = ThresholdForBudget([]float64{0.3, 0.2}, []bool{false, false}, 0.5)
	if err != nil || got.Flagged != 1 || got.Precision != 0 || !math.IsNaN(got.Recall) {
		t.Errorf("one class budget: %+v, %v", got, err)
	}
}

// make100 returns scores 100, 99, ..., 1; the top 40 are positive.
func make100() []float64 {
	s := make([]float64, 100)
	for i := range s {
		s[i] = float64(100 - i)
	}
	return s
}

func make100Labels() []bool {
	l := make([]bool, 100)
	for i := range 40 {
		l[i] = true
	}
	return l
}

func TestThresholdJSON(t *testing.T) {
	unreached := Threshold{Rule: RulePrecision, Target: 0.9, Value: math.Inf(1), Precision: math.NaN(), Recall: 0}
	b, err := json.Marshal(unreached)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"rule":"precision","target":0.9,"reached":false,"value":null,"flagged":0,"alert_rate":0,"precision":null,"recall":0}`
	if string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
	var back Threshold
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(back.Value, 1) || !math.IsNaN(back.Precision) || back.Target != 0.9 {
		t.Errorf("round trip = %+v", back)
	}
}
