package gbdt

import (
	"math"
	"slices"
)

// Row-wise histograms. The column-major bins suit nodes holding most rows:
// each feature's bins stream from memory and a group's histograms stay in
// L1 cache. A node holding a small share of the rows reads one byte per
// cache line from every column, so it costs about as much as the root.
// For such nodes the histogram builder reads the row-major copy of the
// bins instead: the node's rows are a few contiguous bytes each (every
// splittable feature), so it touches one or two cache lines per row,
// however small the node. The histograms of all features (8 bytes x 255
// bins x 80 features is 160 KiB) then live in L2 cache.
//
// Workers take blocks of rows, each adding into a histogram of its own;
// the histograms are then added up. Sums are integers (packed, see packStat), so the
// result does not depend on which worker took which block.

// rowBlockRows is the most rows a worker takes at a time when building a
// histogram row-wise; nodes of a few blocks are cut into smaller ones (at
// least minRowBlockRows), four per worker, so that workers finish
// together.
const (
	rowBlockRows    = 8192
	minRowBlockRows = 1024
)

// rowWiseShare is the largest share of the training rows (1 in
// rowWiseShare) a node may hold to have its histogram built
// row-wise (see BenchmarkHistogram: the two layouts cost about the same
// at a third of the rows, and row-wise is several times cheaper below a
// tenth).
// 0 turns row-wise building off.
var rowWiseShare = 8

// rowWiseLimit is the largest node, in rows, built row-wise when n rows
// are trained on.
func rowWiseLimit(n int) int {
	if rowWiseShare <= 0 {
		return 0
	}
	return n / rowWiseShare
}

// rowBins is the row-major copy of the bins of the splittable features.
// Each feature owns a slot j (feature[j] is its feature): the dense
// features (those without a sparse column, see sparse.go) the first
// stride slots, row r's bins being data[r*stride : (r+1)*stride]; the
// sparse features the slots after them, up to width, with only the
// entries of rows outside their most common bin (top[j]) kept, row by
// row: row r's are spSlot[e], spBin[e] for e in [spStart[r],
// spStart[r+1]). A histogram adds a row's dense bytes and its few sparse
// entries, and sets a sparse slot's top bin to the node's total minus
// its other bins (on failcast's feature table over two fifths of the
// features are sparse, see sparse.go). newRowBins keeps the entries only
// when they spare enough adds per row.
type rowBins struct {
	data    []uint8
	stride  int
	width   int
	feature []int
	top     []uint8 // per slot; used by sparse slots
	spStart []int32
	spSlot  []uint8
	spBin   []uint8
}

// rowSparseMinSaved is the fewest adds per row (sparse features less
// their mean entries per row) for which sparse features keep per-row
// entries in row-wise histograms; below it they are dense bytes.
const rowSparseMinSaved = 16

// newRowBins builds the row-major copy of the bins of features (at most
// maxRowWidth), sparse[f] being feature f's sparse column or nil. Sparse
// features keep their entries row by row when that spares at least
// minSaved adds per row (Fit passes rowSparseMinSaved) and the entries
// fit int32 offsets; otherwise every feature is a dense byte.
func newRowBins(bins *binMatrix, features []int, sparse []*sparseCol, minSaved float64, workers int) *rowBins {
	rb := &rowBins{}
	entries := 0
	for _, f := range features {
		if f < len(sparse) && sparse[f] != nil {
			entries += len(sparse[f].rows)
		}
	}
	nsparse := 0
	for _, f := range features {
		if f < len(sparse) && sparse[f] != nil {
			nsparse++
		}
	}
	// A row's entries cost a look-up of their place and a cache line
	// of their own: worth it only when they spare many adds.
	saved := float64(nsparse) - float64(entries)/float64(max(bins.rows, 1))
	useSparse := entries < math.MaxInt32 && saved >= minSaved
	isSparse := func(f int) bool { return useSparse && f < len(sparse) && sparse[f] != nil }
	for _, f := range features {
		if !isSparse(f) {
			rb.feature = append(rb.feature, f)
		}
	}
	rb.stride = len(rb.feature)
	for _, f := range features {
		if isSparse(f) {
			rb.feature = append(rb.feature, f)
		}
	}
	rb.width = len(rb.feature)
	rb.top = make([]uint8, rb.width)
	n := bins.rows
	rb.data = make([]uint8, n*rb.stride)
	blocks := (n + binBlockRows - 1) / binBlockRows
	parallelFor(blocks, workers, func(b int) {
		lo, hi := b*binBlockRows, min((b+1)*binBlockRows, n)
		for j, f := range rb.feature[:rb.stride] {
			col := bins.cols[f][lo:hi]
			dst := rb.data[lo*rb.stride+j : hi*rb.stride]
			for i, v := range col {
				dst[i*rb.stride] = v
			}
		}
	})
	if rb.width == rb.stride {
		return rb
	}
	// Count each row's entries, then place them, slot by slot (so a
	// row's entries ascend by slot).
	rb.spStart = make([]int32, n+1)
	for _, f := range rb.feature[rb.stride:] {
		for _, r := range sparse[f].rows {
			rb.spStart[r+1]++
		}
	}
	for r := range n {
		rb.spStart[r+1] += rb.spStart[r]
	}
	rb.spSlot = make([]uint8, entries)
	rb.spBin = make([]uint8, entries)
	next := slices.Clone(rb.spStart[:n])
	for j := rb.stride; j < rb.width; j++ {
		sc := sparse[rb.feature[j]]
		rb.top[j] = sc.top
		for k, r := range sc.rows {
			e := next[r]
			rb.spSlot[e], rb.spBin[e] = uint8(j), sc.bins[k]
			next[r]++
		}
	}
	return rb
}

// useRows reports whether a node of n rows gets its histogram row-wise.
func (hb *histBuilder) useRows(n int) bool {
	return hb.byRow != nil && hb.rowWise > 0 && n <= hb.rowWise && hb.byRow.width > 0 && hb.byRow.width <= maxRowWidth
}

// maxRowWidth is the most features a row-wise histogram holds: byte j of
// a row owns bins [j*256, (j+1)*256) of a rowHist, so that a bin's index
// is the byte's position and value (rotated, see rowSlotShift), with no
// per-feature offset to load.
const maxRowWidth = 256

// rowHist is a worker's histogram for row-wise building.
type rowHist = *[maxRowWidth * 256]int64

// buildRows fills dst (zeroing it first) with the gradient sums of rows
// (ascending row indices) for every splittable feature; total is the
// packed sum of the rows' gradients.
func (hb *histBuilder) buildRows(dst []int64, rows []int32, grads []int64, total int64) {
	rb := hb.byRow
	block := min(rowBlockRows, max(minRowBlockRows, (len(rows)+4*hb.workers-1)/(4*hb.workers)))
	blocks := (len(rows) + block - 1) / block
	workers := max(1, min(hb.workers, blocks))
	if len(rows) < minParallelHistRows {
		workers = 1
	}
	for len(hb.private) < workers {
		hb.private = append(hb.private, new([maxRowWidth * 256]int64))
	}
	used := rb.width * 256
	if workers <= 1 {
		clear(hb.private[0][:used])
		addRows(hb.private[0], rb, rows, grads)
	} else {
		parallelFor(workers, workers, func(w int) { clear(hb.private[w][:used]) })
		parallelForWorker(blocks, workers, func(w, b int) {
			addRows(hb.private[w], rb, rows[b*block:min((b+1)*block, len(rows))], grads)
		})
	}
	// Add the workers' histograms into dst's layout, in parallel over
	// groups of features.
	chunks := (rb.width + mergeChunkFeatures - 1) / mergeChunkFeatures
	mw := workers
	if len(rows) < minParallelHistRows {
		mw = 1
	}
	parallelFor(chunks, mw, func(c int) {
		for j := c * mergeChunkFeatures; j < min((c+1)*mergeChunkFeatures, rb.width); j++ {
			f := rb.feature[j]
			d := dst[hb.layout.offset[f] : hb.layout.offset[f]+hb.layout.nbins[f]]
			rot := rowSlotShift(j)
			p0 := (*[256]int64)(hb.private[0][j*256 : j*256+256])
			for b := range d {
				d[b] = p0[uint8(b)+rot]
			}
			for _, p := range hb.private[1:workers] {
				pj := (*[256]int64)(p[j*256 : j*256+256])
				for b := range d {
					d[b] += pj[uint8(b)+rot]
				}
			}
			if j >= rb.stride {
				// A sparse slot: no row added to its top bin.
				rest := int64(0)
				for _, v := range d {
					rest += v
				}
				d[rb.top[j]] = total - rest
			}
		}
	})
}

// rowSlotShift is how far feature j's bins are rotated within its 256
// slots of a rowHist: bin b of byte j lives at j*256 + uint8(b +
// rowSlotShift(j)). Without it every feature's low bins would sit 2 KiB
// apart, in the same two sets of the L1 cache, which holds only a dozen
// lines per set: with 100 features of few bins, the adds of a row would
// miss L1 all the time. A shift of 8 bins (one cache line) per feature
// spreads them over every set.
func rowSlotShift(j int) uint8 { return uint8(j << 3) }

// mergeChunkFeatures is the number of features one task of the histogram
// merge adds up.
const mergeChunkFeatures = 16

// rowBatch is how many rows addRows copies before adding them: the
// copies are independent loads, so the memory system fetches the rows'
// cache lines together instead of one row at a time (the additions of
// one row are too many for the processor to look ahead to the next).
const rowBatch = 16

// addRows adds the gradient of every row in rows to its bin in each
// slot of h: its dense bytes, then its sparse entries (see rowBins).
func addRows(h rowHist, rb *rowBins, rows []int32, grads []int64) {
	var gbuf [rowBatch]int64
	var bbuf [rowBatch * maxRowWidth]uint8
	var span [rowBatch][2]int32 // sparse entries of the batch's rows
	bins, width := rb.data, rb.stride
	sparse := rb.width > rb.stride
	for len(rows) > 0 {
		batch := rows[:min(rowBatch, len(rows))]
		rows = rows[len(batch):]
		for i, r := range batch {
			gbuf[i] = grads[r]
			copy(bbuf[i*width:(i+1)*width], bins[int(r)*width:int(r)*width+width])
			if sparse {
				span[i] = [2]int32{rb.spStart[r], rb.spStart[r+1]}
			}
		}
		for i := range batch {
			addRow(h, bbuf[i*width:(i+1)*width], gbuf[i])
		}
		if sparse {
			for i := range batch {
				gp := gbuf[i]
				lo, hi := span[i][0], span[i][1]
				slots, sb := rb.spSlot[lo:hi], rb.spBin[lo:hi]
				for k, j := range slots {
					h[uint16(j)<<8|uint16(sb[k]+rowSlotShift(int(j)))] += gp
				}
			}
		}
	}
}

// addRow adds gp to the bin of each of row's features (row holds at most
// maxRowWidth bytes).
func addRow(h rowHist, row []uint8, gp int64) {
	j := 0
	for ; j+4 <= len(row); j += 4 {
		r := row[j : j+4 : j+4]
		rot := rowSlotShift(j)
		h[uint16(j)<<8|uint16(r[0]+rot)] += gp
		h[uint16(j+1)<<8|uint16(r[1]+rot+8)] += gp
		h[uint16(j+2)<<8|uint16(r[2]+rot+16)] += gp
		h[uint16(j+3)<<8|uint16(r[3]+rot+24)] += gp
	}
	for ; j < len(row); j++ {
		h[uint16(j)<<8|uint16(row[j]+rowSlotShift(j))] += gp
	}
}
