package gbdt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/failcast/failcast/models"
)

// TestPredictRawMatchesTreeWalks checks both prediction layouts (complete
// heaps up to maxHeapDepth, the general one beyond) against walking every
// tree node by node: bit-identical scores for random trees of every
// shape, row counts around the block and unroll sizes, and values that
// are NaN, infinite or equal to a threshold.
func TestPredictRawMatchesTreeWalks(t *testing.T) {
	const cols = 7
	for _, depth := range []int{0, 1, 3, 6, maxHeapDepth, maxHeapDepth + 1, 11} {
		for _, obj := range []Objective{Binary, Softmax} {
			m := randomModel(uint64(depth+1), obj, cols, 12, depth)
			heaps := 0
			for i := range m.trees {
				if m.forest.heapRoot[i] >= 0 {
					heaps++
				}
			}
			if (depth <= maxHeapDepth) != (heaps == len(m.trees)) {
				t.Fatalf("depth %d: %d of %d trees laid out complete", depth, heaps, len(m.trees))
			}
			for _, rows := range []int{1, 3, 4, 5, 63, 64, 65, 130, 1000} {
				t.Run(fmt.Sprintf("depth%d/%v/rows%d", depth, obj, rows), func(t *testing.T) {
					X := edgyMatrix(m, rows, cols, uint64(rows))
					got := m.PredictRaw(X)
					k := m.numOutputs
					for r := range rows {
						for c := range k {
							want := m.baseScore[c]
							for i := c; i < len(m.trees); i += k {
								want += m.trees[i].predictRow(X.Row(r))
							}
							if g := got[r*k+c]; math.Float64bits(g) != math.Float64bits(want) {
								t.Fatalf("row %d output %d: %v, want %v (row %v)", r, c, g, want, X.Row(r))
							}
						}
					}
				})
			}
		}
	}
}

// edgyMatrix draws values in [-1.2, 1.2] with one in eight NaN, ±Inf or
// exactly one of m's thresholds.
func edgyMatrix(m *Model, rows, cols int, seed uint64) models.Matrix {
	rng := rand.New(rand.NewPCG(seed, 11))
	var thresholds []float32
	for i := range m.trees {
		for n, l := range m.trees[i].left {
			if l >= 0 {
				thresholds = append(thresholds, m.trees[i].threshold[n])
			}
		}
	}
	X := models.Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
	for i := range X.Data {
		X.Data[i] = float32(rng.Float64()*2.4 - 1.2)
		switch rng.IntN(32) {
		case 0:
			X.Data[i] = float32(math.NaN())
		case 1:
			X.Data[i] = float32(math.Inf(1))
		case 2:
			X.Data[i] = float32(math.Inf(-1))
		case 3:
			if len(thresholds) > 0 {
				X.Data[i] = thresholds[rng.IntN(len(thresholds))]
			}
		}
	}
	return X
}
