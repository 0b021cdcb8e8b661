package gbdt

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/models"
)

// codeValues are values at the edges of float32: infinities, zeros of
// both signs, subnormals, the largest finite values, and neighbours that
// share a code or not.
var codeValues = []float32{
	float32(math.Inf(-1)), -math.MaxFloat32, -1e30, -2, -1.0078125, -1, -0.5, -math.SmallestNonzeroFloat32 * 3,
	-math.SmallestNonzeroFloat32, float32(math.Copysign(0, -1)), 0, math.SmallestNonzeroFloat32,
	math.SmallestNonzeroFloat32 * 3, 1e-30, 0.5, 1, 1.001, 1.0078125, 1.01, 2, 6, 7, 255, 256, 257, 1e30,
	math.MaxFloat32, float32(math.Inf(1)),
}

func TestValueCodeOrdersAsValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := slices.Clone(codeValues)
	for range 2000 {
		v := math.Float32frombits(rng.Uint32())
		if v == v {
			vals = append(vals, v)
		}
	}
	for _, a := range vals {
		ca := ValueCode(a)
		// v <= CodeTop(c) exactly when ValueCode(v) <= c: at a's code and
		// its neighbours.
		for _, c := range []uint16{ca - 1, ca, ca + 1} {
			if c >= posInfCode+1 || c < 0x7f { // NaN codes
				continue
			}
			top := CodeTop(c)
			if ValueCode(top) != c && !(c == 0x7fff && top == -math.SmallestNonzeroFloat32) {
				t.Fatalf("CodeTop(%#x) = %v has code %#x", c, top, ValueCode(top))
			}
			for _, b := range vals {
				if (b <= top) != (ValueCode(b) <= c) {
					t.Fatalf("value %v (code %#x) against CodeTop(%#x) = %v: <= is %v", b, ValueCode(b), c, top, b <= top)
				}
			}
		}
		for _, b := range vals {
			if a < b && ca > ValueCode(b) {
				t.Fatalf("%v < %v but codes %#x > %#x", a, b, ca, ValueCode(b))
			}
			if a == b && ca != ValueCode(b) {
				t.Fatalf("%v == %v but codes %#x, %#x", a, b, ca, ValueCode(b))
			}
		}
	}
	if ValueCode(1) == ValueCode(1.0078125) || ValueCode(1) != ValueCode(1.001) {
		t.Fatal("codes keep 7 bits of the mantissa: 1 and 1+1/128 differ, 1 and 1.001 do not")
	}
}

// columns returns X's columns: columns(X)[f][i] is X.At(i, f).
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

// codedSet builds a CodedBuilder from column-major chunks.
func codedSet(t *testing.T, p Params, chunks [][][]float32) *CodedBuilder {
	t.Helper()
	cb, err := NewCodedBuilder(p, len(chunks[0]))
	if err != nil {
		t.Fatal(err)
	}
	for _, cols := range chunks {
		if err := cb.AppendColumns(cols, nil, make([]float32, len(cols[0]))); err != nil {
			t.Fatal(err)
		}
	}
	return cb
}

// TestCodedBuilderBinsTheWholeRange: a feature whose values move over the
// set (a day of the week in time order) gets a bin per value, which edges
// from the set's first rows cannot give; every row's bin is the one its
// raw value falls in against the edges, so splits on raw values send each
// row as in training.
func TestCodedBuilderBinsTheWholeRange(t *testing.T) {
	ctx := context.Background()
	p := DefaultParams()
	p.Workers = 2
	rng := rand.New(rand.NewPCG(3, 4))
	var chunks [][][]float32
	var all [][]float32 // per feature, every value in row order
	all = make([][]float32, 3)
	for day := range 7 {
		cols := make([][]float32, 3)
		for range 500 {
			cols[0] = append(cols[0], float32((day+5)%7))                                   // the day, in time order
			cols[1] = append(cols[1], codeValues[rng.IntN(len(codeValues))])                // extremes, ±0
			cols[2] = append(cols[2], float32(day*1000)+float32(rng.NormFloat64()*100)*0.5) // a drifting count
		}
		chunks = append(chunks, cols)
		for f := range cols {
			all[f] = append(all[f], cols[f]...)
		}
	}
	cb := codedSet(t, p, chunks)
	d, err := cb.Dataset(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	bm, bins := d.binned.bm, d.binned.bins
	if got := len(bm.edges[0]); got != 6 {
		t.Fatalf("day of week: %d edges %v, want 6 (a bin per day)", got, bm.edges[0])
	}
	// The drifting count's days each span several bins: edges from the
	// first days would put every later day in the end bin.
	for day := range 7 {
		used := map[uint8]bool{}
		for _, b := range bins.cols[2][day*500 : (day+1)*500] {
			used[b] = true
		}
		if len(used) < 3 {
			t.Fatalf("drifting count: day %d's rows fall in %d bins, want at least 3 (edges %v)", day, len(used), bm.edges[2])
		}
	}
	for f, col := range all {
		if !slices.IsSorted(bm.edges[f]) {
			t.Fatalf("feature %d: edges not increasing: %v", f, bm.edges[f])
		}
		for r, v := range col {
			if want := binOf(bm.edges[f], v); bins.cols[f][r] != want {
				t.Fatalf("feature %d row %d value %v: bin %d, its value falls in bin %d (edges %v)", f, r, v, bins.cols[f][r], want, bm.edges[f])
			}
		}
	}
	// Edges from the first two days alone, as a binner fixed early
	// computes them, cannot tell the other days apart.
	early := quantileEdges(slices.Concat(chunks[0][0], chunks[1][0]), p.MaxBins)
	if len(early) >= 6 {
		t.Fatalf("edges from the first days %v: the test no longer shows the defect", early)
	}
}

// TestCodedBuilderChunksAndFilter: appending in chunks, with row
// selections, then dropping rows gives the set appending the kept rows at
// once gives.
func TestCodedBuilderChunksAndFilter(t *testing.T) {
	ctx := context.Background()
	p := DefaultParams()
	rng := rand.New(rand.NewPCG(5, 6))
	const nf, n = 4, 3000
	cols := make([][]float32, nf)
	for f := range cols {
		for range n {
			cols[f] = append(cols[f], float32(math.Round(rng.NormFloat64()*float64(f+1)*50)))
		}
	}
	y := make([]float32, n)
	for i := range y {
		y[i] = float32(i % 2)
	}
	keep := func(i int) bool { return i%3 != 0 }
	// In chunks of 700 rows, every fifth row left out, then filtered.
	cb, err := NewCodedBuilder(p, nf)
	if err != nil {
		t.Fatal(err)
	}
	var appended []int
	for lo := 0; lo < n; lo += 700 {
		hi := min(lo+700, n)
		var rows []int32
		var ys []float32
		chunk := make([][]float32, nf)
		for f := range chunk {
			chunk[f] = cols[f][lo:hi]
		}
		for i := lo; i < hi; i++ {
			if i%5 != 0 {
				rows = append(rows, int32(i-lo))
				ys = append(ys, y[i])
				appended = append(appended, i)
			}
		}
		if err := cb.AppendColumns(chunk, rows, ys); err != nil {
			t.Fatal(err)
		}
	}
	cb.Filter(func(r int) bool { return keep(appended[r]) })
	got, err := cb.Dataset(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The same rows at once.
	once := make([][]float32, nf)
	var ys []float32
	for i := range n {
		if i%5 != 0 && keep(i) {
			for f := range once {
				once[f] = append(once[f], cols[f][i])
			}
			ys = append(ys, y[i])
		}
	}
	cw, _ := NewCodedBuilder(p, nf)
	if err := cw.AppendColumns(once, nil, ys); err != nil {
		t.Fatal(err)
	}
	want, err := cw.Dataset(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.X.Rows != want.X.Rows || !slices.Equal(got.Y, want.Y) {
		t.Fatalf("%d rows, want %d, or other labels", got.X.Rows, want.X.Rows)
	}
	for f := range nf {
		if !slices.Equal(got.binned.bm.edges[f], want.binned.bm.edges[f]) || !slices.Equal(got.binned.bins.cols[f], want.binned.bins.cols[f]) {
			t.Fatalf("feature %d: edges or bins differ", f)
		}
	}
}

func TestCodedBuilderErrors(t *testing.T) {
	p := DefaultParams()
	cb, err := NewCodedBuilder(p, 2)
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
		{"NaN", [][]float32{{1, 2}, {3, nan}}, nil, []float32{0, 1}, "chunk row 1 column 1 is NaN"},
		{"columns", [][]float32{{1}}, nil, []float32{0}, "chunk has 1 columns, want 2"},
		{"labels", [][]float32{{1}, {2}}, nil, nil, "0 labels for 1 rows"},
		{"row past the end", [][]float32{{1}, {2}}, []int32{3}, []float32{0}, "row 3 beyond the 1 rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cb.AppendColumns(tc.cols, tc.rows, tc.y)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if cb.Rows() != 0 {
				t.Fatalf("%d rows appended by a failed call", cb.Rows())
			}
		})
	}
	if _, err := cb.Dataset(context.Background(), nil); err == nil {
		t.Fatal("a set without rows gave a dataset")
	}
	if _, err := NewCodedBuilder(p, 0); err == nil {
		t.Fatal("a builder of no features")
	}
}
