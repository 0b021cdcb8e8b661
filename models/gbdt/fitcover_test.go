package gbdt

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/models"
)

// edgyValid is a validation set for a model trained on uniformMatrix rows
// whose column 5 takes the values 0..4: one value in ten NaN, some
// infinite or far outside the training range, and column 5 often exactly
// on its bin edges (0.5, 1.5, ...), where "bin <= b" and "value <= edge"
// must agree.
func edgyValid(rows, cols int, seed uint64) models.Matrix {
	X := uniformMatrix(rows, cols, seed)
	rng := rand.New(rand.NewPCG(seed, 5))
	for i := range X.Data {
		switch rng.IntN(20) {
		case 0, 1:
			X.Data[i] = float32(math.NaN())
		case 2:
			X.Data[i] = float32(math.Inf(1 - 2*rng.IntN(2)))
		case 3:
			X.Data[i] = float32(rng.NormFloat64() * 10)
		}
	}
	for r := range X.Rows {
		if rng.IntN(2) == 0 {
			X.Data[r*cols+5] = float32(rng.IntN(6)) - 0.5
		}
	}
	return X
}

// fitCoverCases are the fits whose counts must equal SetCover's: binary
// and softmax (with a class no row has), subsampled rows and features,
// weighted, early-stopped (trees dropped after the fit), and trained on a
// CodedBuilder's set.
func fitCoverCases(t *testing.T) []struct {
	name  string
	p     Params
	train Dataset
	valid *Dataset
	X     models.Matrix // the float training rows
} {
	X := uniformMatrix(3000, 6, 31)
	for r := range X.Rows {
		X.Data[r*X.Cols+5] = float32(r % 5)
	}
	y := labelBy(X, func(x []float32) bool { return x[0]+x[1]*x[5] > 0.4 })
	y3 := make([]float32, X.Rows) // classes 0 and 2 of 4: 1 and 3 have no row
	for i := range y3 {
		y3[i] = 2 * float32(int(X.At(i, 0)+1)%2)
	}
	w := make([]float32, X.Rows)
	for i := range w {
		w[i] = float32(i % 3) // a third of the rows weigh 0
	}
	V := edgyValid(800, 6, 32)
	vy := labelBy(V, func(x []float32) bool { return x[0]+x[1]*x[5] > 0.4 })

	base := DefaultParams()
	base.NumRounds, base.MaxDepth, base.MaxLeaves = 12, 5, 0
	binary := base
	softmax := base
	softmax.Objective, softmax.NumClass = Softmax, 4
	sub := base
	sub.Subsample, sub.ColSampleByTree = 0.6, 0.7
	leafy := base
	leafy.MaxDepth, leafy.MaxLeaves, leafy.MinChildWeight = 0, 24, 0
	stop := base
	stop.NumRounds, stop.EarlyStoppingRounds, stop.StopOnShiftedLoss = 60, 3, true

	ctx := context.Background()
	cb, err := NewCodedBuilder(base, X.Cols)
	if err != nil {
		t.Fatal(err)
	}
	if err := cb.AppendColumns(columns(X), nil, y); err != nil {
		t.Fatal(err)
	}
	coded, err := cb.Dataset(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	return []struct {
		name  string
		p     Params
		train Dataset
		valid *Dataset
		X     models.Matrix
	}{
		{"binary", binary, Dataset{X: X, Y: y}, nil, X},
		{"softmax, absent classes", softmax, Dataset{X: X, Y: y3}, nil, X},
		{"subsampled", sub, Dataset{X: X, Y: y, Weight: w}, nil, X},
		{"subsampled softmax", func() Params { p := sub; p.Objective, p.NumClass = Softmax, 4; return p }(), Dataset{X: X, Y: y3}, nil, X},
		{"leaf-wise, weighted", leafy, Dataset{X: X, Y: y, Weight: w}, nil, X},
		{"early stopped on NaN rows", stop, Dataset{X: X, Y: y}, &Dataset{X: V, Y: vy}, X},
		{"coded builder", base, coded, &Dataset{X: V, Y: vy}, X},
	}
}

// TestSetFitCoverEqualsSetCover: the counts Fit takes as it grows the
// trees are the cover SetCover and SetCoverDataset count over the
// training rows, node for node.
func TestSetFitCoverEqualsSetCover(t *testing.T) {
	ctx := context.Background()
	for _, tc := range fitCoverCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			m := fit(t, tc.p, tc.train, tc.valid)
			if m.HasCover() {
				t.Fatal("Fit set a cover: SetFitCover should")
			}
			if err := m.SetFitCover(); err != nil {
				t.Fatal(err)
			}
			got := make([][]uint64, len(m.trees))
			for i := range m.trees {
				got[i] = slices.Clone(m.trees[i].cover)
			}
			for _, via := range []string{"SetCover", "SetCoverDataset"} {
				var err error
				if via == "SetCover" {
					err = m.SetCover(ctx, tc.X)
				} else {
					err = m.SetCoverDataset(ctx, tc.train)
				}
				if err != nil {
					t.Fatal(err)
				}
				for i := range m.trees {
					if !slices.Equal(got[i], m.trees[i].cover) {
						t.Fatalf("tree %d: SetFitCover %v, %s %v", i, got[i], via, m.trees[i].cover)
					}
				}
			}
		})
	}
}

// TestSetFitCoverNeedsFit: a model read from a file has no counts from
// Fit; SetFitCover says so and leaves it without cover.
func TestSetFitCoverNeedsFit(t *testing.T) {
	X := uniformMatrix(500, 4, 41)
	p := DefaultParams()
	p.NumRounds, p.MaxDepth = 4, 3
	m := fit(t, p, Dataset{X: X, Y: labelBy(X, func(x []float32) bool { return x[0] > 0 })}, nil)
	loaded, err := Read(bytes.NewReader(modelBytes(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	if err := loaded.SetFitCover(); err == nil || !strings.Contains(err.Error(), "read from a file") {
		t.Errorf("SetFitCover on a read model: error %v", err)
	}
	if loaded.HasCover() {
		t.Error("a failed SetFitCover left a cover")
	}
}

// TestValidLossOnBins: Fit walks the validation rows on their bins; the
// losses it records every round are those of the float rows' walk
// (prediction's), bit for bit, on rows with NaN, infinities, values
// beyond the training range and values exactly on bin edges.
func TestValidLossOnBins(t *testing.T) {
	X := uniformMatrix(3000, 6, 51)
	for r := range X.Rows {
		X.Data[r*X.Cols+5] = float32(r % 5)
	}
	rule := func(x []float32) bool { return x[0]+x[1]*x[5] > 0.4 || x[5] > 3 }
	y := labelBy(X, rule)
	V := edgyValid(1500, 6, 52)
	vy := labelBy(V, rule)
	vw := make([]float32, V.Rows)
	for i := range vw {
		vw[i] = float32(1 + i%4)
	}
	nanRows := 0
	for r := range V.Rows {
		if math.IsNaN(float64(V.At(r, 5))) {
			nanRows++
		}
	}
	if nanRows == 0 {
		t.Fatal("no NaN in the split column: the test would not test NaN")
	}
	for _, obj := range []Objective{Binary, Softmax} {
		p := DefaultParams()
		p.NumRounds, p.MaxDepth, p.Objective = 20, 4, obj
		ty, tvy := y, vy
		if obj == Softmax {
			p.NumClass = 3
			ty, tvy = slices.Clone(y), slices.Clone(vy)
			for i := range ty {
				ty[i] += float32(i % 2 * int(y[i]))
			}
			for i := range tvy {
				tvy[i] += float32(i % 2 * int(vy[i]))
			}
		}
		m := fit(t, p, Dataset{X: X, Y: ty}, &Dataset{X: V, Y: tvy, Weight: vw})
		k := m.numOutputs
		scores := make([]float64, V.Rows*k)
		for i := range scores {
			scores[i] = m.baseScore[i%k]
		}
		for round := range m.NumRounds() {
			addTreesToScores(m.trees[round*k:(round+1)*k], V, scores, 2)
			want := logLoss(obj, k, scores, tvy, vw, 2)
			if got := m.history.Valid[round]; got != want {
				t.Fatalf("%v round %d: validation loss %v, the float rows' %v", obj, round, got, want)
			}
		}
		// The last round's scores are prediction's.
		if got := m.PredictRaw(V); !slices.Equal(got, scores) {
			t.Fatalf("%v: the float walk's scores differ from PredictRaw", obj)
		}
	}
}

// TestShiftedLossWorkers: the shifted validation loss and so the round
// early stopping keeps do not depend on the number of workers.
func TestShiftedLossWorkers(t *testing.T) {
	X := uniformMatrix(40000, 6, 61)
	y := labelBy(X, func(x []float32) bool { return x[0]*x[1] > 0.1 })
	V := edgyValid(40000, 6, 62) // over two blocks of parallelSum
	vy := labelBy(V, func(x []float32) bool { return x[0]*x[1] > 0.1 })
	var first *Model
	for _, workers := range []int{1, 3} {
		p := DefaultParams()
		p.NumRounds, p.MaxDepth, p.EarlyStoppingRounds, p.StopOnShiftedLoss = 15, 3, 3, true
		p.Workers = workers
		m := fit(t, p, Dataset{X: X, Y: y}, &Dataset{X: V, Y: vy})
		if first == nil {
			first = m
			continue
		}
		if !slices.Equal(m.history.Valid, first.history.Valid) || m.bestIteration != first.bestIteration {
			t.Errorf("workers %d: losses %v (best %d), 1 worker: %v (best %d)", workers, m.history.Valid, m.bestIteration, first.history.Valid, first.bestIteration)
		}
	}
}

// shiftedLogLossSerial is shiftedLogLoss as it was, summing row by row
// on one goroutine: the reference of TestShiftedLossBlocks.
func shiftedLogLossSerial(scores []float64, y, w []float32, b0 float64) (loss, b float64) {
	b = b0
	for range 20 {
		var g, h float64
		for i, s := range scores {
			wi := 1.0
			if w != nil {
				wi = float64(w[i])
			}
			q := sigmoid(s + b)
			g += wi * (q - float64(y[i]))
			h += wi * q * (1 - q)
		}
		if !(h > 0) {
			break
		}
		step := g / h
		b -= max(-4, min(4, step))
		if math.Abs(step) < 1e-7 {
			break
		}
	}
	var sum, sumW float64
	for i, s := range scores {
		wi := 1.0
		if w != nil {
			wi = float64(w[i])
		}
		sum += wi * binaryLoss(s+b, float64(y[i]))
		sumW += wi
	}
	if sumW == 0 {
		return 0, b
	}
	return sum / sumW, b
}

// shiftedCase is 100k scores with labels and weights for the shifted
// loss's test and benchmark.
func shiftedCase() (scores []float64, y, w []float32) {
	rng := rand.New(rand.NewPCG(7, 8))
	n := 100_000
	scores, y, w = make([]float64, n), make([]float32, n), make([]float32, n)
	for i := range n {
		scores[i] = 2 * rng.NormFloat64()
		if rng.Float64() < sigmoid(scores[i]-1) {
			y[i] = 1
		}
		w[i] = float32(1 + rng.IntN(5))
	}
	return scores, y, w
}

// TestShiftedLossBlocks: summed in blocks, the shifted loss and its
// intercept are the row-by-row sums' up to rounding.
func TestShiftedLossBlocks(t *testing.T) {
	scores, y, w := shiftedCase()
	for _, weights := range [][]float32{nil, w} {
		want, wantB := shiftedLogLossSerial(scores, y, weights, 0.3)
		for _, workers := range []int{1, 2, 5} {
			got, gotB := shiftedLogLoss(scores, y, weights, 0.3, workers)
			if math.Abs(got-want) > 1e-12*want || math.Abs(gotB-wantB) > 1e-9 {
				t.Errorf("weights %v, %d workers: loss %v b %v, row by row %v b %v", weights != nil, workers, got, gotB, want, wantB)
			}
		}
	}
}

// BenchmarkShiftedLoss: one round's shifted validation loss over 100k
// rows, as it was (serial) and as it is, from an intercept a round
// away.
func BenchmarkShiftedLoss(b *testing.B) {
	scores, y, w := shiftedCase()
	b.Run("serial", func(b *testing.B) {
		for range b.N {
			shiftedLogLossSerial(scores, y, w, 0.9)
		}
	})
	b.Run("blocks", func(b *testing.B) {
		for range b.N {
			shiftedLogLoss(scores, y, w, 0.9, 1)
		}
	})
}
