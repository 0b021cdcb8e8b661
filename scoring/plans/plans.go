package plans

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/predictions"
)

// planFile is what the first pass learned about one plan file.
type planFile struct {
	path     string
	valid    int   // rows that will be scored
	rejected int   // invalid rows and rows scheduled before as-of
	sorted   bool  // valid rows are in non-decreasing scheduled_at order
	min, max int64 // scheduled_at range of valid rows
	unhashed int   // valid rows whose recipient is not hashed
	dups     []int // ordinals (among the rows ReadPlan passes) of repeated send ids
	// kept are the valid rows of the file as the survey read them, while
	// the set keeps them (Set.kept): Stream hands them over instead of
	// reading the file again.
	kept keptRows
}

// Set is a run's plan files, read in two passes: Survey validates every
// row once (reporting bad rows), Stream then hands the valid rows to the
// scorer in non-decreasing scheduled_at order.
//
// Order: the features layer needs sends in time order. When every file is
// sorted, Stream merges them (one goroutine per file, bounded memory: a
// few batches per file). When some file is not sorted, Stream loads all
// valid rows and sorts them in memory (about 250 bytes per send plus its
// strings); a caller that wants to fail instead checks Sorted first.
//
// Send ids: a send id repeated within or across the files is rejected
// after its first occurrence (it would be scored, counted and acted on
// twice). Survey keeps every send id in memory (about 60 bytes each) to
// find them.
//
// Reading once: while the valid rows of all files take up to KeepBytes
// (kept compactly, about 100 bytes a send beyond its send id: a 1M-send
// plan keeps about 100 MB), Survey keeps them as it reads them and Stream
// hands them over without reading and validating the files a second time
// (for a 1M-send Parquet plan the second pass took 0.8 CPU seconds, the
// keeping takes about 0.2 in the survey). A larger plan is read twice, in
// bounded memory, as described above; the rows, their order and the
// batches are the same either way.
type Set struct {
	asOf      int64
	batchSize int
	opts      pipeline.PlanOptions // how to read the files (without OnWarning)
	files     []*planFile
	// keepMax is the bytes of valid rows the survey may keep (KeepBytes);
	// keptBytes what it keeps; kept is false once the plan outgrew
	// keepMax (the rows kept so far are dropped) or Release dropped them.
	keepMax, keptBytes int
	kept               bool
	releasing          bool // StreamOnce: kept batches are dropped as they go
}

// KeepBytes is how many bytes of valid plan rows (estimated by
// keptRowBytes) Survey keeps in memory for Stream, so that a plan up to
// this size (about 2M sends) is read once. What they take counts about
// threefold in the peak heap under score's GOGC of 200 (a 1M-send run's
// peak RSS grew from about 0.4 GB to 0.5-0.6 GB).
const KeepBytes = 192 << 20

// rowNumbers assigns row numbers to valid rows in the first pass: ReadPlan
// reports bad rows (with their numbers) before it hands over the valid
// rows after them, so a valid row takes the next number no bad row holds.
// CSV rows are counted as lines with the header on row 1 (records spanning
// several lines shift the count); Parquet rows from 1.
type rowNumbers struct {
	next int
	bad  []int // reported bad rows not yet passed
}

func (r *rowNumbers) badRow(n int) { r.bad = append(r.bad, n) }

func (r *rowNumbers) validRow() int {
	for len(r.bad) > 0 && r.bad[0] <= r.next {
		if r.bad[0] == r.next {
			r.next++
		}
		r.bad = r.bad[1:]
	}
	n := r.next
	r.next++
	return n
}

func firstDataRow(path string) int {
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		return 2
	}
	return 1
}

// Survey runs the first pass over the plan files at paths (Parquet or CSV
// in the plan contract): the rows scheduled at or after asOf (Unix µs)
// will be scored, in batches of batchSize sends. reject is called for
// every row that cannot be scored (invalid, or scheduled before asOf),
// with the file, row, column and reason; if it returns an error the
// survey stops with it. A file that cannot be read (missing, corrupt,
// wrong columns) is an input error (exitcode.Input) naming it.
func Survey(ctx context.Context, paths []string, asOf int64, batchSize int, reject func(pipeline.RowError) error) (*Set, error) {
	return SurveyWith(ctx, paths, pipeline.PlanOptions{}, asOf, batchSize, reject)
}

// SurveyWith is Survey for plan files read with opts (score's --map and
// --timezone): opts.OnWarning gets the files' unused columns once, in
// this first pass.
func SurveyWith(ctx context.Context, paths []string, opts pipeline.PlanOptions, asOf int64, batchSize int, reject func(pipeline.RowError) error) (*Set, error) {
	if batchSize < 1 {
		return nil, fmt.Errorf("plans: batch size %d, want at least 1", batchSize)
	}
	return surveyKeeping(ctx, paths, opts, asOf, batchSize, KeepBytes, reject)
}

// surveyKeeping is SurveyWith keeping up to keepMax bytes of valid rows.
func surveyKeeping(ctx context.Context, paths []string, opts pipeline.PlanOptions, asOf int64, batchSize, keepMax int, reject func(pipeline.RowError) error) (*Set, error) {
	p := &Set{asOf: asOf, batchSize: batchSize, opts: opts, keepMax: keepMax, kept: keepMax > 0}
	p.opts.OnWarning = nil
	if err := p.survey(ctx, paths, opts, reject); err != nil {
		return nil, err
	}
	return p, nil
}

// keep adds a valid row of f to the rows kept for Stream, unless the set
// keeps none (any more); past keepMax it drops every kept row.
func (p *Set) keepRow(f *planFile, s *pipeline.PlannedSend, id arenaRef) {
	if !p.kept {
		return
	}
	p.keptBytes += keptRowBytes(s)
	if p.keptBytes > p.keepMax {
		p.Release() // the files surveyed before f
		f.kept = keptRows{}
		return
	}
	f.kept.add(s, id)
}

// Release drops the rows Survey kept: later Streams read the files again.
// A caller that streams the plan once calls it after Stream, so that the
// rows are collected as soon as the stream is done with them.
func (p *Set) Release() {
	p.kept = false
	for _, f := range p.files {
		f.kept = keptRows{}
	}
}

// survey runs the first pass over paths.
func (p *Set) survey(ctx context.Context, paths []string, opts pipeline.PlanOptions, reject func(pipeline.RowError) error) error {
	asOf := time.UnixMicro(p.asOf).UTC().Format(time.RFC3339)
	seen := newSendIDs()
	hint := 0
	for _, path := range paths {
		hint += pipeline.PlanRowsHint(path)
	}
	seen.reserve(hint) // growing the table as ids come cost a 1M-send plan 0.1-0.3 CPU seconds
	var hs []uint64    // the hashes of a batch's send ids
	for fileIndex, path := range paths {
		f := &planFile{path: path, sorted: true}
		rows := rowNumbers{next: firstDataRow(path)}
		last := int64(0)
		ordinal := 0
		onBad := func(e pipeline.RowError) error {
			rows.badRow(e.Row)
			f.rejected++
			return reject(e)
		}
		err := readAhead(ctx, path, opts, onBad, func(batch []pipeline.PlannedSend) error {
			// The send ids' slots are warmed a group ahead (sendIDs.warm).
			hs = seen.hashes(hs[:0], batch)
			n := len(batch)
			seen.warm(hs[:min(idGroup, n)])
			for i := range batch {
				if i%idGroup == 0 {
					seen.warm(hs[min(i+idGroup, n):min(i+2*idGroup, n)])
				}
				s := &batch[i]
				row := rows.validRow()
				k := ordinal
				ordinal++
				if firstFile, firstRow, dup := seen.addHashed(s.SendID, hs[i], int32(fileIndex), row); dup {
					f.dups = append(f.dups, k)
					f.rejected++
					where := fmt.Sprintf("row %d", firstRow)
					if paths[firstFile] != path {
						where = fmt.Sprintf("%s row %d", paths[firstFile], firstRow)
					}
					err := reject(pipeline.RowError{File: path, Row: row, Column: pipeline.ColSendID,
						Err: fmt.Errorf("send id %q repeats the send of %s: a send is scored once (give each planned send its own id)", s.SendID, where)})
					if err != nil {
						return err
					}
					continue
				}
				if s.ScheduledAt < p.asOf {
					f.rejected++
					err := reject(pipeline.RowError{File: path, Row: row, Column: pipeline.ColScheduledAt,
						Err: fmt.Errorf("send %q is scheduled at %s, before the as-of time %s: too late to score", s.SendID, formatTime(s.ScheduledAt), asOf)})
					if err != nil {
						return err
					}
					continue
				}
				if f.valid == 0 {
					f.min, f.max = s.ScheduledAt, s.ScheduledAt
				} else if s.ScheduledAt < last {
					f.sorted = false
				}
				f.min, f.max = min(f.min, s.ScheduledAt), max(f.max, s.ScheduledAt)
				last = s.ScheduledAt
				f.valid++
				if !strings.HasPrefix(s.Recipient, pipeline.HashedPrefix) {
					f.unhashed++
				}
				p.keepRow(f, s, seen.lastRef())
			}
			return nil
		})
		if err != nil {
			return err
		}
		p.files = append(p.files, f)
	}
	if p.kept {
		for _, f := range p.files {
			f.kept.ids = seen.arena // the kept rows' send ids, without the table
		}
	}
	return nil
}

// idGroup is how many send ids ahead survey warms the send-id table's
// slots (sendIDs.warm): on 1M random ids, looking each up after its
// slot was read a group ahead took about 0.09 CPU seconds instead of
// 0.12-0.18.
const idGroup = 16

// readAhead is readPlan with the reading (Parquet decoding, validation)
// on a goroutine of its own, a few batches ahead of fn and onBad, which
// get the bad rows and the batches in the file's order on the calling
// goroutine, as with readPlan. The survey's own work per row (send ids,
// order, rejections) thus overlaps the decoding of the next rows. When
// fn or onBad fails, reading stops and that error is returned; an error
// of reading comes after every row before it was handled.
func readAhead(ctx context.Context, path string, opts pipeline.PlanOptions, onBad func(pipeline.RowError) error, fn func([]pipeline.PlannedSend) error) error {
	type item struct {
		bad   pipeline.RowError
		isBad bool
		batch []pipeline.PlannedSend
	}
	const ahead = 3
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	items := make(chan item, ahead)
	free := make(chan []pipeline.PlannedSend, ahead+2)
	send := func(it item) error {
		select {
		case items <- it:
			return nil
		case <-rctx.Done():
			return rctx.Err()
		}
	}
	var readErr error
	go func() {
		defer close(items)
		readErr = readPlan(rctx, path, opts, func(e pipeline.RowError) error {
			return send(item{bad: e, isBad: true})
		}, func(b []pipeline.PlannedSend) error {
			var buf []pipeline.PlannedSend
			select {
			case buf = <-free:
			default:
			}
			return send(item{batch: append(buf[:0], b...)}) // b is reused once we return
		})
	}()
	var err error
	for it := range items {
		if err != nil {
			continue // drain until the reader has stopped
		}
		if it.isBad {
			err = onBad(it.bad)
		} else {
			err = fn(it.batch)
			select {
			case free <- it.batch:
			default:
			}
		}
		if err != nil {
			cancel()
		}
	}
	if err != nil {
		return err
	}
	return readErr // read after items closed: the reader has finished
}

// formatTime formats Unix µs as the CSVs do.
func formatTime(us int64) string { return time.UnixMicro(us).UTC().Format(predictions.TimeLayout) }

// Counts returns the valid and rejected rows over all files, and the
// valid rows whose recipient is not hashed (pipeline.HashedPrefix).
func (p *Set) Counts() (valid, rejected, unhashed int) {
	for _, f := range p.files {
		valid, rejected, unhashed = valid+f.valid, rejected+f.rejected, unhashed+f.unhashed
	}
	return
}

// Sorted reports whether every file's valid rows are in scheduled_at
// order (then Stream needs no sort in memory).
func (p *Set) Sorted() bool {
	for _, f := range p.files {
		if !f.sorted {
			return false
		}
	}
	return true
}

// UnsortedFile names the first file that is not sorted, or "".
func (p *Set) UnsortedFile() string {
	for _, f := range p.files {
		if !f.sorted {
			return f.path
		}
	}
	return ""
}

// callbackError carries an error of readPlan's callback through
// pipeline.ReadPlan, to tell it from an error reading the file.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }

// readPlan is pipeline.ReadPlan with its errors sorted out: an error of fn
// or onBad is returned as it is, an error reading the file (missing,
// corrupt, wrong columns) becomes an input error naming the file.
func readPlan(ctx context.Context, path string, opts pipeline.PlanOptions, onBad func(pipeline.RowError) error, fn func([]pipeline.PlannedSend) error) error {
	err := pipeline.ReadPlanWith(ctx, path, opts, func(e pipeline.RowError) error {
		if err := onBad(e); err != nil {
			return &callbackError{err}
		}
		return nil
	}, func(b []pipeline.PlannedSend) error {
		if err := fn(b); err != nil {
			return &callbackError{err}
		}
		return nil
	})
	var ce *callbackError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return ce.err
	case ctx.Err() != nil:
		return err
	}
	return exitcode.Inputf("plan %s: %w", path, err)
}

// skipBad is the second pass's bad-row handler: the survey reported them.
func skipBad(pipeline.RowError) error { return nil }

// BatchSize is the number of sends of the batches Stream hands over (the
// last one may be shorter).
func (p *Set) BatchSize() int { return p.batchSize }

// Stream calls fn with batches of the valid rows of all files in
// non-decreasing scheduled_at order (ties: file order, then row order).
// fn must not keep the batch after it returns. The rows come from what
// Survey kept (see Set) or from the files read again (validated again
// as they are read; the rows Survey reported, invalid, before as-of or
// repeated send ids, are skipped); Stream may be called again.
func (p *Set) Stream(ctx context.Context, fn func([]pipeline.PlannedSend) error) error {
	return p.stream(ctx, fn)
}

// StreamOnce is Stream for a caller that streams the plan once: the rows
// Survey kept are let go as they are handed over, so that they can be
// collected while the stream goes on, and a later Stream reads the files
// again.
func (p *Set) StreamOnce(ctx context.Context, fn func([]pipeline.PlannedSend) error) error {
	p.releasing = true
	defer p.Release()
	return p.stream(ctx, fn)
}

func (p *Set) stream(ctx context.Context, fn func([]pipeline.PlannedSend) error) error {
	var active []*planFile
	for _, f := range p.files {
		if f.valid > 0 {
			active = append(active, f)
		}
	}
	switch {
	case len(active) == 0:
		return nil
	case !p.Sorted():
		return p.streamSorted(ctx, active, fn)
	case len(active) == 1:
		return p.streamOne(ctx, active[0], fn)
	}
	// Files that follow each other in time need no merge.
	sequential := true
	for i := 1; i < len(active); i++ {
		if active[i].min < active[i-1].max {
			sequential = false
		}
	}
	if sequential {
		for _, f := range active {
			if err := p.streamOne(ctx, f, fn); err != nil {
				return err
			}
		}
		return nil
	}
	return p.streamMerged(ctx, active, fn)
}

// keep returns the filter of the second pass over file f: called for
// each row ReadPlan hands over, in order, it tells whether the row is
// streamed (scheduled at or after as-of and not a repeated send id).
func (p *Set) keep(f *planFile) func(s *pipeline.PlannedSend) bool {
	ordinal, dups := 0, f.dups
	return func(s *pipeline.PlannedSend) bool {
		k := ordinal
		ordinal++
		if len(dups) > 0 && dups[0] == k {
			dups = dups[1:]
			return false
		}
		return s.ScheduledAt >= p.asOf
	}
}

// read calls fn with the valid rows of f, in the file's order, in
// batches: the rows the survey kept, or else the file read again
// without the rows the survey rejected. The batch is reused after fn
// returns.
func (p *Set) read(ctx context.Context, f *planFile, fn func([]pipeline.PlannedSend) error) error {
	if p.kept {
		return f.kept.batches(p.batchSize, p.releasing, func(b []pipeline.PlannedSend) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return fn(b)
		})
	}
	keep := p.keep(f)
	var out []pipeline.PlannedSend
	return readPlan(ctx, f.path, p.opts, skipBad, func(batch []pipeline.PlannedSend) error {
		out = out[:0]
		for i := range batch {
			if keep(&batch[i]) {
				out = append(out, batch[i])
			}
		}
		if len(out) == 0 {
			return nil
		}
		return fn(out)
	})
}

// streamOne streams one sorted file, dropping the rows Survey rejected.
func (p *Set) streamOne(ctx context.Context, f *planFile, fn func([]pipeline.PlannedSend) error) error {
	out := make([]pipeline.PlannedSend, 0, p.batchSize)
	err := p.read(ctx, f, func(batch []pipeline.PlannedSend) error {
		if len(out) == 0 && len(batch) == p.batchSize {
			return fn(batch) // kept rows come in whole batches
		}
		for i := range batch {
			out = append(out, batch[i])
			if len(out) == p.batchSize {
				if err := fn(out); err != nil {
					return err
				}
				out = out[:0]
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(out) > 0 {
		return fn(out)
	}
	return nil
}

// streamSorted loads every valid row and sorts it in memory.
func (p *Set) streamSorted(ctx context.Context, files []*planFile, fn func([]pipeline.PlannedSend) error) error {
	n := 0
	for _, f := range files {
		n += f.valid
	}
	all := make([]pipeline.PlannedSend, 0, n)
	for _, f := range files {
		err := p.read(ctx, f, func(batch []pipeline.PlannedSend) error {
			all = append(all, batch...)
			return nil
		})
		if err != nil {
			return err
		}
	}
	slices.SortStableFunc(all, func(a, b pipeline.PlannedSend) int { return cmp.Compare(a.ScheduledAt, b.ScheduledAt) })
	for lo := 0; lo < len(all); lo += p.batchSize {
		if err := fn(all[lo:min(lo+p.batchSize, len(all))]); err != nil {
			return err
		}
	}
	return nil
}

// streamMerged merges sorted files that overlap in time: one reader
// goroutine per file hands copies of its batches over a channel, and the
// merge takes the earliest head each time.
func (p *Set) streamMerged(ctx context.Context, files []*planFile, fn func([]pipeline.PlannedSend) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type source struct {
		ch  chan []pipeline.PlannedSend
		cur []pipeline.PlannedSend
	}
	srcs := make([]*source, len(files))
	var wg sync.WaitGroup
	errs := make([]error, len(files))
	for k, f := range files {
		src := &source{ch: make(chan []pipeline.PlannedSend, 2)}
		srcs[k] = src
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(src.ch)
			err := p.read(ctx, f, func(batch []pipeline.PlannedSend) error {
				cp := slices.Clone(batch) // read's buffer is reused
				select {
				case src.ch <- cp:
					return nil
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			})
			if err != nil {
				errs[k] = err
				cancel(err)
			}
		}()
	}
	mergeErr := func() error {
		out := make([]pipeline.PlannedSend, 0, p.batchSize)
		for {
			best := -1
			for k, s := range srcs {
				if len(s.cur) == 0 {
					b, ok := <-s.ch
					if !ok {
						continue
					}
					s.cur = b
				}
				if best < 0 || s.cur[0].ScheduledAt < srcs[best].cur[0].ScheduledAt {
					best = k
				}
			}
			if best < 0 {
				break
			}
			s := srcs[best]
			out = append(out, s.cur[0])
			s.cur = s.cur[1:]
			if len(out) == p.batchSize {
				if err := fn(out); err != nil {
					return err
				}
				out = out[:0]
			}
		}
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if len(out) > 0 {
			return fn(out)
		}
		return nil
	}()
	if mergeErr != nil {
		cancel(mergeErr)
		// Drain so that readers blocked on a send see the cancellation.
		for _, s := range srcs {
			for range s.ch {
			}
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, mergeErr) {
			return err
		}
	}
	return mergeErr
}
