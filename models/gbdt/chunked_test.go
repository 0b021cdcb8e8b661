package gbdt

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/models"
)

// columns returns X column-major.
func columns(X models.Matrix) [][]float32 {
	cols := make([][]float32, X.Cols)
	for f := range cols {
		cols[f] = make([]float32, X.Rows)
		for i := range X.Rows {
			cols[f][i] = X.At(i, f)
		}
	}
	return cols
}

// TestBinnedBuilderFitsLikeFloatRows checks that a model trained on
// rows binned chunk by chunk (with the edges Fit would compute) is the
// model Fit trains on the float rows, byte for byte, with and without
// weights and whatever the chunking.
func TestBinnedBuilderFitsLikeFloatRows(t *testing.T) {
	X := uniformMatrix(3000, 6, 7)
	// A constant column and a few distinct values: edge cases of binning.
	for i := range X.Rows {
		X.Data[i*X.Cols+4] = 3
		X.Data[i*X.Cols+5] = float32(i % 5)
	}
	y := labelBy(X, func(r []float32) bool { return r[0]+0.5*r[1]*r[5] > 0.3 })
	weights := make([]float32, X.Rows)
	for i := range weights {
		weights[i] = float32(1 + i%3)
	}
	for _, tc := range []struct {
		name   string
		chunk  int
		weight []float32
	}{
		{"one chunk", 3000, nil},
		{"chunks of 700", 700, nil},
		{"weighted, chunks of 1", 1, weights},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultParams()
			p.NumRounds = 15
			p.BinSampleRows = 1000 // a sample, drawn the same way by both
			want, err := Fit(context.Background(), p, Dataset{X: X, Y: y, Weight: tc.weight}, nil)
			if err != nil {
				t.Fatal(err)
			}
			binner, err := NewBinner(context.Background(), p, columns(X))
			if err != nil {
				t.Fatal(err)
			}
			bb := binner.NewBuilder()
			for lo := 0; lo < X.Rows; lo += tc.chunk {
				hi := min(lo+tc.chunk, X.Rows)
				if err := bb.AppendColumns(columns(X.Slice(lo, hi)), nil, y[lo:hi]); err != nil {
					t.Fatal(err)
				}
			}
			ds := bb.Dataset(tc.weight)
			// The bins are those of the float rows.
			floatBins, err := binAll(context.Background(), X, binner.bm, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(ds.binned.bins.cols, floatBins.cols, slices.Equal) {
				t.Fatal("binned chunks: bins differ from the float rows'")
			}
			got, err := Fit(context.Background(), p, ds, nil)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := want.MarshalBinary()
			b, _ := got.MarshalBinary()
			if !bytes.Equal(a, b) {
				t.Fatalf("the model trained on binned chunks differs from Fit's on the float rows")
			}
		})
	}
}

// TestBinnedBuilderFilterAndSelect checks row selection on append and
// Filter afterwards: the result trains like the selected float rows.
func TestBinnedBuilderFilterAndSelect(t *testing.T) {
	X := uniformMatrix(2000, 4, 3)
	y := labelBy(X, func(r []float32) bool { return r[0] > 0.2 })
	p := DefaultParams()
	p.NumRounds = 10
	binner, err := NewBinner(context.Background(), p, columns(X))
	if err != nil {
		t.Fatal(err)
	}
	// Append the even rows, then drop every row whose index in the
	// builder is a multiple of 3: rows 0, 2, 4 (k=0,1,2) -> keep k=1,2.
	var even []int32
	var yEven []float32
	for i := 0; i < X.Rows; i += 2 {
		even = append(even, int32(i))
		yEven = append(yEven, y[i])
	}
	bb := binner.NewBuilder()
	if err := bb.AppendColumns(columns(X), even, yEven); err != nil {
		t.Fatal(err)
	}
	if n := bb.Filter(func(k int) bool { return k%3 != 0 }); n != len(even)-(len(even)+2)/3 {
		t.Fatalf("Filter kept %d rows", n)
	}
	var rows []int
	for k, i := range even {
		if k%3 != 0 {
			rows = append(rows, int(i))
		}
	}
	ref := binner.NewBuilder()
	sub := X.SelectRows(rows)
	ySub := make([]float32, len(rows))
	for k, i := range rows {
		ySub[k] = y[i]
	}
	if err := ref.AppendRows(sub, ySub); err != nil {
		t.Fatal(err)
	}
	a, err := Fit(context.Background(), p, bb.Dataset(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Fit(context.Background(), p, ref.Dataset(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	ab, _ := a.MarshalBinary()
	bbin, _ := b.MarshalBinary()
	if !bytes.Equal(ab, bbin) {
		t.Fatal("selected-then-filtered rows train another model than the same rows appended directly")
	}
}

// bigColumn is a column of 80,000 counting values with a NaN at row at.
func bigColumn(nan float32, at int) []float32 {
	col := make([]float32, 80_000)
	for i := range col {
		col[i] = float32(i % 7)
	}
	col[at] = nan
	return col
}

func TestBinnedBuilderErrors(t *testing.T) {
	p := DefaultParams()
	binner, err := NewBinner(context.Background(), p, [][]float32{{1, 2, 3}, {4, 5, 6}})
	if err != nil {
		t.Fatal(err)
	}
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		cols [][]float32
		rows []int32
		y    []float32
		want string
	}{
		{"columns", [][]float32{{1}}, nil, []float32{0}, "1 columns, want 2"},
		{"labels", [][]float32{{1, 2}, {3, 4}}, nil, []float32{0}, "1 labels for 2 rows"},
		{"NaN", [][]float32{{1, 2}, {3, nan}}, nil, []float32{0, 1}, "row 1 column 1 is NaN"},
		{"NaN in a selected row", [][]float32{{1, nan}, {3, 4}}, []int32{1}, []float32{0}, "row 1 column 0 is NaN"},
		{"row beyond", [][]float32{{1, 2}, {3, 4}}, []int32{2}, []float32{0}, "row 2 beyond"},
		// Chunks of parallelBinValues values and more are binned column by
		// column on several goroutines: the error is still the first
		// column's, and nothing is appended.
		{"NaN in two columns of a large chunk", [][]float32{bigColumn(nan, 70_000), bigColumn(nan, 40_000)}, nil,
			make([]float32, 80_000), "row 70000 column 0 is NaN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bb := binner.NewBuilder()
			err := bb.AppendColumns(tc.cols, tc.rows, tc.y)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if bb.Rows() != 0 {
				t.Fatalf("a failed append left %d rows", bb.Rows())
			}
		})
	}
	if _, err := NewBinner(context.Background(), p, [][]float32{{1, nan}}); err == nil || !strings.Contains(err.Error(), "row 1 column 0 is NaN") {
		t.Fatalf("NewBinner with NaN: %v", err)
	}
	// A binned set is for training only.
	bb := binner.NewBuilder()
	if err := bb.AppendColumns([][]float32{{1, 2}, {3, 4}}, nil, []float32{0, 1}); err != nil {
		t.Fatal(err)
	}
	ds := bb.Dataset(nil)
	if _, err := Fit(context.Background(), p, Dataset{X: models.Matrix{Rows: 2, Cols: 2, Data: []float32{1, 2, 3, 4}}, Y: []float32{0, 1}}, &ds); err == nil {
		t.Fatal("a binned validation set was accepted")
	}
}
