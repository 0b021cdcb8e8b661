package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/failcast/failcast/models"
)

// exactNode is a node of a brute-force exact-greedy tree.
type exactNode struct {
	rows        []int // ascending
	feature     int   // -1 for a leaf
	left, right *exactNode
	value       float64
}

// exactTree grows a depth-limited tree by trying every threshold between
// consecutive distinct values of every feature, sorting rows per node and
// feature: the textbook algorithm the histogram grower must agree with
// when every feature has fewer distinct values than bins.
func exactTree(X models.Matrix, grads []gradPair, rows []int, depth, maxDepth int, rule splitRule, lr float64) *exactNode {
	var g, h float64
	for _, r := range rows {
		g += float64(grads[r].g)
		h += float64(grads[r].h)
	}
	n := &exactNode{rows: rows, feature: -1, value: -g / (h + rule.lambda) * lr}
	if depth >= maxDepth || len(rows) < 2 {
		return n
	}
	bestGain, bestF := 0.0, -1
	var bestThr float32
	for f := 0; f < X.Cols; f++ {
		sorted := slices.Clone(rows)
		slices.SortStableFunc(sorted, func(a, b int) int {
			va, vb := X.At(a, f), X.At(b, f)
			switch {
			case va < vb:
				return -1
			case va > vb:
				return 1
			}
			return 0
		})
		var gl, hl float64
		for i := 0; i+1 < len(sorted); i++ {
			gl += float64(grads[sorted[i]].g)
			hl += float64(grads[sorted[i]].h)
			v, next := X.At(sorted[i], f), X.At(sorted[i+1], f)
			if v == next || !rule.allowed(hl, h-hl) {
				continue
			}
			gain := rule.gain(g, h, gl, hl)
			if gain > rule.minSplitGain && gain > minGain && gain > bestGain {
				bestGain, bestF, bestThr = gain, f, v
			}
		}
	}
	if bestF < 0 {
		return n
	}
	var left, right []int
	for _, r := range rows {
		if X.At(r, bestF) <= bestThr {
			left = append(left, r)
		} else {
			right = append(right, r)
		}
	}
	n.feature = bestF
	n.left = exactTree(X, grads, left, depth+1, maxDepth, rule, lr)
	n.right = exactTree(X, grads, right, depth+1, maxDepth, rule, lr)
	return n
}

// compareTrees checks that our flat tree node sends exactly the rows of
// the exact tree's node left and right, down to equal leaves.
func compareTrees(t *testing.T, X models.Matrix, got *tree, node int32, want *exactNode, path string) {
	t.Helper()
	if want.feature < 0 {
		if got.left[node] >= 0 {
			t.Errorf("%s: histogram tree splits on feature %d, exact tree has a leaf", path, got.feature[node])
			return
		}
		if math.Abs(got.value[node]-want.value) > 1e-9*math.Max(1, math.Abs(want.value)) {
			t.Errorf("%s: leaf value %v, exact %v", path, got.value[node], want.value)
		}
		return
	}
	if got.left[node] < 0 {
		t.Errorf("%s: histogram tree has a leaf, exact tree splits on feature %d", path, want.feature)
		return
	}
	if int(got.feature[node]) != want.feature {
		t.Errorf("%s: split on feature %d, exact tree picks %d", path, got.feature[node], want.feature)
		return
	}
	var left []int
	for _, r := range want.rows {
		if X.At(r, want.feature) <= got.threshold[node] {
			left = append(left, r)
		}
	}
	if !slices.Equal(left, want.left.rows) {
		t.Errorf("%s: threshold %v sends %d rows left, exact split sends %d", path, got.threshold[node], len(left), len(want.left.rows))
		return
	}
	compareTrees(t, X, got, got.left[node], want.left, path+"L")
	compareTrees(t, X, got, got.right[node], want.right, path+"R")
}

// TestMatchesExactGreedy checks the histogram grower (binning, histogram
// subtraction, split search) against brute force on small data where
// binning loses nothing.
func TestMatchesExactGreedy(t *testing.T) {
	tests := []struct {
		name                 string
		rows, cols, maxDepth int
		distinct             int // values per feature
		lambda, mcw          float64
	}{
		{"continuous depth 3", 200, 4, 3, 0, 1, 1},
		{"continuous depth 5", 250, 3, 5, 0, 0.5, 0.1}, // <= 255 rows: one bin per value
		{"few distinct values", 300, 5, 4, 7, 2, 1},
		{"no regularisation", 150, 3, 4, 20, 0, 0},
		// Large enough for parallel histograms and ordered gradients.
		{"20k rows depth 6", 20000, 6, 6, 60, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(21, uint64(tc.rows)))
			X := models.NewMatrix(tc.rows, tc.cols)
			for i := range X.Data {
				v := rng.Float64()
				if tc.distinct > 0 {
					v = float64(rng.IntN(tc.distinct))
				}
				X.Data[i] = float32(v)
			}
			y := make([]float32, tc.rows)
			for i := range y {
				x := X.Row(i)
				z := 3*float64(x[0]) - 2*float64(x[1]) + 0.5*rng.NormFloat64()
				if tc.distinct > 0 {
					z = float64(x[0]) - float64(x[1]) + rng.NormFloat64()
				}
				if z > 0.4 {
					y[i] = 1
				}
			}
			p := DefaultParams()
			p.NumRounds, p.MaxDepth, p.LearningRate, p.Lambda, p.MinChildWeight = 1, tc.maxDepth, 1, tc.lambda, tc.mcw
			m := fit(t, p, Dataset{X: X, Y: y}, nil)

			// The same first-round gradients Fit computed.
			w := rowWeights(Dataset{X: X, Y: y}, nil)
			scores := make([]float64, tc.rows)
			base := baseScores(p, y, w)
			for i := range scores {
				scores[i] = base[0]
			}
			grads := [][]gradPair{make([]gradPair, tc.rows)}
			computeGradients(Binary, 1, scores, y, w, grads, true, 1)
			rows := make([]int, tc.rows)
			for i := range rows {
				rows[i] = i
			}
			rule := splitRule{lambda: p.Lambda, minChildWeight: p.MinChildWeight, minSplitGain: p.MinSplitGain}
			want := exactTree(X, grads[0], rows, 0, tc.maxDepth, rule, p.LearningRate)
			if want.feature < 0 {
				t.Fatal("exact tree did not split: test data too weak")
			}
			if n := m.trees[0].numNodes(); n < 7 {
				t.Fatalf("tree has %d nodes: too shallow to exercise histogram subtraction", n)
			}
			compareTrees(t, X, &m.trees[0], 0, want, "root")
		})
	}
}
