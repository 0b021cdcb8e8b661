package gbdt

import (
	"context"
	"fmt"
	"math"

	"github.com/failcast/failcast/models"
)

// CodedBuilder collects a training set chunk by chunk before its bin
// edges are known, for sets too big to hold as float values and built in
// an order that no prefix represents (rows in time order, whose features
// drift over the window: a day of the week, an age, a running count).
// Each value is kept as a 16-bit order-preserving code of its float32
// (ValueCode); Dataset computes every feature's quantile edges from the
// codes of all rows kept, then bins them. Two values share a code only
// when they agree in sign, exponent and the top 7 bits of the mantissa
// (within 1/128 of each other), so a feature's bins are those quantile
// binning of its values gives, up to that resolution.
//
// Edges lie on code boundaries: the edge after code c is the largest
// float32 with code c (CodeTop), so a split "value <= edge" on raw values
// sends every value the way the rows of its code went in training.
type CodedBuilder struct {
	maxBins int
	workers int
	cols    [][]uint16 // cols[f][r]: code of feature f in row r
	y       []float32
	rows    int
}

// NewCodedBuilder returns an empty builder of sets with this many
// features, binned with p.MaxBins and p.Workers.
func NewCodedBuilder(p Params, features int) (*CodedBuilder, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if features <= 0 {
		return nil, fmt.Errorf("gbdt: coded builder: %d features, want at least one", features)
	}
	return &CodedBuilder{maxBins: p.MaxBins, workers: p.workers(), cols: make([][]uint16, features)}, nil
}

// Rows returns the number of rows appended (and kept by Filter).
func (cb *CodedBuilder) Rows() int { return cb.rows }

// AppendColumns appends rows of a column-major chunk: cols[f][i] is
// feature f of chunk row i (an Arrow float32 column's values, say), rows
// selects the chunk rows to append, in order (nil: all of them),
// y[k] is the label of the k-th appended row. A NaN value is an error
// naming the chunk row and column; nothing is appended then.
func (cb *CodedBuilder) AppendColumns(cols [][]float32, rows []int32, y []float32) error {
	n, err := checkChunk(len(cb.cols), cols, rows, y)
	if err != nil {
		return err
	}
	grown := make([][]uint16, len(cols))
	errs := make([]error, len(cols))
	workers := cb.workers
	if n*len(cols) < parallelCodeValues {
		workers = 1
	}
	parallelFor(len(cols), workers, func(f int) {
		grown[f], errs[f] = appendCodes(cb.cols[f], f, cols[f], rows, n)
	})
	for _, err := range errs { // the first column's error, as a serial pass would find
		if err != nil {
			return err
		}
	}
	copy(cb.cols, grown)
	cb.y = append(cb.y, y...)
	cb.rows += n
	return nil
}

// appendCodes returns dst extended by the codes of feature f of n chunk
// rows: col's rows in order, or those rows selects.
func appendCodes(dst []uint16, f int, col []float32, rows []int32, n int) ([]uint16, error) {
	dst = growTo(dst, n)
	out := dst[len(dst)-n:]
	for k := range n {
		i := k
		if rows != nil {
			i = int(rows[k])
		}
		v := col[i]
		if v != v {
			return nil, fmt.Errorf("gbdt: coded builder: chunk row %d column %d is NaN, want a number", i, f)
		}
		out[k] = ValueCode(v)
	}
	return dst, nil
}

// Filter keeps the rows r with keep(r) true, in order, and drops the
// others. It returns the number of rows kept.
func (cb *CodedBuilder) Filter(keep func(row int) bool) int {
	cb.rows = filterRows(cb.cols, &cb.y, cb.rows, keep)
	return cb.rows
}

// Dataset computes the bin edges of every feature from the codes of all
// rows (every distinct code its own bin when there are at most MaxBins,
// else cuts at evenly spaced ranks, as Fit places them on values: see
// rankEdges) and returns the binned rows as
// a training set for Fit (with weight, when not nil, one per row): its X
// has the rows' shape but no values, and Fit trains on the bins it
// carries. The codes are released feature by feature; the builder must
// not be used afterwards.
func (cb *CodedBuilder) Dataset(ctx context.Context, weight []float32) (Dataset, error) {
	if cb.rows == 0 {
		return Dataset{}, fmt.Errorf("gbdt: coded builder: no rows")
	}
	bm := &binMapper{edges: make([][]float32, len(cb.cols))}
	m := &binMatrix{rows: cb.rows, cols: make([][]uint8, len(cb.cols))}
	parallelFor(len(cb.cols), cb.workers, func(f int) {
		if ctx.Err() != nil {
			return
		}
		codes := cb.cols[f][:cb.rows]
		bm.edges[f], m.cols[f] = binCodes(codes, cb.maxBins)
		cb.cols[f] = nil
	})
	if err := ctx.Err(); err != nil {
		return Dataset{}, err
	}
	cb.cols = nil
	return Dataset{
		X:      models.Matrix{Rows: cb.rows, Cols: len(m.cols)},
		Y:      cb.y,
		Weight: weight,
		binned: &binnedData{bm: bm, bins: m},
	}, nil
}

// binCodes returns the quantile edges of one feature's codes and the bin
// of every row.
func binCodes(codes []uint16, maxBins int) ([]float32, []uint8) {
	var counts [1 << 16]int32
	for _, c := range codes {
		counts[c]++
	}
	distinct := make([]uint16, 0, 256)
	n := make([]int, 0, 256)
	for c, k := range counts {
		if k > 0 {
			distinct = append(distinct, uint16(c))
			n = append(n, int(k))
		}
	}
	starts := rankStarts(n, maxBins) // bin k+1 starts at distinct code starts[k]
	edges := make([]float32, len(starts))
	// bin[c] for every code: how many edges lie below it.
	var bin [1 << 16]uint8
	k := 0
	for i, s := range starts {
		last := int(distinct[s-1]) // the last code of bin i
		edges[i] = CodeTop(uint16(last))
		for ; k <= last; k++ {
			bin[k] = uint8(i)
		}
	}
	for ; k < len(bin); k++ {
		bin[k] = uint8(len(starts))
	}
	out := make([]uint8, len(codes))
	for r, c := range codes {
		out[r] = bin[c]
	}
	return edges, out
}

// parallelCodeValues is the fewest values (rows times columns) of a chunk
// that AppendColumns codes on several goroutines.
const parallelCodeValues = 1 << 16

// ValueCode returns the 16-bit code of v that CodedBuilder keeps: the top
// half of v's bits, mapped so that codes order as values do (a < b
// implies ValueCode(a) <= ValueCode(b)). -0 has +0's code. NaN has no
// meaningful code.
func ValueCode(v float32) uint16 {
	if v == 0 {
		v = 0 // -0 as +0: equal values, one code
	}
	b := math.Float32bits(v)
	if b&(1<<31) != 0 {
		b = ^b
	} else {
		b |= 1 << 31
	}
	return uint16(b >> 16)
}

// posInfCode is ValueCode(+Inf); the codes above it are NaNs'.
const posInfCode = 0xff80

// CodeTop returns the largest float32 value whose code is c: v <= CodeTop(c)
// exactly when ValueCode(v) <= c, for every number v.
func CodeTop(c uint16) float32 {
	if c >= posInfCode {
		return float32(math.Inf(1))
	}
	k := uint32(c)<<16 | 0xffff
	if k&(1<<31) != 0 {
		return math.Float32frombits(k &^ (1 << 31))
	}
	v := math.Float32frombits(^k)
	if v == 0 { // -0 would take +0 (a code above) with it
		return -math.SmallestNonzeroFloat32
	}
	return v
}

// checkChunk validates a column-major chunk against a builder of nf
// features and returns the number of rows it appends.
func checkChunk(nf int, cols [][]float32, rows []int32, y []float32) (int, error) {
	if len(cols) != nf {
		return 0, fmt.Errorf("gbdt: coded builder: chunk has %d columns, want %d", len(cols), nf)
	}
	n := len(rows)
	if rows == nil && len(cols) > 0 {
		n = len(cols[0])
	}
	if len(y) != n {
		return 0, fmt.Errorf("gbdt: coded builder: %d labels for %d rows", len(y), n)
	}
	for f, col := range cols {
		if rows == nil && len(col) != n {
			return 0, fmt.Errorf("gbdt: coded builder: chunk column %d has %d rows, want %d", f, len(col), n)
		}
		if rows != nil && n > 0 && int(rows[n-1]) >= len(col) {
			return 0, fmt.Errorf("gbdt: coded builder: row %d beyond the %d rows of chunk column %d", rows[n-1], len(col), f)
		}
	}
	return n, nil
}

// filterRows keeps the rows r < rows of cols and y with keep(r) true, in
// order, and returns how many there are.
func filterRows(cols [][]uint16, y *[]float32, rows int, keep func(row int) bool) int {
	sel := make([]int32, 0, rows)
	for r := range rows {
		if keep(r) {
			sel = append(sel, int32(r))
		}
	}
	if len(sel) == rows {
		return rows
	}
	for f, col := range cols {
		for k, r := range sel {
			col[k] = col[r]
		}
		cols[f] = col[:len(sel)]
	}
	ys := *y
	for k, r := range sel {
		ys[k] = ys[r]
	}
	*y = ys[:len(sel)]
	return len(sel)
}

// growTo extends s by n elements, doubling its capacity when needed.
func growTo[T any](s []T, n int) []T {
	if len(s)+n <= cap(s) {
		return s[:len(s)+n]
	}
	out := make([]T, len(s)+n, max(2*cap(s), len(s)+n, 1024))
	copy(out, s)
	return out
}
