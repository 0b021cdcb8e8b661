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
		wantWarn  string
	}{
		{"no shift", 0.27, ""},
		{"base-rate shift", 0.05, "failure rate shifted"},
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
			if tc.wantWarn == "" && got != "" || !strings.Contains(got, tc.wantWarn) {
				t.Fatalf("warnings %q, want %q", got, tc.wantWarn)
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
