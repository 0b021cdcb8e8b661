package gbdt

import "math"

// packedNode is one node of the prediction layout: the three fields a
// walk reads, in 12 bytes. A walk steps from node n to left+1 when the
// row's value of feature is not <= threshold (NaN included), else to
// left. Internal nodes hold the absolute index of their left child (the
// right child is left+1: the format requires adjacent children). A leaf
// is a fixed point: threshold NaN and left = its own index - 1, so every
// row walks exactly depth steps with no branch on the row's data.
type packedNode struct {
	feature   int32
	threshold float32
	left      int32
}

// forest is every tree of a model packed back to back for prediction.
// roots[i] and depths[i] are tree i's root and depth; values[n] is node
// n's leaf value. live lists the trees prediction walks: all but the
// single leaves of value 0, which add nothing (a softmax model grows one
// for every class with no training rows, every round).
type forest struct {
	nodes  []packedNode
	values []float64
	roots  []int32
	depths []int32
	live   []int32
}

// packForest lays trees out for prediction. Walks end in the same leaves
// as tree.predictRow.
func packForest(trees []tree) forest {
	var f forest
	nan := float32(math.NaN())
	for i := range trees {
		t := &trees[i]
		base := int32(len(f.nodes))
		f.roots = append(f.roots, base)
		f.depths = append(f.depths, int32(treeDepthOf(t)))
		if t.numNodes() > 1 || t.value[0] != 0 {
			f.live = append(f.live, int32(i))
		}
		for n := range t.feature {
			p := packedNode{feature: t.feature[n], threshold: t.threshold[n], left: base + t.left[n]}
			if t.left[n] < 0 {
				p = packedNode{feature: 0, threshold: nan, left: base + int32(n) - 1}
			}
			f.nodes = append(f.nodes, p)
			f.values = append(f.values, t.value[n])
		}
	}
	return f
}

// treeDepthOf is the number of edges on t's longest root-to-leaf path.
// Children always follow their parent, so one forward pass suffices.
func treeDepthOf(t *tree) int {
	depth := make([]int, t.numNodes())
	deepest := 0
	for n := range t.left {
		if l := t.left[n]; l >= 0 {
			depth[l], depth[t.right[n]] = depth[n]+1, depth[n]+1
			deepest = max(deepest, depth[n]+1)
		}
	}
	return deepest
}

// addTree adds tree i's leaf value for rows [lo, hi) of the row-major
// matrix data (cols wide) to out[(r-lo)*stride+offset].
func (f *forest) addTree(i int, data []float32, cols, lo, hi int, out []float64, stride, offset int) {
	nodes, values := f.nodes, f.values
	root, depth := f.roots[i], f.depths[i]
	r := lo
	// Eight rows walk together: their steps are independent, so the CPU
	// overlaps their loads.
	for ; r+8 <= hi; r += 8 {
		x0 := data[r*cols : (r+1)*cols]
		x1 := data[(r+1)*cols : (r+2)*cols]
		x2 := data[(r+2)*cols : (r+3)*cols]
		x3 := data[(r+3)*cols : (r+4)*cols]
		x4 := data[(r+4)*cols : (r+5)*cols]
		x5 := data[(r+5)*cols : (r+6)*cols]
		x6 := data[(r+6)*cols : (r+7)*cols]
		x7 := data[(r+7)*cols : (r+8)*cols]
		n0, n1, n2, n3, n4, n5, n6, n7 := root, root, root, root, root, root, root, root
		for d := depth; d > 0; d-- {
			p0, p1, p2, p3 := nodes[n0], nodes[n1], nodes[n2], nodes[n3]
			p4, p5, p6, p7 := nodes[n4], nodes[n5], nodes[n6], nodes[n7]
			n0 = p0.left + b2i(!(x0[p0.feature] <= p0.threshold))
			n1 = p1.left + b2i(!(x1[p1.feature] <= p1.threshold))
			n2 = p2.left + b2i(!(x2[p2.feature] <= p2.threshold))
			n3 = p3.left + b2i(!(x3[p3.feature] <= p3.threshold))
			n4 = p4.left + b2i(!(x4[p4.feature] <= p4.threshold))
			n5 = p5.left + b2i(!(x5[p5.feature] <= p5.threshold))
			n6 = p6.left + b2i(!(x6[p6.feature] <= p6.threshold))
			n7 = p7.left + b2i(!(x7[p7.feature] <= p7.threshold))
		}
		j := (r-lo)*stride + offset
		out[j] += values[n0]
		out[j+stride] += values[n1]
		out[j+2*stride] += values[n2]
		out[j+3*stride] += values[n3]
		out[j+4*stride] += values[n4]
		out[j+5*stride] += values[n5]
		out[j+6*stride] += values[n6]
		out[j+7*stride] += values[n7]
	}
	for ; r < hi; r++ {
		x := data[r*cols : (r+1)*cols]
		n := root
		for d := depth; d > 0; d-- {
			p := nodes[n]
			n = p.left + b2i(!(x[p.feature] <= p.threshold))
		}
		out[(r-lo)*stride+offset] += values[n]
	}
}

// b2i is 1 for true; the compiler turns it into a flag move, not a branch.
func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
