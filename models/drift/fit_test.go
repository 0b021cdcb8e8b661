package drift

import (
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"

	"github.com/failcast/failcast/models"
)

// fitBySorting is Fit as it was first written: each column sampled at the
// stride, converted to float64, comparison-sorted, and every value binned
// by search. Fit must give the same reference.
func fitBySorting(X models.Matrix, names []string, bins int) *Reference {
	stride := max(1, (X.Rows+maxFitRows-1)/maxFitRows)
	ref := &Reference{Rows: X.Rows, Features: make([]Feature, X.Cols)}
	for j := 0; j < X.Cols; j++ {
		var col []float64
		nan, n := 0, 0
		for i := 0; i < X.Rows; i += stride {
			n++
			v := float64(X.Data[i*X.Cols+j])
			if math.IsNaN(v) {
				nan++
				continue
			}
			col = append(col, v)
		}
		sort.Float64s(col)
		f := Feature{Name: names[j], Missing: float64(nan) / float64(n)}
		if len(col) > 0 {
			f.Edges = append(f.Edges, math.Nextafter(col[0], math.Inf(-1)))
			for k := 1; k <= bins; k++ {
				if e := col[(len(col)-1)*k/bins]; e > f.Edges[len(f.Edges)-1] {
					f.Edges = append(f.Edges, e)
				}
			}
		}
		f.Shares = make([]float64, len(f.Edges)+1)
		for _, v := range col {
			f.Shares[bin(f.Edges, v)]++
		}
		for k := range f.Shares {
			f.Shares[k] /= float64(n)
		}
		ref.Features[j] = f
	}
	return ref
}

func TestFitMatchesSortingEveryValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	nan := float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	// Column kinds: the shapes feature columns take.
	kinds := []func(i int) float32{
		func(int) float32 { return float32(rng.NormFloat64()) },                    // continuous
		func(int) float32 { return float32(rng.IntN(4)) },                          // small counts
		func(int) float32 { return 1 },                                             // constant
		func(int) float32 { return nan },                                           // all missing
		func(i int) float32 { return []float32{nan, 0, negZero, 2}[i%4] },          // NaN and both zeros
		func(int) float32 { return float32(rng.ExpFloat64() * 1e6) },               // long tail
		func(i int) float32 { return float32(i) },                                  // increasing (stride visible)
		func(int) float32 { return float32(math.Inf(2*rng.IntN(2) - 1)) },          // infinities
		func(int) float32 { return float32(rng.IntN(2)) * float32(rng.Float64()) }, // zero-inflated
	}
	tests := []struct {
		name       string
		rows, cols int
		bins       int
	}{
		{"one row", 1, 9, Bins},
		{"fewer rows than bins", 7, 9, Bins},
		{"more columns than a group", 5000, 40, Bins},
		{"two bins", 3000, 9, 2},
		{"sampled at a stride", maxFitRows + maxFitRows/3, 18, Bins},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			X := models.Matrix{Rows: tt.rows, Cols: tt.cols, Data: make([]float32, tt.rows*tt.cols)}
			names := make([]string, tt.cols)
			for j := range names {
				names[j] = string(rune('a' + j%26))
				kind := kinds[j%len(kinds)]
				for i := range tt.rows {
					X.Data[i*tt.cols+j] = kind(i)
				}
			}
			got, err := Fit(X, names, tt.bins)
			if err != nil {
				t.Fatal(err)
			}
			want := fitBySorting(X, names, tt.bins)
			for j := range want.Features {
				if !reflect.DeepEqual(got.Features[j], want.Features[j]) {
					t.Fatalf("column %d: got %+v, want %+v", j, got.Features[j], want.Features[j])
				}
			}
			if got.Rows != want.Rows {
				t.Fatalf("rows %d, want %d", got.Rows, want.Rows)
			}
		})
	}
}

func BenchmarkFit(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	const rows, cols = maxFitRows, 113
	X := models.Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
	for i := range X.Data {
		switch i % 3 {
		case 0:
			X.Data[i] = float32(rng.NormFloat64())
		case 1:
			X.Data[i] = float32(rng.IntN(5))
		default:
			X.Data[i] = float32(rng.ExpFloat64())
		}
	}
	names := make([]string, cols)
	for b.Loop() {
		if _, err := Fit(X, names, Bins); err != nil {
			b.Fatal(err)
		}
	}
}
