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

// packBinTree packs t (grown, so right = left+1) with its split bins and
// returns its nodes and depth.
// A leaf points to itself with split bin 255, which no bin exceeds.
func packBinTree(t *tree, splitBins []uint8) ([]splitNode[uint8], int) {
	nodes := make([]splitNode[uint8], len(t.left))
	depths := make([]int32, len(t.left)) // children come after their parent
	depth := int32(0)
	for n, l := range t.left {
		if l < 0 {
			nodes[n] = splitNode[uint8]{left: int32(n), split: 255}
			continue
		}
		nodes[n] = splitNode[uint8]{left: l, feature: t.feature[n], split: splitBins[n]}
		depths[l], depths[l+1] = depths[n]+1, depths[n]+1
		depth = max(depth, depths[n]+1)
	}
	return nodes, int(depth)
}

// addTrees adds one round's trees (one per output, with their split bins)
// to the raw scores of the binned rows, as addTreesToScores does on the
// float rows: the same leaves, added in the same order (walkRows).
func (vb *validBins) addTrees(trees []tree, splitBins [][]uint8, scores []float64, workers int) {
	k := len(trees)
	type packed struct {
		nodes []splitNode[uint8]
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
			walkRows(nodes, values, 0, depth, data, cols, lo, hi, scores, k, lo*k+c)
		}
	})
}
