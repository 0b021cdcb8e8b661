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
type binStat struct{ g, h int64 }

// gradScale holds the units of one tree's fixed-point gradients and
// hessians: powers of two, chosen from the largest absolute value so that
// a sum over every training row stays below 2^62 while keeping at least
// 40 bits per row below the largest value for up to a million rows
// (far finer than the float32 gradients they come from).
type gradScale struct{ gUnit, hUnit float64 }

// decode returns s's sums as floats.
func (sc gradScale) decode(s binStat) (g, h float64) {
	return float64(s.g) * sc.gUnit, float64(s.h) * sc.hUnit
}

// fixedPointUnit returns the power of two u such that n values of
// magnitude at most maxAbs, each divided by u and rounded to an integer,
// sum to less than 2^62 in magnitude.
func fixedPointUnit(maxAbs float64, n int) float64 {
	if !(maxAbs > 0) {
		return 1
	}
	// 2^e > maxAbs*n, so every |value/u| <= 2^61/n and the n rounded
	// values sum to at most 2^61 + n.
	e := math.Ilogb(maxAbs*float64(max(n, 1))) + 1
	return math.Ldexp(1, e-61)
}

// quantiseBlockRows is the block size of the parallel passes of
// quantiseGrads.
const quantiseBlockRows = 65536

// quantiseGrads writes grads in fixed point to dst and returns the units.
// Gradients are truncated toward zero, hessians rounded up so that a
// positive hessian stays positive; either way the error is below one
// unit, about 2^-41 of the largest value at a million rows.
func quantiseGrads(dst []binStat, grads []gradPair, workers int) gradScale {
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
	sc := gradScale{gUnit: fixedPointUnit(float64(mg), n), hUnit: fixedPointUnit(float64(mh), n)}
	gs, hs := 1/sc.gUnit, 1/sc.hUnit // exact: powers of two
	dst = dst[:n]
	parallelFor(blocks, workers, func(b int) {
		lo, hi := b*quantiseBlockRows, min((b+1)*quantiseBlockRows, n)
		for i, gp := range grads[lo:hi] {
			h := float64(gp.h) * hs
			hq := int64(h)
			if float64(hq) < h {
				hq++
			}
			dst[lo+i] = binStat{int64(float64(gp.g) * gs), hq}
		}
	})
	return sc
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

// histGroupSize is how many features one histogram task fills in a single
// pass over a node's rows: each row's gradient is read once per group, and
// a group's histograms (8 x 255 bins x 16 bytes) stay in L1 cache.
const histGroupSize = 8

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
	groups  [][]int // active features, in groups of histGroupSize
	workers int
	ordered []binStat // scratch: a node's gradients in row order
	// rowWise is the largest node (in rows) whose histogram is built
	// row-wise (see rowhist.go); 0 never does.
	rowWise  int
	private  []privateHist   // per-worker histograms of row-wise building
	dstViews []*[256]binStat // scratch: views of the histogram being built
}

// build fills dst (zeroing it first) with the gradient sums of rows
// (ascending row indices), for every active feature. Each feature's sums
// are taken in row order by a single goroutine, so the result does not
// depend on the worker count.
func (hb *histBuilder) build(dst []binStat, rows []int32, grads []binStat) {
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
		hb.ordered = make([]binStat, len(rows), hb.bins.rows)
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
func (hb *histBuilder) buildGroup(dst []binStat, group []int, rows []int32, ordered []binStat) {
	hb.clearGroup(dst, group)
	ordered = ordered[:len(rows)]
	// Fill four features per pass over the rows: each row's gradient is
	// loaded once for the four bins it updates. Bins are uint8, so with
	// 256-entry views the compiler drops the histogram bounds checks (the
	// layout pads the flat histogram so every view fits).
	i := 0
	for ; i+4 <= len(group); i += 4 {
		c0, c1, c2, c3 := hb.bins.cols[group[i]], hb.bins.cols[group[i+1]], hb.bins.cols[group[i+2]], hb.bins.cols[group[i+3]]
		h0, h1, h2, h3 := hb.view(dst, group[i]), hb.view(dst, group[i+1]), hb.view(dst, group[i+2]), hb.view(dst, group[i+3])
		for k, r := range rows {
			gp := ordered[k]
			g, h := gp.g, gp.h
			s := &h0[c0[r]]
			s.g += g
			s.h += h
			s = &h1[c1[r]]
			s.g += g
			s.h += h
			s = &h2[c2[r]]
			s.g += g
			s.h += h
			s = &h3[c3[r]]
			s.g += g
			s.h += h
		}
	}
	for ; i < len(group); i++ {
		col, hv := hb.bins.cols[group[i]], hb.view(dst, group[i])
		for k, r := range rows {
			gp := ordered[k]
			s := &hv[col[r]]
			s.g += gp.g
			s.h += gp.h
		}
	}
}

// buildGroupAll is buildGroup for a node holding every row.
func (hb *histBuilder) buildGroupAll(dst []binStat, group []int, grads []binStat) {
	hb.clearGroup(dst, group)
	n := hb.bins.rows
	grads = grads[:n]
	i := 0
	for ; i+4 <= len(group); i += 4 {
		c0, c1, c2, c3 := hb.bins.cols[group[i]][:n], hb.bins.cols[group[i+1]][:n], hb.bins.cols[group[i+2]][:n], hb.bins.cols[group[i+3]][:n]
		h0, h1, h2, h3 := hb.view(dst, group[i]), hb.view(dst, group[i+1]), hb.view(dst, group[i+2]), hb.view(dst, group[i+3])
		for r, gp := range grads {
			g, h := gp.g, gp.h
			s := &h0[c0[r]]
			s.g += g
			s.h += h
			s = &h1[c1[r]]
			s.g += g
			s.h += h
			s = &h2[c2[r]]
			s.g += g
			s.h += h
			s = &h3[c3[r]]
			s.g += g
			s.h += h
		}
	}
	for ; i < len(group); i++ {
		col, hv := hb.bins.cols[group[i]][:n], hb.view(dst, group[i])
		for r, gp := range grads {
			s := &hv[col[r]]
			s.g += gp.g
			s.h += gp.h
		}
	}
}

func (hb *histBuilder) clearGroup(dst []binStat, group []int) {
	for _, f := range group {
		clear(dst[hb.layout.offset[f] : hb.layout.offset[f]+hb.layout.nbins[f]])
	}
}

// view returns feature f's histogram as a 256-bin array.
func (hb *histBuilder) view(hist []binStat, f int) *[256]binStat {
	return (*[256]binStat)(hist[hb.layout.offset[f] : hb.layout.offset[f]+256])
}

// subtract sets dst = parent - child for every active feature.
func (hb *histBuilder) subtract(dst, parent, child []binStat) {
	for _, g := range hb.groups {
		for _, f := range g {
			lo, hi := hb.layout.offset[f], hb.layout.offset[f]+hb.layout.nbins[f]
			d, p, c := dst[lo:hi], parent[lo:hi], child[lo:hi]
			for b := range d {
				d[b] = binStat{p[b].g - c[b].g, p[b].h - c[b].h}
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
func (r splitRule) bestSplitOf(f int, h []binStat, node binStat, sc gradScale) split {
	best := split{feature: f}
	parent := r.score(sc.decode(node))
	var left binStat
	for b := 0; b+1 < len(h); b++ {
		left.g += h[b].g
		left.h += h[b].h
		gl, hl := sc.decode(left)
		gr, hr := sc.decode(binStat{node.g - left.g, node.h - left.h})
		if !r.allowed(hl, hr) {
			continue
		}
		gn := 0.5 * (r.score(gl, hl) + r.score(gr, hr) - parent)
		if gn > r.minSplitGain && gn > minGain && (!best.ok || gn > best.gain) {
			best = split{feature: f, bin: b, gain: gn, left: left, ok: true}
		}
	}
	return best
}

// bestSplit returns the best split over the active features: features are
// scanned in parallel but compared in feature order, ties keeping the
// lowest feature.
func (hb *histBuilder) bestSplit(r splitRule, hist []binStat, node binStat, sc gradScale, features []int, workers int) split {
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
