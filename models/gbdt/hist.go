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
// they do for every node (see gradScale), which leaves about 31-log2(n)
// bits per row's gradient and 32-log2(n) per hessian (11 and 12 at a
// million rows). Only split search reads these sums; leaf values are
// summed from the float gradients (see grower.grow).

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
// that len(grads) rows of the largest magnitude fit a packed sum.
func packGrads(dst []int64, grads []gradPair, workers int) gradScale {
	n := len(grads)
	mg, mh := maxGrads(grads, workers)
	levels := func(limit float64) float64 { return max(1, math.Floor(limit/float64(max(n, 1)))-1) }
	qg, qh := levels(1<<31-1), levels(1<<32-1)
	sc := gradScale{gUnit: 1, hUnit: 1}
	if mg > 0 {
		sc.gUnit = float64(mg) / qg
	}
	if mh > 0 {
		sc.hUnit = float64(mh) / qh
	}
	gs, hs := 1/sc.gUnit, 1/sc.hUnit
	dst = dst[:n]
	blocks := (n + quantiseBlockRows - 1) / quantiseBlockRows
	parallelFor(blocks, workers, func(b int) {
		lo, hi := b*quantiseBlockRows, min((b+1)*quantiseBlockRows, n)
		for i, gp := range grads[lo:hi] {
			g := min(max(math.Round(float64(gp.g)*gs), -qg), qg)
			h := min(math.Round(float64(gp.h)*hs), qh)
			if h < 1 && gp.h > 0 {
				h = 1
			}
			dst[lo+i] = packStat(binStat{int64(g), int64(h)})
		}
	})
	return sc
}

// maxGrads returns the largest absolute gradient and the largest hessian.
func maxGrads(grads []gradPair, workers int) (float32, float32) {
	n := len(grads)
	blocks := (n + quantiseBlockRows - 1) / quantiseBlockRows
	maxG, maxH := make([]float32, blocks), make([]float32, blocks)
	parallelFor(blocks, workers, func(b int) {
		var mg, mh float32
		for _, gp := range grads[b*quantiseBlockRows : min((b+1)*quantiseBlockRows, n)] {
			mg = max(mg, abs32(gp.g))
			mh = max(mh, gp.h)
		}
		maxG[b], maxH[b] = mg, mh
	})
	var mg, mh float32
	for b := range maxG {
		mg, mh = max(mg, maxG[b]), max(mh, maxH[b])
	}
	return mg, mh
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
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
	// row-wise (see rowhist.go); 0 never does.
	rowWise int
	private []rowHist // per-worker histograms of row-wise building
}

// build fills dst (zeroing it first) with the gradient sums of rows
// (ascending row indices), for every active feature. Each feature's sums
// are taken in row order by a single goroutine, so the result does not
// depend on the worker count.
func (hb *histBuilder) build(dst []int64, rows []int32, grads []int64) {
	if hb.useRows(len(rows)) {
		hb.buildRows(dst, rows, grads)
		return
	}
	workers := hb.workers
	if len(rows) < minParallelHistRows {
		workers = 1
	}
	if len(rows) == hb.bins.rows {
		// Every row, in order (rows is ascending without duplicates):
		// read bins and gradients sequentially.
		parallelFor(len(hb.groups), workers, func(gi int) {
			hb.buildGroupAll(dst, hb.groups[gi], grads)
		})
		return
	}
	// Gather the node's gradients once so every group reads them
	// sequentially; only the bins are gathered per group.
	if cap(hb.ordered) < len(rows) {
		hb.ordered = make([]int64, len(rows), hb.bins.rows)
	}
	ordered := hb.ordered[:len(rows)]
	blocks := (len(rows) + gatherBlockRows - 1) / gatherBlockRows
	parallelFor(blocks, workers, func(b int) {
		lo, hi := b*gatherBlockRows, min((b+1)*gatherBlockRows, len(rows))
		for i, r := range rows[lo:hi] {
			ordered[lo+i] = grads[r]
		}
	})
	parallelFor(len(hb.groups), workers, func(gi int) {
		hb.buildGroup(dst, hb.groups[gi], rows, ordered)
	})
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

// buildGroupAll is buildGroup for a node holding every row.
func (hb *histBuilder) buildGroupAll(dst []int64, group []int, grads []int64) {
	hb.clearGroup(dst, group)
	n := hb.bins.rows
	grads = grads[:n]
	var odd evenOdd
	i := 0
	for ; i+4 <= len(group); i += 4 {
		c0, c1, c2, c3 := hb.bins.cols[group[i]][:n], hb.bins.cols[group[i+1]][:n], hb.bins.cols[group[i+2]][:n], hb.bins.cols[group[i+3]][:n]
		h0, h1, h2, h3 := hb.view(dst, group[i]), hb.view(dst, group[i+1]), hb.view(dst, group[i+2]), hb.view(dst, group[i+3])
		clear(odd[:])
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
		hb.addOdd(dst, group[i:i+4], &odd)
	}
	for ; i < len(group); i++ {
		col, hv := hb.bins.cols[group[i]][:n], hb.view(dst, group[i])
		for r, v := range grads {
			hv[col[r]] += v
		}
	}
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
