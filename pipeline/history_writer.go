package pipeline

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/failcast/failcast/internal/atomicfile"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// DefaultRowGroupRows is the number of rows per row group when
// WriteOptions.RowGroupRows is zero.
const DefaultRowGroupRows = 1 << 20

// WriteOptions configures history writers.
type WriteOptions struct {
	// RowGroupRows is the number of rows per row group (the unit of
	// time-range pruning); 0 means DefaultRowGroupRows.
	RowGroupRows int
	// HashKeyFingerprint is recorded in the file's key-value metadata
	// under HashKeyMetaKey: HashKeyFingerprint of the key recipients were
	// hashed with, or UnhashedFingerprint. "" records nothing.
	HashKeyFingerprint string
	// Workers is how many goroutines a Write shares the columns of its
	// events among (0 or 1: the caller's alone). Write still returns only
	// once the events are written, and the file is the same whatever the
	// number: it takes one writer's encoding off a single core. The pages
	// each column still holds when a row group is cut or the file closed
	// are flushed on the workers too.
	Workers int
}

func (o WriteOptions) rowGroupRows() int {
	if o.RowGroupRows <= 0 {
		return DefaultRowGroupRows
	}
	return o.RowGroupRows
}

// statusBytes holds the contract name of each status as bytes for writing.
var statusBytes = func() [][]byte {
	b := make([][]byte, len(statusNames))
	for i, n := range statusNames {
		b[i] = []byte(n)
	}
	return b
}()

// HistoryWriter writes one Parquet file of the history contract. Rows must
// be given in non-decreasing Timestamp order, so row groups are in time
// order and their statistics prune time-range scans. The file is written
// under a temporary name in the target directory; Close flushes it and
// renames it into place, Abort removes it.
type HistoryWriter struct {
	path         string
	file         *atomicfile.File
	pw           *parquet.Writer
	rowGroupRows int
	inGroup      int   // rows in the current row group
	rows         int64 // rows written so far
	lastTS       int64
	finished     bool
	err          error // sticky: a failed write poisons the writer
	workers      int
	values       [][]parquet.Value // per worker: scratch values of one column
}

// NewHistoryWriter creates a writer of a history file at path.
func NewHistoryWriter(path string, opts WriteOptions) (*HistoryWriter, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w := &HistoryWriter{
		path:         path,
		file:         f,
		rowGroupRows: opts.rowGroupRows(),
		lastTS:       minInt64,
		workers:      max(1, opts.Workers),
	}
	w.values = make([][]parquet.Value, w.workers)
	w.pw = parquet.NewWriter(f,
		historySchema,
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}),
		parquet.DataPageStatistics(true),
		parquet.PageBufferSize(1<<20),
		parquet.WriteBufferSize(0), // atomicfile.File buffers
		parquet.CreatedBy("failcast", "1", ""),
	)
	w.pw.SetKeyValueMetadata(sortedByKey, ColTimestamp)
	if opts.HashKeyFingerprint != "" {
		w.pw.SetKeyValueMetadata(HashKeyMetaKey, opts.HashKeyFingerprint)
	}
	return w, nil
}

const minInt64 = -1 << 63

// checkEvents validates a batch before anything of it is written: statuses
// must be known and timestamps non-decreasing from last. first is the
// writer-wide index of events[0], used in error messages.
func checkEvents(path string, events []Event, last int64, first int64) error {
	for i := range events {
		e := &events[i]
		if e.Timestamp < last {
			return fmt.Errorf("%s: row %d (event %s): timestamp %d is before the previous row's %d; rows must be in non-decreasing timestamp order",
				path, first+int64(i), e.EventID, e.Timestamp, last)
		}
		last = e.Timestamp
		if e.Status == StatusUnknown || int(e.Status) >= len(statusNames) {
			return fmt.Errorf("%s: row %d (event %s): column %s: want a contract status, got %s",
				path, first+int64(i), e.EventID, ColStatus, e.Status)
		}
		if !e.Status.IsAccountEvent() {
			// A message event has no account columns; its AccountNumber may
			// be left 0 (the zero Event) or NoAccountNumber.
			switch {
			case e.AccountValue != "":
				return fmt.Errorf("%s: row %d (event %s): column %s: a %s event carries no account value, got %q",
					path, first+int64(i), e.EventID, ColAccountValue, e.Status, e.AccountValue)
			case e.AccountNumber != 0 && e.AccountNumber != NoAccountNumber:
				return fmt.Errorf("%s: row %d (event %s): column %s: a %s event carries no account number, got %d",
					path, first+int64(i), e.EventID, ColAccountNumber, e.Status, e.AccountNumber)
			case e.AccountUntil != 0:
				return fmt.Errorf("%s: row %d (event %s): column %s: a %s event carries no account time, got %d",
					path, first+int64(i), e.EventID, ColAccountUntil, e.Status, e.AccountUntil)
			}
		}
	}
	return nil
}

// Write appends events to the file.
func (w *HistoryWriter) Write(events []Event) error {
	if w.err != nil {
		return w.err
	}
	if w.finished {
		return fmt.Errorf("%s: write after close", w.path)
	}
	if err := checkEvents(w.path, events, w.lastTS, w.rows); err != nil {
		return err
	}
	if err := w.write(events); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.path, err)
		return w.err
	}
	return nil
}

// write writes checked events, cutting row groups every rowGroupRows rows.
func (w *HistoryWriter) write(events []Event) error {
	for len(events) > 0 {
		n := min(len(events), w.rowGroupRows-w.inGroup)
		if err := w.writeColumns(events[:n]); err != nil {
			return err
		}
		w.inGroup += n
		w.rows += int64(n)
		w.lastTS = events[n-1].Timestamp
		events = events[n:]
		if w.inGroup == w.rowGroupRows {
			if err := w.flushPages(); err != nil {
				return err
			}
			if err := w.pw.Flush(); err != nil {
				return err
			}
			w.inGroup = 0
		}
	}
	return nil
}

// bytesOf returns the bytes of s without copying; parquet-go copies values
// into its own buffers.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// writeColumns writes events column by column, avoiding reflection. With
// more than one worker the columns are shared out among that many
// goroutines (each column is written by one of them, so the file is the
// same byte for byte): the writer's cost is mostly per column (value
// building, dictionary lookups, page statistics, compression).
func (w *HistoryWriter) writeColumns(events []Event) error {
	if w.workers <= 1 || len(events) < minParallelRows {
		vals := w.scratch(0, len(events))
		var errs []error
		for col := range numHistoryColumns {
			errs = append(errs, w.writeColumn(col, events, vals))
		}
		clear(vals) // drop references to the callers' strings
		return errors.Join(errs...)
	}
	err := w.eachColumn(func(worker, col int) error {
		return w.writeColumn(col, events, w.scratch(worker, len(events)))
	})
	for _, vals := range w.values {
		clear(vals[:min(len(vals), len(events))]) // drop references to the callers' strings
	}
	return err
}

// eachColumn calls fn for every column, shared out among the writer's
// workers (fn is called with the worker's number, 0 being the caller's
// goroutine), most costly columns first, and returns the errors joined.
// Each column writer of parquet-go is used by one goroutine at a time, so
// what is written is the same whatever the number of workers.
func (w *HistoryWriter) eachColumn(fn func(worker, col int) error) error {
	var next atomic.Int32
	var errs [numHistoryColumns]error
	work := func(worker int) {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(columnWriteOrder) {
				break
			}
			col := columnWriteOrder[i]
			errs[col] = fn(worker, col)
		}
	}
	var wg sync.WaitGroup
	for k := 1; k < w.workers; k++ {
		wg.Go(func() { work(k) })
	}
	work(0)
	wg.Wait()
	return errors.Join(errs[:]...)
}

// flushPages encodes and compresses the page each column has buffered,
// on the writer's workers, before a row group is cut or the file closed:
// parquet-go's Writer.Flush and Close flush the columns one after the
// other on one goroutine (about a page of each of the 21 columns, while
// nothing else is written), and find nothing left to flush after this.
// The pages are the same as theirs, cut at the same rows.
func (w *HistoryWriter) flushPages() error {
	if w.workers <= 1 {
		return nil
	}
	cws := w.pw.ColumnWriters()
	return w.eachColumn(func(_, col int) error { return cws[col].Flush() })
}

// minParallelRows is the smallest batch whose columns are written in
// parallel: below it the goroutines cost more than they save.
const minParallelRows = 1024

// columnWriteOrder lists the columns most costly first (unique strings,
// then dictionary strings), so the workers that take them in this order
// finish at about the same time.
var columnWriteOrder = [numHistoryColumns]int{
	hcEventID, hcMessageID, hcRecipient, hcTimestamp, hcCampaignID, hcTemplate, hcPhoneNumberID, hcWABAID,
	hcCountry, hcLanguage, hcCategory, hcMessageType, hcStatus, hcErrorTitle, hcErrorDetails, hcMediaBytes,
	hcErrorCode, hcExploration, hcAccountValue, hcAccountNumber, hcAccountUntil,
}

// scratch returns worker's value buffer, of n values.
func (w *HistoryWriter) scratch(worker, n int) []parquet.Value {
	if cap(w.values[worker]) < n {
		w.values[worker] = make([]parquet.Value, n)
	}
	return w.values[worker][:n]
}

// writeColumn writes the values of one column of events, using vals
// (len(events) values) as scratch space. Values get their levels with
// set and null rather than parquet.Value.Level, which the compiler does not
// inline (a tenth of the writer's time went to it); the values are the same.
func (w *HistoryWriter) writeColumn(col int, events []Event, vals []parquet.Value) error {
	cw := w.pw.ColumnWriters()[col]
	// set stores v as row i's value, defined at level def.
	set := func(i int, v parquet.Value, def int) {
		vals[i] = v
		vals[i].SetDefinitionLevel(def)
		vals[i].SetColumnIndex(col)
	}
	null := func(i int) {
		vals[i] = parquet.Value{}
		vals[i].SetColumnIndex(col)
	}
	str := func(get func(e *Event) string) error {
		for i := range events {
			set(i, parquet.ByteArrayValue(bytesOf(get(&events[i]))), 0)
		}
		_, err := cw.WriteRowValues(vals)
		return err
	}
	optStr := func(get func(e *Event) string) error {
		for i := range events {
			if s := get(&events[i]); s != "" {
				set(i, parquet.ByteArrayValue(bytesOf(s)), 1)
			} else {
				null(i)
			}
		}
		_, err := cw.WriteRowValues(vals)
		return err
	}
	switch col {
	case hcEventID:
		return str(func(e *Event) string { return e.EventID })
	case hcMessageID:
		return str(func(e *Event) string { return e.MessageID })
	case hcTimestamp:
		for i := range events {
			set(i, parquet.Int64Value(events[i].Timestamp), 0)
		}
	case hcWABAID:
		return str(func(e *Event) string { return e.WABAID })
	case hcPhoneNumberID:
		return str(func(e *Event) string { return e.PhoneNumberID })
	case hcRecipient:
		return str(func(e *Event) string { return e.Recipient })
	case hcCountry:
		return str(func(e *Event) string { return e.Country })
	case hcCampaignID:
		return str(func(e *Event) string { return e.CampaignID })
	case hcTemplate:
		return str(func(e *Event) string { return e.Template })
	case hcLanguage:
		return str(func(e *Event) string { return e.Language })
	case hcCategory:
		return str(func(e *Event) string { return e.Category })
	case hcMessageType:
		return str(func(e *Event) string { return e.MessageType })
	case hcMediaBytes:
		for i := range events {
			if m := events[i].MediaBytes; m != NoMediaBytes {
				set(i, parquet.Int64Value(m), 1)
			} else {
				null(i)
			}
		}
	case hcStatus:
		for i := range events {
			set(i, parquet.ByteArrayValue(statusBytes[events[i].Status]), 0)
		}
	case hcErrorCode:
		for i := range events {
			if c := events[i].ErrorCode; c != NoErrorCode {
				set(i, parquet.Int32Value(c), 1)
			} else {
				null(i)
			}
		}
	case hcErrorTitle:
		return optStr(func(e *Event) string { return e.ErrorTitle })
	case hcErrorDetails:
		return optStr(func(e *Event) string { return e.ErrorDetails })
	case hcExploration:
		for i := range events {
			set(i, parquet.BooleanValue(events[i].Exploration), 0)
		}
	case hcAccountValue:
		return optStr(func(e *Event) string { return e.AccountValue })
	case hcAccountNumber:
		for i := range events {
			e := &events[i]
			if n := e.AccountNumber; e.Status.IsAccountEvent() && n != NoAccountNumber {
				set(i, parquet.Int64Value(n), 1)
			} else {
				null(i)
			}
		}
	case hcAccountUntil:
		for i := range events {
			if t := events[i].AccountUntil; t != 0 {
				set(i, parquet.Int64Value(t), 1)
			} else {
				null(i)
			}
		}
	default:
		return fmt.Errorf("history column %d: no such column", col)
	}
	_, err := cw.WriteRowValues(vals)
	return err
}

// finish writes the footer and flushes the temporary file without
// renaming it.
func (w *HistoryWriter) finish() error {
	if w.finished {
		return w.err
	}
	w.finished = true
	if w.err != nil {
		w.file.Abort()
		return w.err
	}
	err := w.flushPages()
	if err == nil {
		err = w.pw.Close()
	}
	if err != nil {
		w.err = fmt.Errorf("write %s: %w", w.path, err)
		w.file.Abort()
		return w.err
	}
	return nil
}

// Close flushes the file and renames it into place. After a failed Write,
// Close removes the temporary file and returns the write's error.
func (w *HistoryWriter) Close() error {
	if err := w.finish(); err != nil {
		return err
	}
	return w.file.Commit()
}

// Abort removes the temporary file; an earlier file at the path is left
// untouched. Abort after Close is a no-op.
func (w *HistoryWriter) Abort() error {
	w.finished = true
	return w.file.Abort()
}

// Rows returns the number of rows written so far.
func (w *HistoryWriter) Rows() int64 { return w.rows }

// PartitionedHistoryWriter writes a hive-partitioned history dataset:
// dir/dt=YYYY-MM-DD/part-0.parquet, one file per UTC day of Timestamp. Rows
// must be in non-decreasing Timestamp order.
//
// Because rows come in time order, a day is complete as soon as a row of
// a later day arrives: its partition file is then finished (footer
// written, flushed, synced, closed) under a temporary name, and its
// buffers are released. Only the current day's file is open at any time,
// so memory does not grow with the number of days.
//
// The dataset is still committed all at once: no partition file is
// renamed into place before Close, which renames every finished file in
// day order. A partition of the same day already in dir is replaced,
// partitions of other days are left as they are. Abort, or Close after a
// failed Write, removes every temporary file and leaves dir as it was.
// The finished temporary files take disk space (their final size) until
// Close or Abort.
type PartitionedHistoryWriter struct {
	dir     string
	opts    WriteOptions
	current *HistoryWriter
	day     int64              // UTC day number of current
	pending []*atomicfile.File // sealed files of finished days, in day order
	rows    int64
	lastTS  int64
	closed  bool
	err     error
}

// NewPartitionedHistoryWriter creates a writer of a partitioned history
// dataset under dir.
func NewPartitionedHistoryWriter(dir string, opts WriteOptions) (*PartitionedHistoryWriter, error) {
	if dir == "" {
		return nil, errors.New("partitioned history writer: empty directory")
	}
	return &PartitionedHistoryWriter{dir: dir, opts: opts, lastTS: minInt64}, nil
}

const microsPerDay = 86400 * 1_000_000

// dayOf returns the UTC day number (days since the epoch) of a timestamp.
func dayOf(ts int64) int64 {
	d := ts / microsPerDay
	if ts%microsPerDay < 0 {
		d--
	}
	return d
}

// PartitionPath returns the path of the partition file of a UTC day in a
// dataset directory: dir/dt=YYYY-MM-DD/part-0.parquet.
func PartitionPath(dir string, day time.Time) string {
	return filepath.Join(dir, "dt="+day.UTC().Format(time.DateOnly), "part-0.parquet")
}

// Write appends events, starting a new partition file when the UTC day
// changes.
func (w *PartitionedHistoryWriter) Write(events []Event) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("%s: write after close", w.dir)
	}
	if err := checkEvents(w.dir, events, w.lastTS, w.rows); err != nil {
		return err
	}
	for len(events) > 0 {
		day := dayOf(events[0].Timestamp)
		n := 1
		for n < len(events) && dayOf(events[n].Timestamp) == day {
			n++
		}
		if w.current == nil || day != w.day {
			if err := w.startDay(day); err != nil {
				w.err = err
				return err
			}
		}
		if err := w.current.Write(events[:n]); err != nil {
			w.err = err
			return err
		}
		w.rows += int64(n)
		w.lastTS = events[n-1].Timestamp
		events = events[n:]
	}
	return nil
}

// startDay finishes the current partition and opens the partition of
// day.
func (w *PartitionedHistoryWriter) startDay(day int64) error {
	if err := w.finishCurrent(); err != nil {
		return err
	}
	hw, err := NewHistoryWriter(PartitionPath(w.dir, time.UnixMicro(day*microsPerDay)), w.opts)
	if err != nil {
		return err
	}
	w.current, w.day = hw, day
	return nil
}

// finishCurrent writes the footer of the current partition, seals its
// temporary file (flushed, closed, not renamed) and drops the writer so
// its buffers can be collected.
func (w *PartitionedHistoryWriter) finishCurrent() error {
	if w.current == nil {
		return nil
	}
	hw := w.current
	if err := hw.finish(); err != nil {
		return err
	}
	if err := hw.file.Seal(); err != nil {
		return err
	}
	w.pending = append(w.pending, hw.file)
	w.current = nil
	return nil
}

// openFiles returns the number of partition files open for writing (not
// sealed): at most one.
func (w *PartitionedHistoryWriter) openFiles() int {
	n := 0
	if w.current != nil && !w.current.file.Sealed() {
		n++
	}
	for _, f := range w.pending {
		if !f.Sealed() {
			n++
		}
	}
	return n
}

// Close finishes the last partition and renames every partition file into
// place. After a failed Write, Close removes all temporary files and
// returns the write's error. If a rename fails, the partitions renamed
// before it stay in place and the rest are removed.
func (w *PartitionedHistoryWriter) Close() error {
	if w.closed {
		return w.err
	}
	if w.err != nil {
		w.Abort()
		return w.err
	}
	if err := w.finishCurrent(); err != nil {
		w.err = err
		w.Abort()
		return err
	}
	w.closed = true
	for i, f := range w.pending {
		if err := f.Commit(); err != nil {
			for _, rest := range w.pending[i+1:] {
				rest.Abort()
			}
			w.err = err
			return err
		}
	}
	w.pending = nil
	return nil
}

// Abort removes all temporary partition files, finished or not;
// partitions already renamed by a Close are not touched.
func (w *PartitionedHistoryWriter) Abort() error {
	w.closed = true
	var errs []error
	if w.current != nil {
		errs = append(errs, w.current.Abort())
	}
	for _, f := range w.pending {
		errs = append(errs, f.Abort())
	}
	return errors.Join(errs...)
}

// Rows returns the number of rows written so far.
func (w *PartitionedHistoryWriter) Rows() int64 { return w.rows }
