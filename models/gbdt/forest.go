package gbdt

import (
	"math"
	"slices"
	"unsafe"
)

// splitNode is one node of a tree packed for walking rows of values of
// type T (float32 feature values, or uint8 bins): the three fields a walk
// reads, in 12 bytes. A walk steps from node n to left+1 when the row's
// value of feature is not <= split (NaN included), else to left. Internal
// nodes hold the index of their left child (the right child is left+1:
// the format requires adjacent children). A leaf is a fixed point (split
// NaN and left = its own index - 1, or split 255 over bins and left = its
// own index), so every row walks exactly depth steps with no branch on
// the row's data.
type splitNode[T uint8 | float32] struct {
	feature int32
	split   T
	left    int32
}

// packedNode is a node of the general prediction layout.
type packedNode = splitNode[float32]

// maxHeapDepth is the deepest tree laid out complete (see forest): its
// heap indexes, up to 2^(d+1)-2, fit in a uint8.
const maxHeapDepth = 7

// maxHeapCols is the most features a forest laid out complete may split
// on: byte offsets into a transposed block are uint32.
const maxHeapCols = math.MaxUint32 / (predictBlockRows * 4)

// heapSlots is the length of every complete tree's arrays as prediction
// addresses them: fixed, and indexed by a uint8, so the walk needs no
// bounds checks. The arrays of the last tree are padded to it.
const heapSlots = 256

// forest is every tree of a model packed back to back for prediction.
// live lists the trees prediction walks: all but the single leaves of
// value 0, which add nothing (a softmax model grows one for every class
// with no training rows, every round).
//
// Trees no deeper than maxHeapDepth (all of them under the default depth
// limit) are laid out complete, as heaps walked by addHeapTree: tree i's
// 2^d-1 internal nodes (d = depths[i]) start at heapRoot[i] in offs and
// thrs, node j's children are 2j+1 and 2j+2, and its 2^d leaf values
// start at leafBase[i] in leaves. offs holds the byte offset of the
// node's feature column in a transposed row block (see transposeBlock):
// column c, feature cols[c], starts at c*predictBlockRows*4. A leaf of
// the tree above depth d becomes internal nodes of threshold NaN (every
// row goes right) over copies of its value, so every row walks d steps
// and ends in the leaf tree.predictRow ends in.
//
// Deeper trees (leaf-wise growth without a depth limit) have heapRoot -1
// and are walked by addTree in the general layout: tree i's nodes start
// at roots[i] in nodes, values[n] is node n's leaf value.
type forest struct {
	live   []int32
	depths []int32

	heapRoot []int32
	leafBase []int32
	offs     []uint32
	thrs     []float32
	leaves   []float64
	cols     []int32

	nodes  []packedNode
	values []float64
	roots  []int32
}

// packForest lays trees out for prediction. Walks end in the same leaves
// as tree.predictRow.
func packForest(trees []tree) forest {
	var f forest
	nan := float32(math.NaN())
	column := map[int32]int{} // feature -> its column in a transposed block
	for i := range trees {
		t := &trees[i]
		for n, feature := range t.feature {
			if t.left[n] >= 0 {
				column[feature] = 0
			}
		}
	}
	for feature := range column {
		f.cols = append(f.cols, feature)
	}
	slices.Sort(f.cols)
	for c, feature := range f.cols {
		column[feature] = c
	}
	for i := range trees {
		t := &trees[i]
		depth := treeDepthOf(t)
		f.depths = append(f.depths, int32(depth))
		if t.numNodes() > 1 || t.value[0] != 0 {
			f.live = append(f.live, int32(i))
		}
		if depth <= maxHeapDepth && len(f.cols) <= maxHeapCols {
			f.heapRoot = append(f.heapRoot, int32(len(f.offs)))
			f.leafBase = append(f.leafBase, int32(len(f.leaves)))
			inner := 1<<depth - 1
			f.offs = append(f.offs, make([]uint32, inner)...)
			f.thrs = append(f.thrs, make([]float32, inner)...)
			f.leaves = append(f.leaves, make([]float64, inner+1)...)
			h := heapTree{t: t, column: column, offs: f.offs[len(f.offs)-inner:], thrs: f.thrs[len(f.thrs)-inner:], leaves: f.leaves[len(f.leaves)-inner-1:]}
			h.fill(0, 0)
			f.roots = append(f.roots, -1)
			continue
		}
		f.heapRoot = append(f.heapRoot, -1)
		f.leafBase = append(f.leafBase, -1)
		base := int32(len(f.nodes))
		f.roots = append(f.roots, base)
		for n := range t.feature {
			p := packedNode{feature: t.feature[n], split: t.threshold[n], left: base + t.left[n]}
			if t.left[n] < 0 {
				p = packedNode{feature: 0, split: nan, left: base + int32(n) - 1}
			}
			f.nodes = append(f.nodes, p)
			f.values = append(f.values, t.value[n])
		}
	}
	f.offs = append(f.offs, make([]uint32, heapSlots)...)
	f.thrs = append(f.thrs, make([]float32, heapSlots)...)
	f.leaves = append(f.leaves, make([]float64, heapSlots)...)
	return f
}

// heapTree is one tree being laid out complete: its slices of the
// forest's heap arrays.
type heapTree struct {
	t      *tree
	column map[int32]int
	offs   []uint32
	thrs   []float32
	leaves []float64
}

// fill lays the subtree of node n out at heap position j.
func (h *heapTree) fill(n int32, j int) {
	if j >= len(h.offs) { // a leaf position
		h.leaves[j-len(h.offs)] = h.t.value[n]
		return
	}
	l := h.t.left[n]
	if l < 0 {
		h.thrs[j] = float32(math.NaN())
		h.fill(n, 2*j+1)
		h.fill(n, 2*j+2)
		return
	}
	h.offs[j] = uint32(h.column[h.t.feature[n]] * predictBlockRows * 4)
	h.thrs[j] = h.t.threshold[n]
	h.fill(l, 2*j+1)
	h.fill(h.t.right[n], 2*j+2)
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

// blockLen is the length of a transposed row block: predictBlockRows
// values of every feature a split of the forest reads.
func (f *forest) blockLen() int { return len(f.cols) * predictBlockRows }

// transposeBlock copies rows [lo, hi) of the row-major matrix data (cols
// wide, hi-lo <= predictBlockRows) into block column-major:
// block[c*predictBlockRows+j] is row lo+j's value of feature f.cols[c].
func (f *forest) transposeBlock(block, data []float32, cols, lo, hi int) {
	for j := 0; j < hi-lo; j++ {
		row := data[(lo+j)*cols : (lo+j+1)*cols]
		for c, feature := range f.cols {
			block[c*predictBlockRows+j] = row[feature]
		}
	}
}

// addHeapTree adds tree i's leaf value for the n rows of block (see
// transposeBlock) to out[j*stride+offset]. The tree must be laid out
// complete. It walks level by level: a step of every row, then the next
// level (the first pass takes two, the last adds the leaf), so the rows'
// steps are independent and the CPU overlaps them.
func (f *forest) addHeapTree(i int, block []float32, n int, out []float64, stride, offset int) {
	depth := int(f.depths[i])
	r, lb := int(f.heapRoot[i]), int(f.leafBase[i])
	leaves := (*[heapSlots]float64)(f.leaves[lb : lb+heapSlots])
	if depth == 0 {
		for j := range n {
			out[j*stride+offset] += leaves[0]
		}
		return
	}
	offs := (*[heapSlots]uint32)(f.offs[r : r+heapSlots])
	thrs := (*[heapSlots]float32)(f.thrs[r : r+heapSlots])
	// The value loads below are unchecked. They stay in block: every
	// offset starts a column of it, and rows j < predictBlockRows.
	x := unsafe.Pointer(&block[:f.blockLen()][0])
	var idx [predictBlockRows]uint8
	// Rows past n (stale ones of the block, or zeros) walk too, four at a
	// time, and are not added.
	rows := idx[:(n+3)&^3]
	d := depth - 1 // steps before the last
	col, t := unsafe.Add(x, offs[0]), thrs[0]
	if d >= 2 {
		// The first pass takes the root's and its children's steps: three
		// columns read in order, and the child's outcome picked by the
		// root's without a branch.
		col1, t1 := unsafe.Add(x, offs[1]), thrs[1]
		col2, t2 := unsafe.Add(x, offs[2]), thrs[2]
		for j := range rows {
			right := 1 - b2u8(*(*float32)(unsafe.Add(col, 4*j)) <= t)
			l1 := b2u8(*(*float32)(unsafe.Add(col1, 4*j)) <= t1)
			l2 := b2u8(*(*float32)(unsafe.Add(col2, 4*j)) <= t2)
			left := l1 ^ ((l1 ^ l2) & -right)
			rows[j] = 4 + 2*right - left // node 1 or 2, then its child 2k+1 or 2k+2
		}
		d--
	} else {
		for j := range rows {
			rows[j] = 2 - b2u8(*(*float32)(unsafe.Add(col, 4*j)) <= t)
		}
	}
	for ; d > 1; d-- {
		for j := 0; j+4 <= len(rows); j += 4 {
			xj := unsafe.Add(x, 4*j)
			q := (*[4]uint8)(rows[j : j+4])
			k0, k1, k2, k3 := q[0], q[1], q[2], q[3]
			v0 := *(*float32)(unsafe.Add(xj, offs[k0]))
			v1 := *(*float32)(unsafe.Add(xj, uintptr(offs[k1])+4))
			v2 := *(*float32)(unsafe.Add(xj, uintptr(offs[k2])+8))
			v3 := *(*float32)(unsafe.Add(xj, uintptr(offs[k3])+12))
			// Left (2k+1) when v <= threshold, else right (NaN included).
			q[0] = 2*k0 + 2 - b2u8(v0 <= thrs[k0])
			q[1] = 2*k1 + 2 - b2u8(v1 <= thrs[k1])
			q[2] = 2*k2 + 2 - b2u8(v2 <= thrs[k2])
			q[3] = 2*k3 + 2 - b2u8(v3 <= thrs[k3])
		}
	}
	inner := uint8(1<<depth - 1)
	if depth == 1 {
		for j, k := range rows[:n] {
			out[j*stride+offset] += leaves[k-inner]
		}
		return
	}
	// The last step, from the parents of the leaves, adds the leaf.
	inner -= 2 // leaf l is heap index inner+l, 2k+2-b-inner = 2k-b-(inner-2)
	o := out[offset:]
	for j, k := range rows[:n] {
		v := *(*float32)(unsafe.Add(x, uintptr(offs[k])+uintptr(4*j)))
		o[j*stride] += leaves[2*k-b2u8(v <= thrs[k])-inner]
	}
}

// addTree adds tree i's leaf value for rows [lo, hi) of the row-major
// matrix data (cols wide) to out[(r-lo)*stride+offset], walking the
// general layout.
func (f *forest) addTree(i int, data []float32, cols, lo, hi int, out []float64, stride, offset int) {
	walkRows(f.nodes, f.values, f.roots[i], int(f.depths[i]), data, cols, lo, hi, out, stride, offset)
}

// walkRows adds the leaf value (values[leaf]) of the tree at root, depth
// steps deep, for rows [lo, hi) of the row-major matrix data (cols wide)
// to out[(r-lo)*stride+offset].
func walkRows[T uint8 | float32](nodes []splitNode[T], values []float64, root int32, depth int, data []T, cols, lo, hi int, out []float64, stride, offset int) {
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
			n0 = p0.left + b2i(!(x0[p0.feature] <= p0.split))
			n1 = p1.left + b2i(!(x1[p1.feature] <= p1.split))
			n2 = p2.left + b2i(!(x2[p2.feature] <= p2.split))
			n3 = p3.left + b2i(!(x3[p3.feature] <= p3.split))
			n4 = p4.left + b2i(!(x4[p4.feature] <= p4.split))
			n5 = p5.left + b2i(!(x5[p5.feature] <= p5.split))
			n6 = p6.left + b2i(!(x6[p6.feature] <= p6.split))
			n7 = p7.left + b2i(!(x7[p7.feature] <= p7.split))
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
			n = p.left + b2i(!(x[p.feature] <= p.split))
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

// b2u8 is b2i for heap indexes.
func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
