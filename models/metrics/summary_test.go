package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestCompute(t *testing.T) {
	s := Compute(thrScores, thrLabels)
	if s.Rows != 10 || s.Positives != 4 || !near(s.BaseRate, 0.4) {
		t.Errorf("counts: %+v", s)
	}
	auc, _ := ROCAUC(thrScores, thrLabels)
	ap, _ := AveragePrecision(thrScores, thrLabels)
	ll, _ := LogLoss(thrScores, thrLabels)
	if s.ROCAUC != auc || s.PRAUC != ap || s.LogLoss != ll {
		t.Errorf("summary %+v disagrees with ROCAUC %v AP %v LogLoss %v", s, auc, ap, ll)
	}
	if len(s.AtPrecision) != len(DefaultPrecisions) || len(s.AtBudget) != len(DefaultBudgets) {
		t.Fatalf("thresholds: %+v", s)
	}
	if s.AtPrecision[0].Target != 0.5 || s.AtPrecision[0].Value != 0.2 {
		t.Errorf("precision 0.5 threshold = %+v, want value 0.2", s.AtPrecision[0])
	}
	if s.AtBudget[0].Reached { // 1% of 10 rows is no row at all
		t.Errorf("budget 1%% of 10 rows reached: %+v", s.AtBudget[0])
	}
}

func TestComputeOneClassAndEmpty(t *testing.T) {
	s := Compute([]float64{0.1, 0.2}, []bool{false, false})
	if !math.IsNaN(s.ROCAUC) || !math.IsNaN(s.PRAUC) || math.IsNaN(s.LogLoss) || s.AtPrecision[0].Reached {
		t.Errorf("one class: %+v", s)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("one-class summary does not encode: %v", err)
	}
	if !strings.Contains(string(b), `"roc_auc":null`) {
		t.Errorf("JSON %s lacks roc_auc null", b)
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil || !math.IsNaN(back.ROCAUC) || back.LogLoss != s.LogLoss {
		t.Errorf("round trip: %+v, %v", back, err)
	}

	e := Compute(nil, nil)
	if e.Rows != 0 || !math.IsNaN(e.LogLoss) {
		t.Errorf("empty: %+v", e)
	}
	if _, err := json.Marshal(e); err != nil {
		t.Errorf("empty summary does not encode: %v", err)
	}
	if _, err := ComputeAt([]float64{0.1}, []bool{true, false}, nil, nil); err == nil {
		t.Error("length mismatch accepted")
	}
	if _, err := ComputeAt([]float64{0.1}, []bool{true}, []float64{2}, nil); err == nil {
		t.Error("precision 2 accepted")
	}
}

func ExampleCompute() {
	scores := []float64{0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05}
	failed := []bool{true, true, false, true, false, false, true, false, false, false}
	s := Compute(scores, failed)
	fmt.Printf("ROC-AUC %.3f, PR-AUC %.3f\n", s.ROCAUC, s.PRAUC)
	// Output: ROC-AUC 0.833, PR-AUC 0.830
}

func ExampleThresholdForPrecision() {
	scores := []float64{0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05}
	failed := []bool{true, true, false, true, false, false, true, false, false, false}
	t, err := ThresholdForPrecision(scores, failed, 0.75)
	if err != nil {
		panic(err)
	}
	fmt.Printf("flag score >= %.2f: %d rows, precision %.2f, recall %.2f\n", t.Value, t.Flagged, t.Precision, t.Recall)
	// Output: flag score >= 0.60: 4 rows, precision 0.75, recall 0.75
}

func ExampleROCAUC() {
	auc, err := ROCAUC([]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true})
	fmt.Println(auc, err)
	// Output: 0.75 <nil>
}
