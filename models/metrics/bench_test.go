package metrics

import (
	"math/rand/v2"
	"testing"
)

func benchData(n int) ([]float64, []bool) {
	r := rand.New(rand.NewPCG(1, 1))
	scores := make([]float64, n)
	labels := make([]bool, n)
	for i := range scores {
		scores[i] = r.Float64()
		labels[i] = r.Float64() < 0.05+0.2*scores[i]
	}
	return scores, labels
}

func BenchmarkROCAUC(b *testing.B) {
	scores, labels := benchData(1_000_000)
	for b.Loop() {
		if _, err := ROCAUC(scores, labels); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompute is the whole Summary (sorting once per metric) on a
// million-row validation window.
func BenchmarkCompute(b *testing.B) {
	scores, labels := benchData(1_000_000)
	for b.Loop() {
		Compute(scores, labels)
	}
}
