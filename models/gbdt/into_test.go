package gbdt

import (
	"slices"
	"testing"
)

// The Into variants give the allocating predictions' values, in the
// buffers they are given when those are long enough.
func TestPredictIntoMatchesPredict(t *testing.T) {
	X := uniformMatrix(1200, 3, 7)
	y := make([]float32, X.Rows)
	for i := range y {
		y[i] = float32(int(X.At(i, 0)*3+3) % 3)
	}
	pb := DefaultParams()
	pb.NumRounds, pb.MaxDepth = 10, 3
	yb := make([]float32, X.Rows)
	for i := range yb {
		yb[i] = min(y[i], 1)
	}
	bin := fit(t, pb, Dataset{X: X, Y: yb}, nil)
	ps := pb
	ps.Objective, ps.NumClass = Softmax, 3
	soft := fit(t, ps, Dataset{X: X, Y: y}, nil)

	var raw, proba, multi, multiRaw []float64
	// Largest first: the later, smaller batches reuse the buffers.
	for _, rows := range [][2]int{{0, X.Rows}, {0, 5}, {300, 1000}, {X.Rows - 1, X.Rows}, {0, 0}} {
		sub := X.Slice(rows[0], rows[1])
		first := rows == [2]int{0, X.Rows}
		for _, m := range []*Model{bin, soft} {
			prev := raw
			raw = m.PredictRawInto(raw, sub)
			if !slices.Equal(raw, m.PredictRaw(sub)) {
				t.Fatalf("%v rows %v: PredictRawInto differs from PredictRaw", m.Objective(), rows)
			}
			if !first && len(raw) > 0 && &raw[:1][0] != &prev[:1][0] {
				t.Fatalf("%v rows %v: PredictRawInto did not reuse its buffer", m.Objective(), rows)
			}
			multi, multiRaw = m.PredictProbaMultiInto(multi, multiRaw, sub)
			want := m.PredictProbaMulti(sub)
			if len(multi) != len(want)*m.NumClass() {
				t.Fatalf("%v rows %v: %d probabilities for %d rows", m.Objective(), rows, len(multi), len(want))
			}
			for i, row := range want {
				if !slices.Equal(multi[i*m.NumClass():(i+1)*m.NumClass()], row) {
					t.Fatalf("%v rows %v, row %d: PredictProbaMultiInto differs from PredictProbaMulti", m.Objective(), rows, i)
				}
			}
		}
		proba = bin.PredictProbaInto(proba, sub)
		if !slices.Equal(proba, bin.PredictProba(sub)) {
			t.Fatalf("rows %v: PredictProbaInto differs from PredictProba", rows)
		}
	}
}
