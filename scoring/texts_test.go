package scoring

import (
	"testing"

	"github.com/failcast/failcast/pipeline"
)

// TestThroughputTextKept: the throughput sentence kept for repeated
// values is the one built afresh, for every rate, wording and
// throughput, and the kept sentences stay within maxRowTexts.
func TestThroughputTextKept(t *testing.T) {
	send := pipeline.PlannedSend{SendID: "s"}
	var texts rowTexts
	for _, mps := range []float64{80, 12.5} {
		for i := range 2 * maxRowTexts {
			for _, what := range []string{"campaign planned at", "number's sends scheduled at"} {
				rate := 80 + float64(i%(maxRowTexts+7))*0.37
				fresh := row{send: &send, throughput: mps}.throughputText(what, rate)
				kept := row{send: &send, throughput: mps, texts: &texts}.throughputText(what, rate)
				if kept != fresh {
					t.Fatalf("rate %v, %q: kept %q, want %q", rate, what, kept, fresh)
				}
			}
		}
	}
	if n := len(texts.throughput); n != maxRowTexts {
		t.Fatalf("%d sentences kept, want the bound %d", n, maxRowTexts)
	}
	if got := (row{send: &send, throughput: 80}).throughputText("campaign planned at", 150); got != "campaign planned at 150.0 mps, above the number's throughput of 80.0 mps; throughput limit (130429) likely" {
		t.Fatalf("sentence %q", got)
	}
}
