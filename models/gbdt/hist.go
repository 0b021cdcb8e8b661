package gbdt

import "math"

// gradPair is one row's gradient and hessian (already multiplied by the
// row's weight).
type gradPair struct{ g, h float32 }

// binStat is a gradient and hessian sum (of one histogram bin, one node
// or one row) in fixed point: each is an integer count of its gradScale
// unit. Integer sums are exact, so a histogram does not depend on the
// order its rows are added in (nor does the larger child's, computed by
// subtraction), and integer adds are cheaper than float adds in the
// histogram loops, whose chains of updates to one bin wait on each add.
// Histograms hold binStats packed into one int64 (see packStat).
type binStat struct{ g, h int64 }

// gradScale holds the units of one tree's packed gradients and hessians
// (see packGrads).
type gradScale struct{ gUnit, hUnit float64 }

// decode returns s's sums as floats.
func (sc gradScale) decode(s binStat) (g, h float64) {
	return float64(s.g) * sc.gUnit, float64(s.h) * sc.hUnit
}

// quantiseBlockRows is the block size of the parallel passes of
// packGrads.
const quantiseBlockRows = 65536

// Histograms hold packed sums: a bin's gradient and hessian sums in one
// int64, the gradient (signed) in the high 32 bits and the hessian
// (never negative) in the low 32, so a row adds to a bin with one integer
// add instead of two and a bin takes 8 bytes instead of 16. Adding packed
// values adds both fields exactly as long as the true sums fit: |G| <
// 2^31 and 0 <= H < 2^32. packGrads chooses each tree's units so that
// they do for every node: the sum of the absolute quantised gradients of
// all rows (and of their hessians) fits, so the sums of any subset of rows
// do. Sized by the sums rather than by rows x the largest value, the units
// are as fine as the fields allow: on a 1M-row, 5%-positive binary task the
// typical row's gradient gets about 2^14 levels instead of 2^7 (the rows
// far from the largest gradient are most of them). Only split search reads
// these sums; leaf values are summed from the float gradients (see
// grower.grow).

// packStat packs a gradient and hessian sum.
func packStat(s binStat) int64 { return s.g<<32 + s.h }

// unpackStat returns the sums a packed value holds.
func unpackStat(v int64) binStat {
	h := int64(uint32(v))
	return binStat{(v - h) >> 32, h}
}

// packGrads writes grads quantised to dst for packed histograms and
// returns their units: gradients and hessians are rounded to the nearest
// unit (a positive hessian to at least one unit), the units chosen so
// that the sums of the absolute quantised values of all rows fit a packed
// sum (see unitFor).
func packGrads(dst []int64, grads []gradPair, workers int) gradScale {
	n := len(grads)
	sg, sh := gradSums(grads, workers)
	sc := gradScale{gUnit: unitFor(sg, n, 1<<31-1, 0.5), hUnit: unitFor(sh, n, 1<<32-1, 1)}
	gs, hs := 1/sc.gUnit, 1/sc.hUnit
	dst = dst[:n]
	blocks := (n + quantiseBlockRows - 1) / quantiseBlockRows
	parallelFor(blocks, workers, func(b int) {
		lo, hi := b*quantiseBlockRows, min((b+1)*quantiseBlockRows, n)
		for i, gp := range grads[lo:hi] {
			g := math.RoundToEven(float64(gp.g) * gs)
			h := math.RoundToEven(float64(gp.h) * hs)
			if h < 1 && gp.h > 0 {
				h = 1
			}
			dst[lo+i] = packStat(binStat{int64(g), int64(h)})
		}
	})
	return sc
}

// unitFor returns the unit that quantises n values whose absolute values
// sum to sum so that their rounded absolute values sum to at most limit:
// each exceeds its exact quotient by at most excess units (half a unit
// when rounding; one for a positive hessian raised to one unit). Row
// indices are int32, so n < 2^31 and limit - excess*n stays positive for
// both fields. A relative 1e-6 covers the float sum's rounding.
func unitFor(sum float64, n int, limit, excess float64) float64 {
	room := limit - excess*float64(n) - 1024
	if !(sum > 0) || room < 1 {
		return 1
	}
	return sum * (1 + 1e-6) / room
}

// gradSums returns the sum of the absolute gradients and the sum of the
// hessians, in float64, added in fixed blocks in block order (the same for
// any worker count).
func gradSums(grads []gradPair, workers int) (float64, float64) {
	n := len(grads)
	blocks := (n + quantiseBlockRows - 1) / quantiseBlockRows
	sg, sh := make([]float64, blocks), make([]float64, blocks)
	parallelFor(blocks, workers, func(b int) {
		var g, h float64
		for _, gp := range grads[b*quantiseBlockRows : min((b+1)*quantiseBlockRows, n)] {
			g += math.Abs(float64(gp.g))
			h += float64(gp.h)
		}
		sg[b], sh[b] = g, h
	})
	var g, h float64
	for b := range sg {
		g, h = g+sg[b], h+sh[b]
	}
	return g, h
}

// histLayout places every feature's bins in one flat histogram: feature f
// owns hist[offset[f] : offset[f]+nbins[f]]. Constant features own no
// bins. size includes padding so that any feature's 256-bin view fits.
type histLayout struct {
	offset []int
	nbins  []int
	size   int
}

func newHistLayout(bm *binMapper) histLayout {
	l := histLayout{offset: make([]int, len(bm.edges)), nbins: make([]int, len(bm.edges))}
	for f := range bm.edges {
		l.offset[f] = l.size
		if nb := bm.numBins(f); nb > 1 {
			l.nbins[f] = nb
			l.size += nb
		}
	}
	l.size += 256 // padding: every feature has a 256-bin view (see histBuilder.view)
	return l
}

// histGroupSize is the most features one histogram task fills in a
// single pass over a node's rows: each row's gradient is read once per
// group, and a group's histograms (16 x 255 bins x 8 bytes) stay in L1
// cache.
const histGroupSize = 16

// featureGroups splits features into the fewest groups of at most
// histGroupSize whose count is a multiple of workers, sizes differing by
// at most one, so that every worker gets the same share of a column-wise
// histogram (five groups on two workers would leave one idle a fifth of
// the time).
func featureGroups(dst [][]int, features []int, workers int) [][]int {
	dst = dst[:0]
	if len(features) == 0 {
		return dst
	}
	n := (len(features) + histGroupSize - 1) / histGroupSize
	if workers > 1 && len(features) >= workers {
		n = (n + workers - 1) / workers * workers
	}
	n = min(n, len(features))
	for i := 0; i < n; i++ {
		dst = append(dst, features[i*len(features)/n:(i+1)*len(features)/n])
	}
	return dst
}

// minParallelHistRows is the node size below which histograms are built
// on one goroutine: smaller nodes cost less than the hand-off.
const minParallelHistRows = 4096

// gatherBlockRows is the block size of the parallel gradient gather.
const gatherBlockRows = 65536

// minParallelSplitFeatures is the feature count below which split search
// runs on one goroutine: scanning a histogram takes about a microsecond.
const minParallelSplitFeatures = 32

// histBuilder fills node histograms for the features a tree may use.
type histBuilder struct {
	layout  histLayout
	bins    *binMatrix
	groups  [][]int // active features, in groups (see featureGroups)
	workers int
	ordered []int64 // scratch: a node's packed gradients in row order
	// rowWise is the largest node (in rows) whose histogram is built
	// row-wise (see rowhist.go) from byRow; 0 (or byRow nil) never does.
	rowWise int
	byRow   *rowBins
	private []rowHist // per-worker histograms of row-wise building
	// sparse holds, per feature, its sparse column (see sparse.go) or
	// nil; features with one are filled from it in every-row
	// histograms.
	sparse  []*sparseCol
	mask    []uint8 // scratch: 1 for the rows of the node being built
	taskBuf [][]int // scratch of tasks
}

// build fills dst (zeroing it first) with the gradient sums of rows
// (ascending row indices), for every active feature; total is the packed
// sum of the rows' gradients. Each feature's sums
// are taken in row order by a single goroutine, so the result does not
// depend on the worker count.
func (hb *histBuilder) build(dst []int64, rows []int32, grads []int64, total int64) {
	if hb.useRows(len(rows)) {
		hb.buildRows(dst, rows, grads, total)
		return
	}
	workers := hb.workers
	if len(rows) < minParallelHistRows {
		workers = 1
	}
	if len(rows) == hb.bins.rows {
		// Every row, in order (rows is ascending without duplicates):
		// read bins and gradients sequentially.
		hb.buildAll(dst, grads, total, workers)
		return
	}
	// Gather the node's gradients once so every group reads them
	// sequentially; only the bins are gathered per group. Sparse columns
	// (see sparse.go) with fewer entries than half the node's rows are
	// read instead of the node's bins, through a mask of its rows.
	if cap(hb.ordered) < len(rows) {
		hb.ordered = make([]int64, len(rows), hb.bins.rows)
	}
	ordered := hb.ordered[:len(rows)]
	tasks, anySparse := hb.tasks(func(sc *sparseCol) bool { return 2*len(sc.rows) < len(rows) })
	if anySparse && len(hb.mask) < hb.bins.rows {
		hb.mask = make([]uint8, hb.bins.rows)
	}
	blocks := (len(rows) + gatherBlockRows - 1) / gatherBlockRows
	parallelFor(blocks, workers, func(b int) {
		lo, hi := b*gatherBlockRows, min((b+1)*gatherBlockRows, len(rows))
		for i, r := range rows[lo:hi] {
			ordered[lo+i] = grads[r]
		}
		if anySparse {
			for _, r := range rows[lo:hi] {
				hb.mask[r] = 1
			}
		}
	})
	parallelFor(len(tasks), workers, func(i int) {
		task := tasks[i]
		if f := task[0]; hb.isSparse(f) && len(task) == 1 && 2*len(hb.sparse[f].rows) < len(rows) {
			clear(dst[hb.layout.offset[f] : hb.layout.offset[f]+hb.layout.nbins[f]])
			addSparseMasked(hb.view(dst, f), hb.sparse[f], hb.layout.nbins[f], grads, hb.mask, total)
			return
		}
		hb.buildGroup(dst, task, rows, ordered)
	})
	if anySparse {
		parallelFor(blocks, workers, func(b int) {
			for _, r := range rows[b*gatherBlockRows : min((b+1)*gatherBlockRows, len(rows))] {
				hb.mask[r] = 0
			}
		})
	}
}

func (hb *histBuilder) isSparse(f int) bool { return f < len(hb.sparse) && hb.sparse[f] != nil }

// tasks returns the histogram tasks of a node: the active features that
// are not filled from their sparse columns four to a task (each task one
// pass over the node's rows), then one task per feature that is, those
// whose sparse column use accepts. It reports whether there are any of
// the latter. The slice is reused by the next call.
func (hb *histBuilder) tasks(use func(*sparseCol) bool) ([][]int, bool) {
	hb.taskBuf = hb.taskBuf[:0]
	sparse := func(f int) bool { return hb.isSparse(f) && use(hb.sparse[f]) }
	var quad []int
	for _, g := range hb.groups {
		for _, f := range g {
			if sparse(f) {
				continue
			}
			quad = append(quad, f)
			if len(quad) == 4 {
				hb.taskBuf = append(hb.taskBuf, quad)
				quad = nil
			}
		}
	}
	if len(quad) > 0 {
		hb.taskBuf = append(hb.taskBuf, quad)
	}
	any := false
	for _, g := range hb.groups {
		for _, f := range g {
			if sparse(f) {
				hb.taskBuf = append(hb.taskBuf, []int{f})
				any = true
			}
		}
	}
	return hb.taskBuf, any
}

// buildGroup fills the histograms of group's features from the node's
// rows; ordered[i] is the gradient of rows[i].
func (hb *histBuilder) buildGroup(dst []int64, group []int, rows []int32, ordered []int64) {
	hb.clearGroup(dst, group)
	ordered = ordered[:len(rows)]
	// Fill four features per pass over the rows: each row's gradient is
	// loaded once for the four bins it updates. Bins are uint8, so with
	// 256-entry views the compiler drops the histogram bounds checks (the
	// layout pads the flat histogram so every view fits). Odd rows add
	// into a second copy of the four histograms (see evenOdd).
	var odd evenOdd
	i := 0
	for ; i+4 <= len(group); i += 4 {
		c0, c1, c2, c3 := hb.bins.cols[group[i]], hb.bins.cols[group[i+1]], hb.bins.cols[group[i+2]], hb.bins.cols[group[i+3]]
		h0, h1, h2, h3 := hb.view(dst, group[i]), hb.view(dst, group[i+1]), hb.view(dst, group[i+2]), hb.view(dst, group[i+3])
		clear(odd[:])
		o0, o1, o2, o3 := &odd[0], &odd[1], &odd[2], &odd[3]
		k := 0
		for ; k+2 <= len(rows); k += 2 {
			r, s := rows[k], rows[k+1]
			v, w := ordered[k], ordered[k+1]
			h0[c0[r]] += v
			o0[c0[s]] += w
			h1[c1[r]] += v
			o1[c1[s]] += w
			h2[c2[r]] += v
			o2[c2[s]] += w
			h3[c3[r]] += v
			o3[c3[s]] += w
		}
		for ; k < len(rows); k++ {
			r, v := rows[k], ordered[k]
			h0[c0[r]] += v
			h1[c1[r]] += v
			h2[c2[r]] += v
			h3[c3[r]] += v
		}
		hb.addOdd(dst, group[i:i+4], &odd)
	}
	for ; i < len(group); i++ {
		col, hv := hb.bins.cols[group[i]], hb.view(dst, group[i])
		for k, r := range rows {
			hv[col[r]] += ordered[k]
		}
	}
}

// evenOdd is the second copy of four features' histograms that odd rows
// add into. With few distinct bins, consecutive rows often hit the same
// bin, and each add to a bin waits for the previous one to be stored;
// alternating copies makes two independent chains. The sums are integers,
// so adding the copies up gives the same histogram in any order.
type evenOdd [4][256]int64

// addOdd adds odd's histograms into dst's for features.
func (hb *histBuilder) addOdd(dst []int64, features []int, odd *evenOdd) {
	for j, f := range features {
		d := dst[hb.layout.offset[f] : hb.layout.offset[f]+hb.layout.nbins[f]]
		for b, v := range odd[j][:len(d)] {
			d[b] += v
		}
	}
}

// buildAll fills dst with every row's gradient sums (rows in order) for
// every active feature: dense features four per pass over the rows,
// sparse ones (see sparse.go) from their sparse columns. The passes are
// independent tasks, dense ones first, so that workers taking the next
// task finish together.
func (hb *histBuilder) buildAll(dst, grads []int64, total int64, workers int) {
	tasks, _ := hb.tasks(func(*sparseCol) bool { return true })
	parallelFor(len(tasks), workers, func(i int) {
		task := tasks[i]
		hb.clearGroup(dst, task)
		if f := task[0]; hb.isSparse(f) {
			addSparseAll(hb.view(dst, f), hb.sparse[f], hb.layout.nbins[f], grads, total)
			return
		}
		hb.buildDenseAll(dst, task, grads)
	})
}

// buildDenseAll fills the histograms of up to four features (cleared)
// from every row, in order.
func (hb *histBuilder) buildDenseAll(dst []int64, quad []int, grads []int64) {
	n := hb.bins.rows
	grads = grads[:n]
	if len(quad) < 4 {
		for _, f := range quad {
			col, hv := hb.bins.cols[f][:n], hb.view(dst, f)
			for r, v := range grads {
				hv[col[r]] += v
			}
		}
		return
	}
	var odd evenOdd
	c0, c1, c2, c3 := hb.bins.cols[quad[0]][:n], hb.bins.cols[quad[1]][:n], hb.bins.cols[quad[2]][:n], hb.bins.cols[quad[3]][:n]
	h0, h1, h2, h3 := hb.view(dst, quad[0]), hb.view(dst, quad[1]), hb.view(dst, quad[2]), hb.view(dst, quad[3])
	o0, o1, o2, o3 := &odd[0], &odd[1], &odd[2], &odd[3]
	r := 0
	for ; r+2 <= n; r += 2 {
		v, w := grads[r], grads[r+1]
		h0[c0[r]] += v
		o0[c0[r+1]] += w
		h1[c1[r]] += v
		o1[c1[r+1]] += w
		h2[c2[r]] += v
		o2[c2[r+1]] += w
		h3[c3[r]] += v
		o3[c3[r+1]] += w
	}
	for ; r < n; r++ {
		v := grads[r]
		h0[c0[r]] += v
		h1[c1[r]] += v
		h2[c2[r]] += v
		h3[c3[r]] += v
	}
	hb.addOdd(dst, quad, &odd)
}

func (hb *histBuilder) clearGroup(dst []int64, group []int) {
	for _, f := range group {
		clear(dst[hb.layout.offset[f] : hb.layout.offset[f]+hb.layout.nbins[f]])
	}
}

// view returns feature f's histogram as a 256-bin array.
func (hb *histBuilder) view(hist []int64, f int) *[256]int64 {
	return (*[256]int64)(hist[hb.layout.offset[f] : hb.layout.offset[f]+256])
}

// subtract sets dst = parent - child for every active feature.
func (hb *histBuilder) subtract(dst, parent, child []int64) {
	for _, g := range hb.groups {
		for _, f := range g {
			lo, hi := hb.layout.offset[f], hb.layout.offset[f]+hb.layout.nbins[f]
			d, p, c := dst[lo:hi], parent[lo:hi], child[lo:hi]
			for b := range d {
				d[b] = p[b] - c[b]
			}
		}
	}
}

// split is a candidate split of a node: rows whose bin in feature is <=
// bin go left.
type split struct {
	feature, bin int
	gain         float64
	left         binStat // gradient and hessian sums of the left child
	ok           bool
}

// splitRule holds what decides whether a split is allowed and how good it
// is.
type splitRule struct {
	lambda, minChildWeight, minSplitGain float64
}

// minGain is the smallest loss reduction counted as a real split; below
// it a gain is rounding noise.
const minGain = 1e-10

// score is the (doubled) loss reduction term of a node with sums g, h.
func (r splitRule) score(g, h float64) float64 { return g * g / (h + r.lambda) }

// gain is the loss reduction of splitting (g, h) into (gl, hl) and the
// rest.
func (r splitRule) gain(g, h, gl, hl float64) float64 {
	gr, hr := g-gl, h-hl
	return 0.5 * (r.score(gl, hl) + r.score(gr, hr) - r.score(g, h))
}

// allowed reports whether children with hessian sums hl and hr may exist.
func (r splitRule) allowed(hl, hr float64) bool {
	return hl >= r.minChildWeight && hr >= r.minChildWeight && hl+r.lambda > 0 && hr+r.lambda > 0
}

// bestSplitOf scans one feature's histogram for the split with the
// largest gain; ties keep the lowest bin. node is the node's sum (that of
// every feature's histogram).
func (r splitRule) bestSplitOf(f int, h []int64, node binStat, sc gradScale) split {
	best := split{feature: f}
	parent := r.score(sc.decode(node))
	whole := packStat(node)
	var left int64
	for b := 0; b+1 < len(h); b++ {
		if h[b] == 0 {
			// An empty bin leaves the left sums, so the gain, as they
			// were at the bin before, and ties keep the lower bin: it
			// cannot be the best (an empty first bin has an empty left
			// side, which gains nothing).
			continue
		}
		left += h[b]
		ls := unpackStat(left)
		gl, hl := sc.decode(ls)
		gr, hr := sc.decode(unpackStat(whole - left))
		if !r.allowed(hl, hr) {
			continue
		}
		gn := 0.5 * (r.score(gl, hl) + r.score(gr, hr) - parent)
		if gn > r.minSplitGain && gn > minGain && (!best.ok || gn > best.gain) {
			best = split{feature: f, bin: b, gain: gn, left: ls, ok: true}
		}
	}
	return best
}

// bestSplit returns the best split over the active features: features are
// scanned in parallel but compared in feature order, ties keeping the
// lowest feature.
func (hb *histBuilder) bestSplit(r splitRule, hist []int64, node binStat, sc gradScale, features []int, workers int) split {
	per := make([]split, len(features))
	if len(features) < minParallelSplitFeatures {
		workers = 1
	}
	parallelFor(len(features), workers, func(i int) {
		f := features[i]
		lo := hb.layout.offset[f]
		per[i] = r.bestSplitOf(f, hist[lo:lo+hb.layout.nbins[f]], node, sc)
	})
	var best split
	for _, s := range per {
		if s.ok && (!best.ok || s.gain > best.gain) {
			best = s
		}
	}
	return best
}
