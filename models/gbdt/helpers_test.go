package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/failcast/failcast/models"
)

// rocAUC is the probability that a random positive outscores a random
// negative (ties count half).
func rocAUC(t *testing.T, scores []float64, y []float32) float64 {
	t.Helper()
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case scores[a] < scores[b]:
			return -1
		case scores[a] > scores[b]:
			return 1
		}
		return 0
	})
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avgRank := float64(i+j+1) / 2 // 1-based average rank of the tie group
		for _, k := range idx[i:j] {
			if y[k] == 1 {
				rankSum += avgRank
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		t.Fatalf("AUC needs both classes (pos %v, neg %v)", pos, neg)
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// uniformMatrix draws an n x cols matrix of values in [-1, 1).
func uniformMatrix(n, cols int, seed uint64) models.Matrix {
	rng := rand.New(rand.NewPCG(seed, 99))
	X := models.NewMatrix(n, cols)
	for i := range X.Data {
		X.Data[i] = float32(2*rng.Float64() - 1)
	}
	return X
}

// labelBy labels every row of X by rule.
func labelBy(X models.Matrix, rule func(row []float32) bool) []float32 {
	y := make([]float32, X.Rows)
	for i := range y {
		if rule(X.Row(i)) {
			y[i] = 1
		}
	}
	return y
}

func meanLogLoss(p []float64, y []float32) float64 {
	s := 0.0
	for i, v := range p {
		q := math.Min(math.Max(v, 1e-15), 1-1e-15)
		if y[i] == 1 {
			s -= math.Log(q)
		} else {
			s -= math.Log(1 - q)
		}
	}
	return s / float64(len(p))
}
