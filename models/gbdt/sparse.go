package gbdt

// Sparse columns. Many features of a real feature table hold one value for
// most rows (a flag that is rarely set, a count that is mostly 0, a rate
// of a recipient seen once): on failcast's training table, 45 of 102
// splittable features have over three quarters of their rows in one bin.
// A histogram of every row (the root's, each round) need not visit those
// rows: their sum is the node's total minus the other bins'. For such
// features the builder keeps, ahead of training, the rows outside the
// feature's most common bin, and fills the root's histogram from them;
// and a large node's (one built column-wise, see rowhist.go) when the
// list is shorter than half the node, through a mask of the node's rows.
// The sums are integers (see packStat), so the histogram is the same, bin
// for bin, as the dense pass's.

// sparseMaxShare is the largest share of rows outside its most common
// bin that a feature may have to be filled from its sparse column: a
// sparse entry (row index, bin, a gathered gradient) costs about twice a
// dense row's update.
const sparseMaxShare = 0.3

// sparseCol lists the rows of a feature whose bin is not top, with their
// bins, in ascending row order.
type sparseCol struct {
	top  uint8
	rows []int32
	bins []uint8
}

// sparseColumns returns, for every feature of features whose rows outside
// its most common bin are at most maxShare of all rows, its sparse
// column (indexed by feature; nil for the others).
func sparseColumns(bins *binMatrix, features []int, maxShare float64, workers int) []*sparseCol {
	out := make([]*sparseCol, len(bins.cols))
	parallelFor(len(features), workers, func(i int) {
		f := features[i]
		col := bins.cols[f][:bins.rows]
		var counts [256]int
		for _, b := range col {
			counts[b]++
		}
		top := 0
		for b, c := range counts {
			if c > counts[top] {
				top = b
			}
		}
		rest := bins.rows - counts[top]
		if float64(rest) > maxShare*float64(bins.rows) {
			return
		}
		sc := &sparseCol{top: uint8(top), rows: make([]int32, 0, rest), bins: make([]uint8, 0, rest)}
		for r, b := range col {
			if b != sc.top {
				sc.rows = append(sc.rows, int32(r))
				sc.bins = append(sc.bins, b)
			}
		}
		out[f] = sc
	})
	return out
}

// addSparseAll fills h (cleared, feature f's 256-bin view, nbins bins
// used) with every row's gradient from f's sparse column; total is the
// packed sum of every row.
func addSparseAll(h *[256]int64, sc *sparseCol, nbins int, grads []int64, total int64) {
	// Odd entries add into a second copy: consecutive entries often share
	// a bin (a flag's are all in one), and two copies make two
	// independent chains of adds.
	var odd [256]int64
	rows, bins := sc.rows, sc.bins[:len(sc.rows)]
	k := 0
	for ; k+2 <= len(rows); k += 2 {
		h[bins[k]] += grads[rows[k]]
		odd[bins[k+1]] += grads[rows[k+1]]
	}
	for ; k < len(rows); k++ {
		h[bins[k]] += grads[rows[k]]
	}
	rest := int64(0)
	for b := range nbins {
		h[b] += odd[b]
		rest += h[b]
	}
	h[sc.top] = total - rest
}

// addSparseMasked is addSparseAll for a node: rows whose mask is 0 are
// not in it, and total is the packed sum of the node's rows.
func addSparseMasked(h *[256]int64, sc *sparseCol, nbins int, grads []int64, mask []uint8, total int64) {
	var odd [256]int64
	rows, bins := sc.rows, sc.bins[:len(sc.rows)]
	k := 0
	for ; k+2 <= len(rows); k += 2 {
		r, s := rows[k], rows[k+1]
		h[bins[k]] += grads[r] & -int64(mask[r])
		odd[bins[k+1]] += grads[s] & -int64(mask[s])
	}
	for ; k < len(rows); k++ {
		r := rows[k]
		h[bins[k]] += grads[r] & -int64(mask[r])
	}
	rest := int64(0)
	for b := range nbins {
		h[b] += odd[b]
		rest += h[b]
	}
	h[sc.top] = total - rest
}
