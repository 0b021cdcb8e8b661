package gbdt

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

// rowBlockRows is the number of rows a worker takes at a time when
// building a histogram row-wise.
const rowBlockRows = 8192

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

// rowBins is the row-major copy of the bins of the splittable features:
// row r's bins are data[r*width : (r+1)*width], feature[j] being the
// feature of byte j.
type rowBins struct {
	data    []uint8
	width   int
	feature []int
}

// useRows reports whether a node of n rows gets its histogram row-wise.
func (hb *histBuilder) useRows(n int) bool {
	return hb.rowWise > 0 && n <= hb.rowWise && hb.bins.byRow.width > 0
}

// buildRows fills dst (zeroing it first) with the gradient sums of rows
// (ascending row indices) for every splittable feature.
func (hb *histBuilder) buildRows(dst []int64, rows []int32, grads []int64) {
	rb := &hb.bins.byRow
	blocks := (len(rows) + rowBlockRows - 1) / rowBlockRows
	workers := min(hb.workers, blocks)
	if len(rows) < minParallelHistRows {
		workers = 1
	}
	if workers <= 1 {
		hb.clearRowFeatures(dst)
		addRows(hb.rowViews(&hb.dstViews, dst), rb.data, rb.width, rows, grads)
		return
	}
	for len(hb.private) < workers {
		buf := make([]int64, hb.layout.size)
		var views []*[256]int64
		hb.rowViews(&views, buf)
		hb.private = append(hb.private, privateHist{buf: buf, views: views})
	}
	parallelFor(workers, workers, func(w int) { hb.clearRowFeatures(hb.private[w].buf) })
	parallelForWorker(blocks, workers, func(w, b int) {
		addRows(hb.private[w].views, rb.data, rb.width, rows[b*rowBlockRows:min((b+1)*rowBlockRows, len(rows))], grads)
	})
	// Add the workers' histograms, in parallel over ranges of bins.
	used := hb.layout.size - 256 // the padding is never written
	chunks := (used + mergeChunkBins - 1) / mergeChunkBins
	parallelFor(chunks, workers, func(c int) {
		lo, hi := c*mergeChunkBins, min((c+1)*mergeChunkBins, used)
		d := dst[lo:hi]
		copy(d, hb.private[0].buf[lo:hi])
		for _, p := range hb.private[1:workers] {
			for i, s := range p.buf[lo:hi] {
				d[i] += s
			}
		}
	})
}

// mergeChunkBins is the number of bins one task of the histogram merge
// adds up.
const mergeChunkBins = 4096

// privateHist is a worker's histogram for row-wise building.
type privateHist struct {
	buf   []int64
	views []*[256]int64
}

// rowViews sets *views to the 256-bin views of hist for the row layout's
// features, in row order, and returns it.
func (hb *histBuilder) rowViews(views *[]*[256]int64, hist []int64) []*[256]int64 {
	fs := hb.bins.byRow.feature
	if cap(*views) < len(fs) {
		*views = make([]*[256]int64, len(fs))
	}
	v := (*views)[:len(fs)]
	for j, f := range fs {
		v[j] = hb.view(hist, f)
	}
	return v
}

func (hb *histBuilder) clearRowFeatures(hist []int64) {
	clear(hist[:hb.layout.size-256])
}

// rowBatch is how many rows addRows copies before adding them: the
// copies are independent loads, so the memory system fetches the rows'
// cache lines together instead of one row at a time (the additions of
// one row are too many for the processor to look ahead to the next).
const rowBatch = 16

// addRows adds the gradient of every row in rows to its bin in each
// feature's view; a row's bins are bins[r*width : (r+1)*width], views
// holding one view per byte.
func addRows(views []*[256]int64, bins []uint8, width int, rows []int32, grads []int64) {
	var gbuf [rowBatch]int64
	var bbuf [rowBatch * 256]uint8
	if width > 256 {
		addRowsUnbatched(views, bins, width, rows, grads)
		return
	}
	for len(rows) > 0 {
		batch := rows[:min(rowBatch, len(rows))]
		rows = rows[len(batch):]
		for i, r := range batch {
			gbuf[i] = grads[r]
			copy(bbuf[i*width:(i+1)*width], bins[int(r)*width:int(r)*width+width])
		}
		for i := range batch {
			addRow(views, bbuf[i*width:(i+1)*width], gbuf[i])
		}
	}
}

func addRowsUnbatched(views []*[256]int64, bins []uint8, width int, rows []int32, grads []int64) {
	for _, r := range rows {
		addRow(views, bins[int(r)*width:int(r)*width+width], grads[r])
	}
}

// addRow adds gp to the bin of each of row's features.
func addRow(views []*[256]int64, row []uint8, gp int64) {
	row = row[:len(views)]
	j := 0
	for ; j+4 <= len(row); j += 4 {
		views[j][row[j]] += gp
		views[j+1][row[j+1]] += gp
		views[j+2][row[j+2]] += gp
		views[j+3][row[j+3]] += gp
	}
	for ; j < len(row); j++ {
		views[j][row[j]] += gp
	}
}
