package training

import (
	"strings"
	"testing"

	"github.com/failcast/failcast/models/bundle"
)

func TestThresholdsNeverCollapse(t *testing.T) {
	// 1000 rows: the top 300 (score 0.9..0.6) fail at 90%, the rest never.
	// Precision 0.8 is reached at an alert rate of 30%, far above the 10%
	// budget: the budget threshold is above high. Before the rule, medium
	// was set equal to high and the medium band was empty.
	n := 1000
	scores := make([]float64, n)
	labels := make([]bool, n)
	for i := range scores {
		scores[i] = 0.9 - float64(i)*0.001
		labels[i] = i < 300 && i%10 != 0
	}
	tests := []struct {
		name      string
		trainRate float64
		wantWarn  bool // the base-rate shift warning
	}{
		{"no shift", 0.27, false},
		{"base-rate shift", 0.05, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTrainer(DefaultConfig())
			th, warnings := tr.thresholds(scores, labels, tc.trainRate)
			high, medium := th[bundle.ThresholdHigh], th[bundle.ThresholdMedium]
			if !high.Reached || !(medium.Value < high.Value) || medium.Flagged <= high.Flagged {
				t.Fatalf("high %+v, medium %+v: want medium strictly below high, flagging more", high, medium)
			}
			got := strings.Join(warnings, "\n")
			if strings.Contains(got, "failure rate shifted") != tc.wantWarn {
				t.Fatalf("warnings %q, want the base-rate shift warning: %v", got, tc.wantWarn)
			}
		})
	}
}

func TestThresholdsWarnOnFewPositives(t *testing.T) {
	// 20 failures among 2000: high flags at most 20 failed sends.
	n := 2000
	scores := make([]float64, n)
	labels := make([]bool, n)
	for i := range scores {
		scores[i] = 1 - float64(i)/float64(n)
		labels[i] = i < 20
	}
	tr := newTrainer(DefaultConfig())
	th, warnings := tr.thresholds(scores, labels, 0.01)
	got := strings.Join(warnings, "\n")
	for _, want := range []string{"cannot support the target precision", "few failed sends in the validation window"} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings %q lack %q", got, want)
		}
	}
	if !(th[bundle.ThresholdMedium].Value < th[bundle.ThresholdHigh].Value) {
		t.Errorf("medium %v not below high %v", th[bundle.ThresholdMedium].Value, th[bundle.ThresholdHigh].Value)
	}
}

// TestThresholdsWarnOnPrecisionInterval: the high threshold is the
// lowest reaching the target precision on validation, so its precision
// often sits within sampling error of the target; train says so when the
// 95% interval reaches below the target. Before, a validation precision
// of 0.80 on a few hundred flagged sends passed silently, and the plan
// came out at 0.785.
func TestThresholdsWarnOnPrecisionInterval(t *testing.T) {
	const warning = "95% interval of the high threshold's validation precision reaches below the target"
	tests := []struct {
		name     string
		top      int  // rows that fail at rate topRate, scores descending
		topRate  int  // one in topRate of them does not fail
		tied     bool // the other rows share one score below them (else descending)
		wantWarn bool
	}{
		// 300 rows at 90%, then rows that never fail with lower scores:
		// high extends to 337 rows at precision 0.801.
		{"precision at the target", 300, 10, false, true},
		// 600 rows at 95%, then a tied block that never fails: high
		// stops at the 600 rows, precision 0.95.
		{"precision well above the target", 600, 20, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 3000
			scores := make([]float64, n)
			labels := make([]bool, n)
			for i := range scores {
				scores[i] = 0.9 - float64(i)*0.0001
				if tc.tied && i >= tc.top {
					scores[i] = 0.01
				}
				labels[i] = i < tc.top && i%tc.topRate != 0
			}
			tr := newTrainer(DefaultConfig())
			rate := float64(count(labels)) / float64(n)
			_, warnings := tr.thresholds(scores, labels, rate)
			got := strings.Join(warnings, "\n")
			if strings.Contains(got, warning) != tc.wantWarn {
				t.Fatalf("warnings %q; want the precision interval warning: %v", got, tc.wantWarn)
			}
		})
	}
}
