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
// most maxBins distinct values every value gets its own bin; otherwise
// rankEdges places the edges at evenly spaced ranks, as XGBoost does.
// Edges lie between consecutive distinct values (their midpoint when
// representable) so unseen values in between are split sensibly.
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
	return rankEdges(distinct, counts, maxBins)
}

// edgeBelow returns the edge that puts distinct[i] (i >= 1) in a bin of
// its own lower end: the midpoint of distinct[i-1] and distinct[i], or
// distinct[i-1] when the midpoint is not representable between them.
func edgeBelow(distinct []float32, i int) float32 {
	a, b := distinct[i-1], distinct[i]
	m := float32((float64(a) + float64(b)) / 2)
	if !(m >= a && m < b) || math.IsInf(float64(m), 0) {
		return a
	}
	return m
}

// rankEntry is one distinct value of a feature's summary: distinct[v],
// held by the rows of ranks [lo, hi) (lo rows are below it). The ranks
// are float32, as in XGBoost's summaries.
type rankEntry struct {
	lo, hi float32
	v      int
}

// summaryFactor is how many entries per bin XGBoost's hist method keeps
// in a feature's summary before it chooses the cuts (WQSketch::kFactor).
const summaryFactor = 8

// rankEdges returns the edges of at most maxBins bins of the sorted
// distinct values (counts[i] rows holding distinct[i]): a bin per value
// when there are at most maxBins of them, else bins whose edges are
// placed where XGBoost's hist method places its cuts on the same rows
// (XGBoost 1.7, HostSketchContainer::MakeCuts on an exact summary): the
// summary is pruned to summaryFactor x maxBins entries, then to maxBins+1
// (WQSummary::SetPrune, pruneSummary below), and every entry but the
// first starts a bin. A prune keeps the entries holding the evenly spaced
// ranks t_k = hi0 + k(loLast-hi0)/(size-1), k = 1..size-2, between the
// rows of the smallest and of the largest value, so every edge sits
// within a value of its quantile and no error builds up along the range.
// (A greedy pass that closed a bin once it held its share of the rows
// left overshot by up to a value at every bin: on a feature of 1,001
// equally common values its 204th edge sat at the 83.4% quantile instead
// of 80%, the bins coarser below and finer above. Without the first prune
// the edges of features with more than 8 x maxBins values move by a value
// here and there, and on bench/gbdt_vs_xgboost.sh's seed-2 table that
// alone cost 0.004 of PR-AUC against XGBoost.)
//
// Like XGBoost, a value whose rows hold two or more consecutive targets
// starts one bin only; unlike it, the final choice does not lose the
// targets it swallowed: the cuts left are spread evenly over the ranks
// above that value. (A failure rate of 1/2 or 1/3 holds many rows in the
// middle of a rate feature's range; without the respread every such value
// would cost bins the rest of the feature needs.) Without such a value the
// edges are XGBoost's.
func rankEdges(distinct []float32, counts []int, maxBins int) []float32 {
	starts := rankStarts(counts, maxBins)
	edges := make([]float32, len(starts))
	for k, i := range starts {
		edges[k] = edgeBelow(distinct, i)
	}
	return edges
}

// rankStarts returns, in increasing order, the indices of the distinct
// values (counts[i] rows holding the i-th) that start a bin other than
// the first: every value when there are at most maxBins, else the values
// rankEdges documents.
func rankStarts(counts []int, maxBins int) []int {
	if len(counts) <= maxBins {
		starts := make([]int, 0, max(0, len(counts)-1))
		for i := 1; i < len(counts); i++ {
			starts = append(starts, i)
		}
		return starts
	}
	entries := make([]rankEntry, len(counts))
	var below float32
	for i, c := range counts {
		entries[i] = rankEntry{lo: below, hi: below + float32(c), v: i}
		below += float32(c)
	}
	entries = pruneSummary(entries, summaryFactor*maxBins)
	n := len(entries)
	if n <= maxBins {
		// The first prune left few enough entries: each starts a bin.
		starts := make([]int, 0, n-1)
		for _, e := range entries[1:] {
			starts = append(starts, e.v)
		}
		return starts
	}
	starts := make([]int, 0, maxBins-1)
	begin, span := entries[0].hi, entries[n-1].lo-entries[0].hi
	parts := float32(maxBins) // t_k = begin + k*span/parts, k = 1..parts-1
	k, i, last := 1, 1, 0     // last: the entry that starts the current bin
	for len(starts) < maxBins-1 && float32(k) < parts {
		dx2 := 2 * (float32(k)*span/parts + begin)
		j := holding(entries, i, dx2)
		if j == n-1 {
			break
		}
		i = j
		if j == last {
			// This value's rows hold the previous target too: spread the
			// cuts still to place over the ranks above it, on the entries
			// after it (with a pruned summary the nearest entry to a
			// target just above this one's rows can be this one again).
			begin, span = entries[j].hi, entries[n-1].lo-entries[j].hi
			parts = float32(maxBins - 1 - len(starts) + 1)
			k, i = 1, j+1
			if !(span > 0) {
				break
			}
			continue
		}
		starts = append(starts, entries[j].v)
		last = j
		k++
	}
	if len(starts) < maxBins-1 && last < n-1 {
		// Cuts are left (the spread ran out of ranks): the largest value
		// gets a bin of its own, as in XGBoost when a target is dropped.
		starts = append(starts, entries[n-1].v)
	}
	return starts
}

// holding returns the index, from i on, of the entry XGBoost's SetPrune
// picks for the doubled rank dx2 (comparing doubled ranks with sums of
// rank bounds, as it does): the entry whose ranks hold dx2/2 when the
// entries are contiguous, else the nearer of the two around it.
func holding(entries []rankEntry, i int, dx2 float32) int {
	n := len(entries)
	for i < n-1 && dx2 >= entries[i+1].hi+entries[i+1].lo {
		i++
	}
	if i < n-1 && !(dx2 < entries[i].hi+entries[i+1].lo) {
		i++
	}
	return i
}

// pruneSummary returns at most maxsize of entries (all of them when they
// are that few), as XGBoost's WQSummary::SetPrune does: the first, the
// entries holding the evenly spaced ranks between the first's rows and
// the last's (each once) and the last.
func pruneSummary(entries []rankEntry, maxsize int) []rankEntry {
	n := len(entries)
	if n <= maxsize {
		return entries
	}
	begin, span := entries[0].hi, entries[n-1].lo-entries[0].hi
	parts := float32(maxsize - 1)
	out := make([]rankEntry, 1, maxsize)
	out[0] = entries[0]
	i, last := 1, 0
	for k := 1; float32(k) < parts; k++ {
		dx2 := 2 * (float32(k)*span/parts + begin)
		j := holding(entries, i, dx2)
		if j == n-1 {
			break
		}
		i = j
		if j != last {
			out = append(out, entries[j])
			last = j
		}
	}
	if last != n-1 {
		out = append(out, entries[n-1])
	}
	return out
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

// binnedData is a training set's bins, computed before Fit.
type binnedData struct {
	bm   *binMapper
	bins *binMatrix
}

// trainBins returns the bin edges and the bin matrix Fit trains on:
// those a CodedBuilder made, or those of train's float rows, with the
// edges from a seeded sample of BinSampleRows rows.
func trainBins(ctx context.Context, p Params, train Dataset, workers int) (*binMapper, *binMatrix, error) {
	if b := train.binned; b != nil {
		return b.bm, b.bins, nil
	}
	bm, err := newBinMapper(ctx, train.X, sampleRows(train.X.Rows, p.BinSampleRows, p.Seed), p.MaxBins, workers)
	if err != nil {
		return nil, nil, fmt.Errorf("gbdt: binning: %w", err)
	}
	bins, err := binAll(ctx, train.X, bm, workers)
	if err != nil {
		return nil, nil, fmt.Errorf("gbdt: binning: %w", err)
	}
	return bm, bins, nil
}
