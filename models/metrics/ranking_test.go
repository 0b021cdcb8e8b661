package metrics

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// rankingBySort is ranking as first written: the rows sorted together by
// descending score, a step closed at the end of every tie.
func rankingBySort(scores []float64, labels []bool) (steps []step, pos, neg int) {
	type row struct {
		score float64
		label bool
	}
	rows := make([]row, len(scores))
	for i, s := range scores {
		rows[i] = row{s, labels[i]}
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Compare(b.score, a.score) })
	tp, fp := 0, 0
	for k, r := range rows {
		if r.label {
			tp++
		} else {
			fp++
		}
		if k+1 == len(rows) || rows[k+1].score != r.score {
			steps = append(steps, step{score: r.score, tp: tp, fp: fp})
		}
	}
	return steps, tp, fp
}

func TestRankingMatchesOneSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	inf := math.Inf(1)
	tests := []struct {
		name   string
		scores []float64
		labels []bool
	}{
		{"one row", []float64{0.5}, []bool{true}},
		{"only negatives", []float64{0.1, 0.1, 0.3}, []bool{false, false, false}},
		{"ties across classes", []float64{0.2, 0.2, 0.2, 0.7, 0.7, 0.1}, []bool{true, false, true, false, false, true}},
		{"infinities", []float64{inf, -inf, 0, inf, 1}, []bool{true, false, false, false, true}},
	}
	for _, n := range []int{1000, 100_000} {
		scores, labels := make([]float64, n), make([]bool, n)
		for i := range scores {
			scores[i] = math.Round(rng.Float64()*200) / 200 // many ties
			labels[i] = rng.Float64() < 0.1+0.5*scores[i]
		}
		tests = append(tests, struct {
			name   string
			scores []float64
			labels []bool
		}{"random with ties", scores, labels})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, gp, gn := ranking(tt.scores, tt.labels)
			want, wp, wn := rankingBySort(tt.scores, tt.labels)
			if gp != wp || gn != wn || !slices.Equal(got, want) {
				t.Fatalf("ranking: %d steps, %d/%d; want %d steps, %d/%d", len(got), gp, gn, len(want), wp, wn)
			}
		})
	}
}

func BenchmarkRanking(b *testing.B) {
	scores, labels := benchData(722_000)
	for b.Loop() {
		ranking(scores, labels)
	}
}
