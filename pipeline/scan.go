package pipeline

import (
	"container/heap"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
)

// DefaultBatchSize is the number of events per Scan callback when
// ScanOptions.BatchSize is zero.
const DefaultBatchSize = 65536

// ScanOptions configures Dataset.Scan.
type ScanOptions struct {
	// Columns is the projection, as contract column names (Col*); nil means
	// every contract column. Fields of other columns are left zero
	// (ErrorCode NoErrorCode, MediaBytes NoMediaBytes, AccountNumber
	// 0). An optional column (OptionalHistoryColumns) that a
	// file lacks reads as absent in every row of that file.
	Columns []string
	// From and To select Timestamps in [From, To), Unix micros; 0 means
	// unbounded. Partitions (dt=YYYY-MM-DD) and row groups whose timestamp
	// statistics lie outside the range are not read.
	From, To int64
	// BatchSize is the number of events per callback; 0 means
	// DefaultBatchSize.
	BatchSize int
	// Stats, when not nil, receives counters of the scan's work.
	Stats *ScanStats
}

// ScanStats counts what a scan read and what it pruned. Counters are
// updated atomically and may be read after Scan returns.
type ScanStats struct {
	FilesPruned     atomic.Int64 // files skipped by their partition day
	FilesOpened     atomic.Int64 // files whose footers were used
	RowGroupsPruned atomic.Int64 // row groups skipped by timestamp statistics
	RowGroupsRead   atomic.Int64 // row groups whose pages were decoded
	RowsRead        atomic.Int64 // rows decoded
	RowsEmitted     atomic.Int64 // rows passed to the callback
}

// scanChunk is the number of rows decoded column by column at a time; the
// Events of a chunk stay in the CPU cache while their columns are filled.
const scanChunk = 1024

// projection resolves column names to contract column indexes.
func projection(names []string) ([]int, error) {
	if names == nil {
		cols := make([]int, numHistoryColumns)
		for i := range cols {
			cols[i] = i
		}
		return cols, nil
	}
	index := make(map[string]int, len(HistoryColumns))
	for i, c := range HistoryColumns {
		index[c] = i
	}
	var cols []int
	for _, n := range names {
		hc, ok := index[n]
		if !ok {
			return nil, fmt.Errorf("scan: unknown column %q (want one of %s)", n, strings.Join(HistoryColumns, ", "))
		}
		if !slices.Contains(cols, hc) {
			cols = append(cols, hc)
		}
	}
	return cols, nil
}

// unit is one row group to scan.
type unit struct {
	meta *fileMeta
	g    groupMeta
	seq  int // order among units with equal timestamps
}

// Scan calls fn with batches of events in non-decreasing Timestamp order
// over the whole dataset. Files and row groups are ordered by their
// smallest timestamp; where they overlap in time they are merged, and a
// row group that is not in time order (a foreign file) is sorted in
// memory. Only projected fields are filled. The batch is reused after fn
// returns: copy what must outlive the call, and do not modify it. Scan
// stops at ctx cancellation or at the first error of fn, and returns it.
//
// Before any row is read, every file's schema is checked against the
// contract for the projected columns; a missing column or a wrong type is
// a *SchemaError.
func (d *Dataset) Scan(ctx context.Context, opts ScanOptions, fn func(batch []Event) error) error {
	ss, err := setupScan(opts)
	if err != nil {
		return err
	}
	if err := d.Check(ctx); err != nil {
		return err
	}
	units, err := d.plan(ctx, ss.required, ss.from, ss.to, ss.stats)
	if err != nil {
		return err
	}
	return ss.scanner(ctx, fn).run(units)
}

// scanSetup is ScanOptions resolved: the columns to check and decode, the
// time range and the batch size.
type scanSetup struct {
	proj, required, decodeCols []int
	projectStatus              bool // the status is projected (else decoded for account_number only)
	from, to                   int64
	stats                      *ScanStats
	batchSize                  int
}

func setupScan(opts ScanOptions) (scanSetup, error) {
	proj, err := projection(opts.Columns)
	if err != nil {
		return scanSetup{}, err
	}
	ss := scanSetup{proj: proj, required: proj, stats: opts.Stats, batchSize: opts.BatchSize, from: opts.From, to: opts.To}
	if ss.stats == nil {
		ss.stats = new(ScanStats)
	}
	if ss.batchSize <= 0 {
		ss.batchSize = DefaultBatchSize
	}
	if !slices.Contains(proj, hcTimestamp) {
		ss.required = append(slices.Clone(proj), hcTimestamp)
	}
	// A null account_number is NoAccountNumber on an account event and 0
	// on a message event, so the status is decoded before it.
	ss.projectStatus = slices.Contains(proj, hcStatus)
	if slices.Contains(proj, hcAccountNumber) && !ss.projectStatus {
		ss.required = append(slices.Clone(ss.required), hcStatus)
	}
	// Decode timestamps first: rows are filtered and ordered by them; then
	// the status, then the rest.
	ss.decodeCols = []int{hcTimestamp}
	if slices.Contains(ss.required, hcStatus) {
		ss.decodeCols = append(ss.decodeCols, hcStatus)
	}
	for _, hc := range proj {
		if hc != hcTimestamp && hc != hcStatus {
			ss.decodeCols = append(ss.decodeCols, hc)
		}
	}
	if ss.to == 0 {
		ss.to = maxInt64
	}
	if ss.from == 0 {
		ss.from = minInt64
	}
	return ss, nil
}

// scanner returns the scanner that hands the rows to fn.
func (ss scanSetup) scanner(ctx context.Context, fn func([]Event) error) *scanner {
	return &scanner{
		ctx: ctx, fn: fn, stats: ss.stats,
		cols: ss.decodeCols, from: ss.from, to: ss.to,
		projectTS: slices.Contains(ss.proj, hcTimestamp),
		projectSt: ss.projectStatus,
		intern:    newInterner(1 << 22),
		batch:     newEventBatch(ss.batchSize),
	}
}

// plan lists the row groups a scan of [from, to) reads, in the order it
// reads them (by smallest timestamp, then by file path and group index),
// each with its seq in that order: equal timestamps of different row
// groups come out in seq order.
func (d *Dataset) plan(ctx context.Context, required []int, from, to int64, stats *ScanStats) ([]unit, error) {
	d.mu.Lock()
	misfiled := d.misfiled
	d.mu.Unlock()
	var units []unit
	var metas []*fileMeta
	for _, path := range d.files {
		if day, ok := partitionDay(path); ok {
			if _, bad := misfiled[path]; !bad && (day*microsPerDay >= to || (day+1)*microsPerDay <= from) {
				stats.FilesPruned.Add(1)
				continue
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m, err := d.meta(path)
		if err != nil {
			return nil, err
		}
		if err := m.requireColumns(required); err != nil {
			return nil, err
		}
		metas = append(metas, m)
	}
	for _, m := range metas {
		stats.FilesOpened.Add(1)
		for gi := range m.groups {
			g, err := m.groupInfo(ctx, gi)
			if err != nil {
				return nil, err
			}
			if g.rows == 0 {
				continue
			}
			if g.max < from || g.min >= to {
				stats.RowGroupsPruned.Add(1)
				continue
			}
			units = append(units, unit{meta: m, g: g})
		}
	}
	for i := range units {
		units[i].seq = i
	}
	slices.SortStableFunc(units, func(a, b unit) int {
		switch {
		case a.g.min < b.g.min:
			return -1
		case a.g.min > b.g.min:
			return 1
		}
		return a.seq - b.seq
	})
	for i := range units {
		units[i].seq = i
	}

	return units, nil
}

// newEventBatch returns n events with the "absent" values of the numeric
// fields set.
func newEventBatch(n int) []Event {
	b := make([]Event, n)
	for i := range b {
		b[i].ErrorCode = NoErrorCode
		b[i].MediaBytes = NoMediaBytes
	}
	return b
}

// groupInfo returns a row group's metadata, first reading its timestamp
// column when statistics are missing or the rows are not known to be in
// time order.
func (m *fileMeta) groupInfo(ctx context.Context, gi int) (groupMeta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := &m.groups[gi]
	if g.rows > 0 && !g.measured && (!g.hasStats || !g.sorted) {
		if err := m.measureGroupLocked(ctx, g); err != nil {
			return groupMeta{}, err
		}
	}
	return *g, nil
}

// groupRange returns a row group's metadata, first reading its timestamp
// column when statistics are missing.
func (m *fileMeta) groupRange(ctx context.Context, gi int) (groupMeta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := &m.groups[gi]
	if g.rows > 0 && !g.hasStats {
		if err := m.measureGroupLocked(ctx, g); err != nil {
			return groupMeta{}, err
		}
	}
	return *g, nil
}

// measureGroupLocked reads a row group's timestamps to establish its range
// and whether it is sorted. m.mu is held.
func (m *fileMeta) measureGroupLocked(ctx context.Context, g *groupMeta) error {
	rd, err := newGroupReader(m, *g, []int{hcTimestamp}, minInt64, maxInt64, nil, false, nil)
	if err != nil {
		return err
	}
	defer rd.close()
	buf := make([]Event, 4096)
	lo, hi, sorted := int64(maxInt64), int64(minInt64), true
	prev := int64(minInt64)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, done, err := rd.read(buf)
		if err != nil {
			return err
		}
		for _, e := range buf[:n] {
			ts := e.Timestamp
			lo, hi = minOf(lo, ts), maxOf(hi, ts)
			if ts < prev {
				sorted = false
			}
			prev = ts
		}
		if done {
			break
		}
	}
	g.min, g.max, g.hasStats, g.sorted, g.measured = lo, hi, true, sorted, true
	if !sorted {
		slog.Warn("history row group is not in timestamp order; it will be sorted in memory when scanned",
			"file", m.path, "row_group", g.index, "rows", g.rows)
	}
	return nil
}

// groupReader decodes the projected columns of one row group in chunks.
type groupReader struct {
	meta      *fileMeta
	g         groupMeta
	cursors   []*columnCursor // timestamp first
	remaining int64
	row       int64 // row index of the next row
	from, to  int64
	filter    bool // some rows may fall outside [from, to)
	check     bool // verify time order (declared-sorted groups)
	lastTS    int64
	rowsRead  *atomic.Int64 // optional counter of decoded rows
}

func newGroupReader(m *fileMeta, g groupMeta, cols []int, from, to int64, in *interner, check bool, rowsRead *atomic.Int64) (r *groupReader, err error) {
	if in == nil {
		in = newInterner(1 << 16)
	}
	if _, err := m.rf.acquire(); err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("%s: row group %d: corrupt file: %v", m.path, g.index, p)
		}
		if err != nil {
			m.rf.release()
		}
	}()
	rg := m.pf.RowGroups()[g.index]
	r = &groupReader{meta: m, g: g, remaining: g.rows, from: from, to: to, check: check, lastTS: minInt64, rowsRead: rowsRead}
	r.filter = !(g.hasStats && g.min >= from && g.max < to)
	for _, hc := range cols {
		r.cursors = append(r.cursors, newColumnCursor(m, rg, g.index, hc, in))
	}
	return r, nil
}

func (r *groupReader) close() {
	for _, c := range r.cursors {
		c.close()
	}
	r.cursors = nil
	r.meta.rf.release()
}

// read decodes up to len(dst) rows into dst, drops rows outside [from,
// to), and returns how many rows it kept at the start of dst and whether
// the row group is exhausted.
func (r *groupReader) read(dst []Event) (n int, done bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: row group %d: corrupt file: %v", r.meta.path, r.g.index, p)
		}
	}()
	k := int(min(int64(len(dst)), r.remaining))
	if k == 0 {
		return 0, true, nil
	}
	dst = dst[:k]
	for _, c := range r.cursors {
		if err := c.fill(dst); err != nil {
			return 0, false, err
		}
	}
	if r.check {
		last := r.lastTS
		for i := range dst {
			if dst[i].Timestamp < last {
				return 0, false, fmt.Errorf("%s: row group %d, row %d: column %s: timestamp %d is before the previous row's %d, but the file declares its rows sorted by time",
					r.meta.path, r.g.index, r.row+int64(i), ColTimestamp, dst[i].Timestamp, last)
			}
			last = dst[i].Timestamp
		}
		r.lastTS = last
	}
	r.row += int64(k)
	r.remaining -= int64(k)
	if r.rowsRead != nil {
		r.rowsRead.Add(int64(k))
	}
	n = k
	if r.filter {
		n = 0
		for i := range dst {
			if ts := dst[i].Timestamp; ts >= r.from && ts < r.to {
				if n != i {
					dst[n] = dst[i]
				}
				n++
			}
		}
	}
	return n, r.remaining == 0, nil
}

// scanner runs one Scan: it walks units in time order, streams a unit
// straight into the batch when nothing overlaps it, and merges units that
// overlap in time.
type scanner struct {
	ctx       context.Context
	fn        func([]Event) error
	stats     *ScanStats
	cols      []int
	from, to  int64
	projectTS bool
	projectSt bool // the status is projected (else it is decoded for account_number only)
	intern    *interner
	batch     []Event
	out       int
}

// emit passes the filled part of the batch to fn.
func (s *scanner) emit() error {
	if s.out == 0 {
		return nil
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	b := s.batch[:s.out]
	if !s.projectTS {
		for i := range b {
			b[i].Timestamp = 0
		}
	}
	if !s.projectSt {
		for i := range b {
			b[i].Status = StatusUnknown
		}
	}
	s.stats.RowsEmitted.Add(int64(len(b)))
	s.out = 0
	return s.fn(b)
}

// stream is one unit being merged.
type stream struct {
	u    *unit
	rd   *groupReader // nil once exhausted, or for in-memory units
	mem  []Event      // sorted rows of an in-memory unit, not yet buffered
	buf  []Event
	pos  int
	n    int
	done bool // no rows beyond buf[pos:n]
}

func (st *stream) head() *Event { return &st.buf[st.pos] }

// refill loads the next rows of the stream; afterwards pos < n unless the
// stream is exhausted.
func (s *scanner) refill(st *stream) error {
	st.pos, st.n = 0, 0
	if st.rd == nil {
		k := copy(st.buf, st.mem)
		st.mem = st.mem[k:]
		st.n = k
		st.done = len(st.mem) == 0
		return nil
	}
	for st.n == 0 {
		n, done, err := st.rd.read(st.buf)
		if err != nil {
			return err
		}
		st.n = n
		if done {
			st.rd.close()
			st.rd = nil
			st.done = true
			return nil
		}
	}
	return nil
}

// open starts reading a unit. An unsorted row group is read whole and
// sorted in memory.
func (s *scanner) open(u *unit) (*stream, error) {
	if err := s.ctx.Err(); err != nil {
		return nil, err
	}
	s.stats.RowGroupsRead.Add(1)
	rd, err := newGroupReader(u.meta, u.g, s.cols, s.from, s.to, s.intern, u.g.sorted && !u.g.measured, &s.stats.RowsRead)
	if err != nil {
		return nil, err
	}
	st := &stream{u: u, rd: rd}
	if u.g.sorted {
		st.buf = newEventBatch(scanChunk)
		return st, nil
	}
	all := newEventBatch(int(u.g.rows))
	n := 0
	for {
		k, done, err := rd.read(all[n:])
		if err != nil {
			rd.close()
			return nil, err
		}
		n += k
		if done {
			break
		}
	}
	rd.close()
	all = all[:n]
	slices.SortStableFunc(all, func(a, b Event) int {
		switch {
		case a.Timestamp < b.Timestamp:
			return -1
		case a.Timestamp > b.Timestamp:
			return 1
		}
		return 0
	})
	st.rd, st.mem, st.buf = nil, all, newEventBatch(min(scanChunk, max(n, 1)))
	return st, nil
}

// drain streams the rest of a sorted unit straight into the batch.
func (s *scanner) drain(st *stream) error {
	// Rows already buffered go first.
	for st.pos < st.n {
		k := copy(s.batch[s.out:], st.buf[st.pos:st.n])
		st.pos += k
		s.out += k
		if s.out == len(s.batch) {
			if err := s.emit(); err != nil {
				return err
			}
		}
	}
	if st.rd == nil {
		for len(st.mem) > 0 {
			k := copy(s.batch[s.out:], st.mem)
			st.mem = st.mem[k:]
			s.out += k
			if s.out == len(s.batch) {
				if err := s.emit(); err != nil {
					return err
				}
			}
		}
		return nil
	}
	defer func() {
		if st.rd != nil {
			st.rd.close()
			st.rd = nil
		}
	}()
	for {
		if s.out == len(s.batch) {
			if err := s.emit(); err != nil {
				return err
			}
		}
		k := min(scanChunk, len(s.batch)-s.out)
		n, done, err := st.rd.read(s.batch[s.out : s.out+k])
		if err != nil {
			return err
		}
		s.out += n
		if done {
			return nil
		}
	}
}

// streamHeap orders streams by their head row's timestamp, then by unit
// order.
type streamHeap []*stream

func (h streamHeap) Len() int { return len(h) }
func (h streamHeap) Less(i, j int) bool {
	a, b := h[i].head().Timestamp, h[j].head().Timestamp
	if a != b {
		return a < b
	}
	return h[i].u.seq < h[j].u.seq
}
func (h streamHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *streamHeap) Push(x any)   { *h = append(*h, x.(*stream)) }
func (h *streamHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// run scans units (sorted by smallest timestamp) in time order.
func (s *scanner) run(units []unit) (err error) {
	var active streamHeap
	defer func() {
		for _, st := range active {
			if st.rd != nil {
				st.rd.close()
			}
		}
	}()
	next := 0
	// activate opens the next pending unit and adds it to the heap when it
	// has rows.
	activate := func() error {
		st, err := s.open(&units[next])
		next++
		if err != nil {
			return err
		}
		if err := s.refill(st); err != nil {
			if st.rd != nil {
				st.rd.close()
			}
			return err
		}
		if st.pos < st.n {
			heap.Push(&active, st)
		}
		return nil
	}
	for {
		if len(active) == 0 {
			if next == len(units) {
				break
			}
			u := &units[next]
			if u.g.sorted && (next+1 == len(units) || units[next+1].g.min >= u.g.max) {
				// Nothing overlaps: stream it straight into the batch.
				st, err := s.open(u)
				next++
				if err != nil {
					return err
				}
				if err := s.drain(st); err != nil {
					return err
				}
				continue
			}
			if err := activate(); err != nil {
				return err
			}
			continue
		}
		h := active[0]
		t := h.head().Timestamp
		if next < len(units) && units[next].g.min <= t {
			if err := activate(); err != nil {
				return err
			}
			continue
		}
		if len(active) == 1 && (next == len(units) || units[next].g.min >= h.u.g.max) {
			// The overlap is over: stream the rest of this unit.
			active = active[:0]
			if err := s.drain(h); err != nil {
				return err
			}
			continue
		}
		s.batch[s.out] = *h.head()
		s.out++
		if s.out == len(s.batch) {
			if err := s.emit(); err != nil {
				return err
			}
		}
		h.pos++
		if h.pos == h.n {
			if !h.done {
				if err := s.refill(h); err != nil {
					return err
				}
			}
			if h.pos == h.n {
				heap.Pop(&active)
				continue
			}
		}
		heap.Fix(&active, 0)
	}
	return s.emit()
}
