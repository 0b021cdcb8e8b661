package gbdt

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/internal/floatsort"
	"github.com/failcast/failcast/models/internal/lowerbound"
)

// binMapper holds, per feature, the upper edges of every bin but the last:
// a value v falls in the first bin b with v <= edges[b], or in the last
// bin (index len(edges)) when it is above every edge. A split "bin <= b"
// is therefore the same as "value <= edges[b]" on raw values.
type binMapper struct {
	edges [][]float32
}

func (bm *binMapper) numBins(f int) int { return len(bm.edges[f]) + 1 }

// bin returns the bin of value v for feature f.
func (bm *binMapper) bin(f int, v float32) uint8 { return binOf(bm.edges[f], v) }

// binOf returns the index of the first edge >= v, or len(edges) when v is
// above them all.
func binOf(edges []float32, v float32) uint8 { return uint8(lowerbound.Search(edges, v)) }

// binSeedStream separates the binning sample's random stream from the
// per-round streams.
const binSeedStream = 0x62696e73 // "bins"

// sampleRows returns the sorted row indices the bin edges are computed
// from: all rows, or n rows drawn without replacement.
func sampleRows(rows, n int, seed uint64) []int {
	if n <= 0 || n >= rows {
		idx := make([]int, rows)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	// Floyd's algorithm: n distinct indices in O(n) memory.
	rng := rand.New(rand.NewPCG(seed, binSeedStream))
	chosen := make(map[int]struct{}, n)
	idx := make([]int, 0, n)
	for j := rows - n; j < rows; j++ {
		t := rng.IntN(j + 1)
		if _, dup := chosen[t]; dup {
			t = j
		}
		chosen[t] = struct{}{}
		idx = append(idx, t)
	}
	slices.Sort(idx)
	return idx
}

// newBinMapper computes quantile bin edges for every column of X from the
// given sample of rows. It rejects NaN values, naming the row and column.
func newBinMapper(ctx context.Context, X models.Matrix, sample []int, maxBins, workers int) (*binMapper, error) {
	// Gather the sample column-major in one pass over rows.
	vals := make([]float32, len(sample)*X.Cols)
	n := len(sample)
	for k, r := range sample {
		row := X.Data[r*X.Cols : (r+1)*X.Cols]
		for f, v := range row {
			if v != v {
				return nil, nanError(r, f)
			}
			vals[f*n+k] = v
		}
	}
	bm := &binMapper{edges: make([][]float32, X.Cols)}
	parallelFor(X.Cols, workers, func(f int) {
		if ctx.Err() != nil {
			return
		}
		bm.edges[f] = quantileEdges(vals[f*n:(f+1)*n], maxBins)
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return bm, nil
}

func nanError(row, col int) error {
	return fmt.Errorf("train set row %d column %d is NaN, want a number (missing values are not allowed)", row, col)
}

// quantileEdges sorts vals and returns at most maxBins-1 increasing edges
// that split them into bins of roughly equal counts. When there are at
// most maxBins distinct values every value gets its own bin. Edges lie
// between consecutive distinct values (their midpoint when representable)
// so unseen values in between are split sensibly.
func quantileEdges(vals []float32, maxBins int) []float32 {
	if len(vals) == 0 {
		return nil
	}
	floatsort.Float32s(vals)
	distinct := make([]float32, 0, 64)
	counts := make([]int, 0, 64)
	for i, v := range vals {
		if i == 0 || v != vals[i-1] {
			distinct = append(distinct, v)
			counts = append(counts, 0)
		}
		counts[len(counts)-1]++
	}
	between := func(i int) float32 {
		a, b := distinct[i], distinct[i+1]
		m := float32((float64(a) + float64(b)) / 2)
		if !(m >= a && m < b) || math.IsInf(float64(m), 0) {
			return a
		}
		return m
	}
	after := greedyEdges(counts, len(vals), maxBins)
	edges := make([]float32, len(after))
	for k, i := range after {
		edges[k] = between(i)
	}
	return edges
}

// greedyEdges places at most maxBins-1 edges among distinct values with
// these counts (total in all), in increasing order, and returns after
// which distinct value each goes. When there are at most maxBins distinct
// values every value gets its own bin; otherwise bins are closed greedily
// at equal counts: once the current bin holds its share of what is left,
// or whenever every remaining distinct value can still get a bin of its
// own.
func greedyEdges(counts []int, total, maxBins int) []int {
	after := make([]int, 0, max(0, min(len(counts)-1, maxBins-1)))
	if len(counts) <= maxBins {
		for i := 0; i+1 < len(counts); i++ {
			after = append(after, i)
		}
		return after
	}
	rest, binsLeft, acc := total, maxBins, 0
	for i := 0; i+1 < len(counts) && binsLeft > 1; i++ {
		acc += counts[i]
		remainingDistinct := len(counts) - i - 1
		if float64(acc) >= float64(rest)/float64(binsLeft) || remainingDistinct <= binsLeft-1 {
			after = append(after, i)
			rest -= acc
			acc = 0
			binsLeft--
		}
	}
	return after
}

// binMatrix is the uint8 bin matrix: the bin of row r in feature f is
// cols[f][r]. (Fit makes the row-major copy small nodes' histograms read,
// see rowhist.go.)
type binMatrix struct {
	rows int
	cols [][]uint8
}

// binBlockRows is the number of rows binned together: a block of rows
// (80 features: 80 KiB) stays in cache while every feature is binned.
const binBlockRows = 256

// binColumn sets dst[i] to the bin of column f of row i of the row-major
// block (cols values per row).
func binColumn(dst []uint8, block []float32, cols, f int, ix *edgeIndex) {
	for i := range dst {
		dst[i] = ix.bin(block[i*cols+f])
	}
}

// edgeBuckets is the number of equal-width buckets an edgeIndex divides
// the range of a feature's edges into.
const edgeBuckets = 2048

// edgeIndex finds bins faster than a binary search over all edges: the
// value's bucket (a linear map of the value) gives the few edges the
// answer lies between. The map is monotonic (a larger value never gets an
// earlier bucket), so every edge of an earlier bucket is below the value
// and every edge of a later one above it: ix.bin(v) == binOf(edges, v).
type edgeIndex struct {
	edges     []float32
	lo, scale float64
	first     [edgeBuckets + 1]uint8 // first[b]: edges in buckets before b
}

func newEdgeIndex(edges []float32) *edgeIndex {
	ix := &edgeIndex{edges: edges}
	if len(edges) < 2 {
		return ix
	}
	lo, hi := float64(edges[0]), float64(edges[len(edges)-1])
	ix.lo, ix.scale = lo, edgeBuckets/(hi-lo)
	if !(ix.scale > 0) || math.IsInf(ix.scale, 0) {
		ix.scale = 0 // infinite or tiny range: bin searches every edge
		return ix
	}
	// first[b] counts the edges whose bucket is below b.
	e := 0
	for b := 0; b <= edgeBuckets; b++ {
		for e < len(edges) && ix.bucket(edges[e]) < b {
			e++
		}
		ix.first[b] = uint8(e)
	}
	return ix
}

// bucket maps v to [0, edgeBuckets), monotonically (NaN to 0).
func (ix *edgeIndex) bucket(v float32) int {
	c := (float64(v) - ix.lo) * ix.scale
	if !(c >= 0) {
		return 0
	}
	if c >= edgeBuckets-1 {
		return edgeBuckets - 1
	}
	return int(c)
}

// bin returns binOf(ix.edges, v).
func (ix *edgeIndex) bin(v float32) uint8 {
	if ix.scale == 0 {
		return binOf(ix.edges, v)
	}
	b := ix.bucket(v)
	lo, hi := int(ix.first[b]), int(ix.first[b+1])
	if lo == hi {
		return uint8(lo)
	}
	return uint8(lo) + binOf(ix.edges[lo:hi], v)
}

// binAll maps every value of X to its bin, in parallel over row blocks.
// It rejects NaN values, naming the first such row and column.
func binAll(ctx context.Context, X models.Matrix, bm *binMapper, workers int) (*binMatrix, error) {
	data := make([]uint8, X.Rows*X.Cols)
	out := &binMatrix{rows: X.Rows, cols: make([][]uint8, X.Cols)}
	for f := range out.cols {
		out.cols[f] = data[f*X.Rows : (f+1)*X.Rows : (f+1)*X.Rows]
	}
	index := make([]*edgeIndex, X.Cols)
	for f, edges := range bm.edges {
		index[f] = newEdgeIndex(edges)
	}
	blocks := (X.Rows + binBlockRows - 1) / binBlockRows
	errs := make([]error, blocks)
	parallelFor(blocks, workers, func(b int) {
		if ctx.Err() != nil {
			return
		}
		lo, hi := b*binBlockRows, min((b+1)*binBlockRows, X.Rows)
		for f := 0; f < X.Cols; f++ {
			if len(bm.edges[f]) > 0 { // constant features stay in bin 0
				binColumn(out.cols[f][lo:hi], X.Data[lo*X.Cols:hi*X.Cols], X.Cols, f, index[f])
			}
		}
		for r := lo; r < hi; r++ {
			for f, v := range X.Data[r*X.Cols : (r+1)*X.Cols] {
				if v != v {
					errs[b] = nanError(r, f)
					return
				}
			}
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
