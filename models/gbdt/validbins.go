package gbdt

import (
	"context"

	"github.com/failcast/failcast/models"
)

// validBins is a validation set binned once with the training set's bin
// edges, row-major (one byte per feature and row), so that every round's
// trees walk it on bins instead of float values: a quarter of the memory
// to read per round.
//
// A split "bin <= b" is the same as "value <= edges[b]" for every value
// (binMapper), NaN aside: a NaN goes right in prediction, so it gets bin
// nanBin, above every split bin (a split bin is the index of an edge, at
// most 253). The walk therefore reaches the leaf prediction reaches, and
// the scores are the same, bit for bit.
type validBins struct {
	rows, cols int
	data       []uint8 // data[r*cols+f]: bin of feature f in row r
}

// nanBin is the bin of a NaN value: above every split's bin.
const nanBin = 255

// binValid bins the rows of X with bm's edges, in parallel over row
// blocks.
func binValid(ctx context.Context, X models.Matrix, bm *binMapper, workers int) (*validBins, error) {
	vb := &validBins{rows: X.Rows, cols: X.Cols, data: make([]uint8, X.Rows*X.Cols)}
	index := make([]*edgeIndex, X.Cols)
	for f, edges := range bm.edges {
		index[f] = newEdgeIndex(edges)
	}
	blocks := (X.Rows + binBlockRows - 1) / binBlockRows
	parallelFor(blocks, workers, func(b int) {
		if ctx.Err() != nil {
			return
		}
		for r := b * binBlockRows; r < min((b+1)*binBlockRows, X.Rows); r++ {
			out := vb.data[r*X.Cols : (r+1)*X.Cols]
			for f, v := range X.Row(r) {
				switch {
				case v != v:
					out[f] = nanBin
				case len(bm.edges[f]) > 0: // constant features stay in bin 0
					out[f] = index[f].bin(v)
				}
			}
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return vb, nil
}

// binNode is a node of a tree packed for walking bins: a row goes to
// left when its bin of feature is <= bin, otherwise to left+1. A leaf
// points to itself with bin 255, which no bin exceeds, so a walk of a
// fixed number of steps (the tree's depth) stays in the leaf it reaches.
type binNode struct {
	left    int32
	feature int32
	bin     uint8
}

// packBinTree packs t (grown, so right = left+1) with its split bins and
// returns its nodes and depth.
func packBinTree(t *tree, splitBins []uint8) ([]binNode, int) {
	nodes := make([]binNode, len(t.left))
	depths := make([]int32, len(t.left)) // children come after their parent
	depth := int32(0)
	for n, l := range t.left {
		if l < 0 {
			nodes[n] = binNode{left: int32(n), bin: 255}
			continue
		}
		nodes[n] = binNode{left: l, feature: t.feature[n], bin: splitBins[n]}
		depths[l], depths[l+1] = depths[n]+1, depths[n]+1
		depth = max(depth, depths[n]+1)
	}
	return nodes, int(depth)
}

// addTrees adds one round's trees (one per output, with their split bins)
// to the raw scores of the binned rows, as addTreesToScores does on the
// float rows: the same leaves, added in the same order. Eight rows walk
// a tree side by side, their steps independent of each other.
func (vb *validBins) addTrees(trees []tree, splitBins [][]uint8, scores []float64, workers int) {
	k := len(trees)
	type packed struct {
		nodes []binNode
		depth int
	}
	pt := make([]packed, k)
	for c := range trees {
		pt[c].nodes, pt[c].depth = packBinTree(&trees[c], splitBins[c])
	}
	cols, data := vb.cols, vb.data
	blocks := (vb.rows + sumBlockRows - 1) / sumBlockRows
	parallelFor(blocks, workers, func(b int) {
		lo, hi := b*sumBlockRows, min((b+1)*sumBlockRows, vb.rows)
		for c := range trees {
			values, nodes, depth := trees[c].value, pt[c].nodes, pt[c].depth
			if depth == 0 { // a single leaf: every row gets its value
				for r := lo; r < hi; r++ {
					scores[r*k+c] += values[0]
				}
				continue
			}
			r := lo
			for ; r+8 <= hi; r += 8 {
				x0 := data[r*cols : (r+1)*cols]
				x1 := data[(r+1)*cols : (r+2)*cols]
				x2 := data[(r+2)*cols : (r+3)*cols]
				x3 := data[(r+3)*cols : (r+4)*cols]
				x4 := data[(r+4)*cols : (r+5)*cols]
				x5 := data[(r+5)*cols : (r+6)*cols]
				x6 := data[(r+6)*cols : (r+7)*cols]
				x7 := data[(r+7)*cols : (r+8)*cols]
				var n0, n1, n2, n3, n4, n5, n6, n7 int32
				for d := depth; d > 0; d-- {
					p0, p1, p2, p3 := nodes[n0], nodes[n1], nodes[n2], nodes[n3]
					p4, p5, p6, p7 := nodes[n4], nodes[n5], nodes[n6], nodes[n7]
					n0 = p0.left + b2i(x0[p0.feature] > p0.bin)
					n1 = p1.left + b2i(x1[p1.feature] > p1.bin)
					n2 = p2.left + b2i(x2[p2.feature] > p2.bin)
					n3 = p3.left + b2i(x3[p3.feature] > p3.bin)
					n4 = p4.left + b2i(x4[p4.feature] > p4.bin)
					n5 = p5.left + b2i(x5[p5.feature] > p5.bin)
					n6 = p6.left + b2i(x6[p6.feature] > p6.bin)
					n7 = p7.left + b2i(x7[p7.feature] > p7.bin)
				}
				j := r*k + c
				scores[j] += values[n0]
				scores[j+k] += values[n1]
				scores[j+2*k] += values[n2]
				scores[j+3*k] += values[n3]
				scores[j+4*k] += values[n4]
				scores[j+5*k] += values[n5]
				scores[j+6*k] += values[n6]
				scores[j+7*k] += values[n7]
			}
			for ; r < hi; r++ {
				x := data[r*cols : (r+1)*cols]
				n := int32(0)
				for d := depth; d > 0; d-- {
					p := nodes[n]
					n = p.left + b2i(x[p.feature] > p.bin)
				}
				scores[r*k+c] += values[n]
			}
		}
	})
}
