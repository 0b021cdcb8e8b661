package gbdt

import "slices"

// grower grows one tree from gradient histograms. It is reused across
// trees to recycle histogram buffers.
type grower struct {
	maxDepth, maxLeaves int
	learningRate        float64
	rule                splitRule
	bm                  *binMapper
	hb                  *histBuilder
	features            []int     // active features of the current tree
	scale               gradScale // units of the current tree's packed gradients
	workers             int

	pool     [][]int64
	scratch  []int32 // partition's output, and the serial pass's right rows
	scratch2 []int32 // the parallel blocks' right rows
}

// nodeWork is a node of the tree being grown: its rows are
// rows[start:end] of the grower's row index.
type nodeWork struct {
	node       int32
	start, end int
	sum        binStat // the rows' packed gradient and hessian sums, unpacked
	depth      int
	hist       []int64
	best       split
}

// leafRange records which rows of the row index ended in a leaf, so the
// caller can add the leaf value to their scores without walking the tree.
type leafRange struct {
	node       int32
	start, end int
}

// grownTree is a finished tree plus the training-only facts callers need.
type grownTree struct {
	t        tree
	splitBin []uint8 // per node: split on bin <= splitBin (internal nodes)
	leaves   []leafRange
}

func (gr *grower) getHist() []int64 {
	if n := len(gr.pool); n > 0 {
		h := gr.pool[n-1]
		gr.pool = gr.pool[:n-1]
		return h
	}
	return make([]int64, gr.hb.layout.size)
}

func (gr *grower) putHist(h []int64) {
	if h != nil {
		gr.pool = append(gr.pool, h)
	}
}

func (gr *grower) canSplit(depth int) bool {
	return gr.maxDepth == 0 || depth < gr.maxDepth
}

// evaluate finds the best split of w (w.hist must be filled). It reports
// whether w can be split.
func (gr *grower) evaluate(w *nodeWork) bool {
	if w.end-w.start < 2 {
		return false
	}
	w.best = gr.hb.bestSplit(gr.rule, w.hist, w.sum, gr.scale, gr.features, gr.workers)
	return w.best.ok
}

// grow builds a tree on rows (ascending row indices, reordered in place
// so that every leaf's rows are contiguous). Splits are chosen from
// histograms of the packed gradients (units sc, see packGrads); leaf
// values from the float gradients fine, each leaf's rows summed in float64
// in row order, so they do not depend on the quantisation nor on the
// number of workers.
// Growth is best-first: the open node with the largest gain (ties: the
// lowest node index) is split next, until no node can be split or the
// tree has maxLeaves leaves.
func (gr *grower) grow(rows []int32, grads []int64, sc gradScale, fine []gradPair) grownTree {
	var out grownTree
	t := &out.t
	gr.scale = sc
	var packed int64
	for _, r := range rows {
		packed += grads[r]
	}
	sum := unpackStat(packed)
	root := nodeWork{node: t.addLeaf(), start: 0, end: len(rows), sum: sum}
	out.splitBin = append(out.splitBin, 0)

	var open []nodeWork   // nodes that can still be split, with their best split
	var closed []nodeWork // finished leaves
	if gr.canSplit(0) && len(rows) >= 2 {
		root.hist = gr.getHist()
		gr.hb.build(root.hist, rows, grads, packed)
		if gr.evaluate(&root) {
			open = append(open, root)
		} else {
			gr.putHist(root.hist)
			closed = append(closed, root)
		}
	} else {
		closed = append(closed, root)
	}

	leaves := 1
	for len(open) > 0 && (gr.maxLeaves == 0 || leaves < gr.maxLeaves) {
		bi := 0
		for i := 1; i < len(open); i++ {
			if open[i].best.gain > open[bi].best.gain ||
				(open[i].best.gain == open[bi].best.gain && open[i].node < open[bi].node) {
				bi = i
			}
		}
		p := open[bi]
		open = slices.Delete(open, bi, bi+1)

		s := p.best
		mid := gr.partition(rows[p.start:p.end], s.feature, uint8(s.bin)) + p.start
		l := nodeWork{node: t.addLeaf(), start: p.start, end: mid, sum: s.left, depth: p.depth + 1}
		r := nodeWork{node: t.addLeaf(), start: mid, end: p.end, sum: binStat{p.sum.g - s.left.g, p.sum.h - s.left.h}, depth: p.depth + 1}
		out.splitBin = append(out.splitBin, 0, 0)
		t.feature[p.node] = int32(s.feature)
		t.threshold[p.node] = gr.bm.edges[s.feature][s.bin]
		t.left[p.node], t.right[p.node] = l.node, r.node
		t.gain[p.node] = s.gain
		out.splitBin[p.node] = uint8(s.bin)
		leaves++

		if !gr.canSplit(p.depth + 1) {
			gr.putHist(p.hist)
			closed = append(closed, l, r)
			continue
		}
		// Build the smaller child's histogram; the larger one's is the
		// parent's minus it, computed in the parent's buffer.
		small, large := &l, &r
		if r.end-r.start < l.end-l.start {
			small, large = &r, &l
		}
		small.hist = gr.getHist()
		gr.hb.build(small.hist, rows[small.start:small.end], grads, packStat(small.sum))
		large.hist = p.hist
		gr.hb.subtract(large.hist, p.hist, small.hist)
		for _, c := range []*nodeWork{&l, &r} {
			if gr.evaluate(c) {
				open = append(open, *c)
			} else {
				gr.putHist(c.hist)
				c.hist = nil
				closed = append(closed, *c)
			}
		}
	}
	for _, w := range open {
		gr.putHist(w.hist)
		closed = append(closed, w)
	}
	slices.SortFunc(closed, func(a, b nodeWork) int { return int(a.node - b.node) })
	// Leaves hold disjoint rows: their exact sums are taken in parallel.
	sums := make([][2]float64, len(closed))
	workers := gr.workers
	if len(rows) < minParallelHistRows {
		workers = 1
	}
	parallelFor(len(closed), workers, func(i int) {
		var g, h float64
		for _, r := range rows[closed[i].start:closed[i].end] {
			g += float64(fine[r].g)
			h += float64(fine[r].h)
		}
		sums[i] = [2]float64{g, h}
	})
	for i, w := range closed {
		t.value[w.node] = gr.leafValue(sums[i][0], sums[i][1])
		out.leaves = append(out.leaves, leafRange{node: w.node, start: w.start, end: w.end})
	}
	return out
}

// leafValue is the Newton step -g/(h+lambda), shrunk by the learning rate.
func (gr *grower) leafValue(g, h float64) float64 {
	d := h + gr.rule.lambda
	if d <= 0 {
		return 0
	}
	return -g / d * gr.learningRate
}

// partitionBlockRows is the block size of parallel partitioning; nodes
// with fewer than two blocks of rows are partitioned on one goroutine.
const partitionBlockRows = 8192

// partition reorders rows (ascending) so that rows whose bin in feature
// is <= bin come first, both halves staying ascending, and returns the
// number of those rows. Large nodes are partitioned in parallel blocks:
// each block partitions its own rows in place, then copies its two halves
// to offsets from every block's count, which gives the same order as the
// serial pass.
func (gr *grower) partition(rows []int32, feature int, bin uint8) int {
	col := gr.hb.bins.cols[feature]
	if cap(gr.scratch) < len(rows) {
		gr.scratch = make([]int32, len(rows))
	}
	blocks := (len(rows) + partitionBlockRows - 1) / partitionBlockRows
	if blocks < 2 || gr.workers < 2 {
		return partitionRows(rows, gr.scratch, col, bin)
	}
	if cap(gr.scratch2) < len(rows) {
		gr.scratch2 = make([]int32, len(rows))
	}
	block := func(b int) (lo, hi int) {
		return b * partitionBlockRows, min((b+1)*partitionBlockRows, len(rows))
	}
	lefts := make([]int, blocks)
	parallelFor(blocks, gr.workers, func(b int) {
		lo, hi := block(b)
		lefts[b] = partitionRows(rows[lo:hi], gr.scratch2[lo:hi], col, bin)
	})
	nl := 0
	for _, n := range lefts {
		nl += n
	}
	out := gr.scratch[:len(rows)]
	leftAt, rightAt := make([]int, blocks), make([]int, blocks)
	l, r := 0, nl
	for b := range lefts {
		lo, hi := block(b)
		leftAt[b], rightAt[b] = l, r
		l += lefts[b]
		r += hi - lo - lefts[b]
	}
	parallelFor(blocks, gr.workers, func(b int) {
		lo, hi := block(b)
		copy(out[leftAt[b]:], rows[lo:lo+lefts[b]])
		copy(out[rightAt[b]:], rows[lo+lefts[b]:hi])
	})
	copy(rows, out)
	return nl
}

// partitionRows is partition's serial pass over rows, with tmp (at least
// as long) for the right rows. It does not branch on the data: every row
// is written to both sides and only its side's count advances. The left
// write lands at or before the row being read, so it never overwrites a
// row still to be read.
func partitionRows(rows, tmp []int32, col []uint8, bin uint8) int {
	tmp = tmp[:len(rows)]
	nl, nr := 0, 0
	for _, r := range rows {
		left := int(b2i(col[r] <= bin))
		rows[nl] = r
		tmp[nr] = r
		nl += left
		nr += 1 - left
	}
	copy(rows[nl:], tmp[:nr])
	return nl
}

// leafOfBinnedRow walks a grown tree on row r's bins.
func (gt *grownTree) leafOfBinnedRow(bins *binMatrix, r int) int32 {
	t := &gt.t
	n := int32(0)
	for t.left[n] >= 0 {
		if bins.cols[t.feature[n]][r] <= gt.splitBin[n] {
			n = t.left[n]
		} else {
			n = t.right[n]
		}
	}
	return n
}
