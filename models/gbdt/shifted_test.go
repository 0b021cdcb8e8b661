package gbdt

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestShiftedLogLoss: the loss is the minimum over intercepts (a grid
// search finds none lower) and does not change when every score moves by
// the same amount, which is what makes it blind to a base-rate shift.
func TestShiftedLogLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 2000
	scores, y, w := make([]float64, n), make([]float32, n), make([]float32, n)
	for i := range n {
		scores[i] = rng.NormFloat64()
		if rng.Float64() < sigmoid(1.5*scores[i]+1) { // a base rate far from the scores'
			y[i] = 1
		}
		w[i] = float32(1 + rng.IntN(3))
	}
	for _, weights := range [][]float32{nil, w} {
		loss, b := shiftedLogLoss(scores, y, weights, 0, 2)
		at := func(b float64) float64 {
			var s, sw float64
			for i := range scores {
				wi := 1.0
				if weights != nil {
					wi = float64(weights[i])
				}
				s += wi * binaryLoss(scores[i]+b, float64(y[i]))
				sw += wi
			}
			return s / sw
		}
		for g := -3.0; g <= 3; g += 0.01 {
			if l := at(g); l < loss-1e-12 {
				t.Fatalf("weights %v: intercept %.2f gives %.6f, below the shifted loss %.6f (b=%.4f)", weights != nil, g, l, loss, b)
			}
		}
		if plain := at(0); !(loss < plain) {
			t.Errorf("shifted loss %.6f not below the plain %.6f for shifted labels", loss, plain)
		}
		moved := make([]float64, n)
		for i, s := range scores {
			moved[i] = s - 2.5
		}
		loss2, b2 := shiftedLogLoss(moved, y, weights, 0, 2)
		if math.Abs(loss2-loss) > 1e-9 || math.Abs(b2-(b+2.5)) > 1e-6 {
			t.Errorf("scores moved by -2.5: loss %.9f (was %.9f), b %.6f (was %.6f)", loss2, loss, b2, b)
		}
	}
}
