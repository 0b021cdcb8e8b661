package features

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// scanColumns are the history columns the engine reads: the message
// columns, and the account-event columns the history contract declares
// (pipeline.HistoryColumns; an account event read without them carries
// zero values, which the account state takes for "not announced").
var scanColumns = append([]string{
	pipeline.ColMessageID, pipeline.ColTimestamp, pipeline.ColWABAID, pipeline.ColPhoneNumberID,
	pipeline.ColRecipient, pipeline.ColCountry, pipeline.ColCampaignID, pipeline.ColTemplate,
	pipeline.ColLanguage, pipeline.ColCategory, pipeline.ColMessageType, pipeline.ColMediaBytes,
	pipeline.ColStatus, pipeline.ColErrorCode, pipeline.ColExploration,
}, declared(pipeline.ColAccountValue, pipeline.ColAccountNumber, pipeline.ColAccountUntil)...)

// declared returns the columns of cols the history contract declares.
func declared(cols ...string) []string {
	var out []string
	for _, c := range cols {
		if slices.Contains(pipeline.HistoryColumns, c) {
			out = append(out, c)
		}
	}
	return out
}

// BuildTraining returns the training examples for the history sends with
// time in [from, to) (to <= 0: no upper bound), with their labels. The
// whole history before from warms the state up, and events up to
// to + LabelWindow label the sends. Sends within LabelDelay of the end of
// the data are left out: their outcome may not be known yet.
//
// Outcome features of a send at t see outcome events before
// cfg.TrainingCutoff(t); schedule features see the sends before t.
//
// The table holds every example in memory (about 480 bytes each); for
// big histories BuildTrainingChunks hands the same rows on in chunks.
func BuildTraining(ctx context.Context, src Source, cfg Config, from, to int64) (*Table, error) {
	var parts []*Table
	err := BuildTrainingChunks(ctx, src, cfg, from, to, func(t *Table) error {
		parts = append(parts, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ConcatTables(parts), nil
}

// ChunkRows is the most rows BuildTrainingChunks hands on at once.
const ChunkRows = chunkRows

const chunkRows = 8192

// BuildTrainingChunks builds the rows of BuildTraining and hands them to
// fn in row (time) order, in tables of at most ChunkRows rows, each as
// soon as its labels are final: LabelWindow after its last send. Memory
// stays bounded by the engine state and the rows of about one
// LabelWindow, however many rows the build makes. fn is called one call
// at a time (from the goroutine that classifies events, see
// Config.Workers); the table is fn's to keep. An error from fn stops the
// build and is returned as is.
func BuildTrainingChunks(ctx context.Context, src Source, cfg Config, from, to int64, fn func(*Table) error) error {
	return buildTrainingChunks(ctx, src, cfg, from, to, math.MinInt64, fn)
}

// buildTrainingChunks is BuildTrainingChunks with the end of the data
// (LabelDelay is measured from it) at least dataEnd.
func buildTrainingChunks(ctx context.Context, src Source, cfg Config, from, to, dataEnd int64, fn func(*Table) error) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if to <= 0 {
		to = math.MaxInt64
	}
	scanTo := int64(0)
	if to < math.MaxInt64-cfg.LabelWindow.Microseconds() {
		scanTo = to + cfg.LabelWindow.Microseconds()
	}
	start := time.Now()
	en := newEntities()
	out := &chunkOut{
		en: en, names: Names(), fn: fn, store: &rowStore{},
		labelWindow: cfg.LabelWindow.Microseconds(), labelDelay: cfg.LabelDelay.Microseconds(),
	}
	eng := newEngine(cfg.TrainingCutoff)
	eng.sched.newChunk = func(first int32) *xChunk { return newXChunk(first, chunkRows) }
	eng.out.done = out.finished
	res, err := run(ctx, src, cfg, eng, en, from, to, scanTo, out)
	if err != nil {
		return err
	}
	// The engine state can go before the last rows are handed on.
	recipients := len(en.recip.names)
	eng = nil
	end := max(res.maxTs, dataEnd) - cfg.LabelDelay.Microseconds()
	if err := out.emit(end, true); err != nil {
		return err
	}
	slog.Debug("features: training rows built", "events", res.events, "rows", out.emitted,
		"recipients", recipients, "late_outcomes", res.late, "elapsed", time.Since(start))
	return nil
}

// chunkOut collects the rows of a training build: the identity and
// label columns from the classifier (rowStore), the feature values from
// the engine's outcome stage (finished, possibly on another goroutine),
// and hands each chunk on once both are there and its labels are final.
type chunkOut struct {
	en          *entities
	names       []string
	fn          func(*Table) error
	store       *rowStore
	labelWindow int64
	labelDelay  int64
	emitted     int

	mu    sync.Mutex
	ready []*xChunk // finished by the engine, in row order, not yet taken
	xs    []*xChunk // taken from ready, not yet handed on
	stop  bool      // all rows are handed on (the rest are past the end)
}

// finished takes a chunk whose feature values are all filled.
func (o *chunkOut) finished(c *xChunk) {
	o.mu.Lock()
	o.ready = append(o.ready, c)
	o.mu.Unlock()
}

// emit hands on the chunks whose features are filled and whose labels
// are final, given the latest event time scanned (maxTs). At the end of
// the build (final), every remaining row up to end = maxTs - LabelDelay
// goes.
func (o *chunkOut) emit(maxTs int64, final bool) error {
	o.mu.Lock()
	o.xs = append(o.xs, o.ready...)
	clear(o.ready)
	o.ready = o.ready[:0]
	o.mu.Unlock()
	for len(o.xs) > 0 && !o.stop {
		lc, x := o.store.chunks[0], o.xs[0]
		if lc.first != x.first {
			panic(fmt.Sprintf("features: feature chunk of row %d meets label chunk of row %d", x.first, lc.first))
		}
		n := int(x.done)
		last := lc.time[n-1]
		if final {
			// maxTs is then the end: rows after it are left out.
			for n > 0 && lc.time[n-1] > maxTs {
				n--
			}
			if n < int(x.done) {
				o.stop = true
			}
		} else if n < chunkRows || last > maxTs-o.labelWindow-1 || last > maxTs-o.labelDelay {
			// Not full yet, a failure may still label it, or it may be
			// within LabelDelay of the end of the data.
			break
		}
		o.store.chunks[0] = nil
		o.store.chunks = o.store.chunks[1:]
		o.xs[0] = nil
		o.xs = o.xs[1:]
		if n == 0 {
			continue
		}
		t := lc.table(n, x.x, o.names, o.en)
		o.emitted += n
		if err := o.fn(t); err != nil {
			return err
		}
	}
	return nil
}

// runResult is what a scan of the history leaves besides the state.
type runResult struct {
	maxTs  int64 // latest event time scanned
	events int64
	late   int64 // outcome events after their message's LabelWindow
}

// run scans the history into the engine. With cfg.Workers > 1 the
// engine runs on other goroutines than the scan (see Config.Workers);
// with Workers > 3 the classifier too, on copies of the events.
func run(ctx context.Context, src Source, cfg Config, eng *engine, en *entities, from, to, scanTo int64, out *chunkOut) (runResult, error) {
	p := newPipeline(cfg.Workers, eng)
	var store *rowStore
	if out != nil {
		store = out.store
	}
	cl := newClassifier(en, cfg, from, to, store, p.emit)
	var (
		res     runResult
		prevTs  int64 = math.MinInt64
		prevID  string
		emitErr error // from the consumer of the rows, returned as is
	)
	classify := func(batch []pipeline.Event) error {
		cl.events(batch)
		if out != nil {
			return out.emit(cl.maxTs, false)
		}
		return nil
	}
	var (
		handOff func(batch []pipeline.Event) error // takes the events to classify
		stop    = func() {}
	)
	if cfg.Workers <= 3 {
		handOff = func(batch []pipeline.Event) error {
			emitErr = classify(batch)
			return emitErr
		}
	} else {
		// The classifier on its own goroutine, fed copies of the events
		// (their strings are immutable, so a copy may outlive the batch).
		const depth = 4
		events := make(chan []pipeline.Event, depth)
		free := make(chan []pipeline.Event, depth+2)
		failed := make(chan error, 1)
		done := make(chan struct{})
		go func() {
			defer close(done)
			var err error
			for b := range events {
				if err == nil {
					if err = classify(b); err != nil {
						failed <- err
					}
				}
				// Not cleared: the next batch overwrites it, and the few
				// spare batches keep only their last events' strings alive.
				select {
				case free <- b[:0]:
				default:
				}
			}
		}()
		var buf []pipeline.Event
		handOff = func(batch []pipeline.Event) error {
			select {
			case emitErr = <-failed:
				return emitErr
			default:
			}
			if buf == nil {
				select {
				case buf = <-free:
				default:
					buf = make([]pipeline.Event, 0, max(len(batch), 1024))
				}
			}
			buf = append(buf, batch...)
			if len(buf) >= 1024 {
				events <- buf
				buf = nil
			}
			return nil
		}
		stop = func() {
			if len(buf) > 0 {
				events <- buf
			}
			close(events)
			<-done
			select {
			case err := <-failed:
				emitErr = err
			default:
			}
		}
	}
	err := src.Scan(ctx, pipeline.ScanOptions{Columns: scanColumns, To: scanTo}, func(batch []pipeline.Event) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := 0 // events before scanTo: a prefix, since they are in order
		for i := range batch {
			e := &batch[i]
			if e.Timestamp < prevTs {
				return fmt.Errorf("features: history event of message %q at %s comes after one at %s (message %q): the source must be in time order",
					e.MessageID, e.Time().Format(time.RFC3339Nano), time.UnixMicro(prevTs).UTC().Format(time.RFC3339Nano), prevID)
			}
			prevTs, prevID = e.Timestamp, e.MessageID
			if scanTo == 0 || e.Timestamp < scanTo {
				n++
			}
		}
		res.events += int64(n)
		return handOff(batch[:n])
	})
	stop()
	cl.flush()
	p.wait()
	eng.out.finish()
	res.maxTs, res.late = cl.maxTs, cl.late
	if emitErr != nil {
		return res, emitErr
	}
	if err != nil {
		return res, fmt.Errorf("features: scan history: %w", err)
	}
	return res, nil
}

// pipeline runs the engine's stages over the classifier's record
// batches: on the calling goroutine (workers <= 1), on one more
// goroutine (workers == 2), or a goroutine per stage (workers > 2).
// Batches travel in order and come back to be refilled.
type stagePipe struct {
	emit func(*recBatch) *recBatch
	wait func()
}

func newPipeline(workers int, eng *engine) stagePipe {
	if workers <= 1 {
		return stagePipe{
			emit: func(b *recBatch) *recBatch {
				eng.process(b)
				b.recs = b.recs[:0]
				return b
			},
			wait: func() {},
		}
	}
	stages := []func(*recBatch){eng.process}
	if workers > 2 {
		stages = []func(*recBatch){eng.sched.process, eng.out.process}
	}
	const depth = 8
	free := make(chan *recBatch, depth*len(stages)+2)
	var wg sync.WaitGroup
	in := make(chan *recBatch, depth)
	first := in
	for k, stage := range stages {
		src, next := in, make(chan *recBatch, depth)
		last := k == len(stages)-1
		wg.Go(func() {
			for b := range src {
				stage(b)
				if !last {
					next <- b
					continue
				}
				b.recs = b.recs[:0]
				select {
				case free <- b:
				default: // enough spare batches
				}
			}
			close(next)
		})
		in = next
	}
	return stagePipe{
		emit: func(b *recBatch) *recBatch {
			first <- b
			select {
			case nb := <-free:
				return nb
			default:
				return newRecBatch()
			}
		},
		wait: func() { close(first); wg.Wait() },
	}
}

// Scorer featurizes upcoming sends against the history before an as-of
// time. All plan rows see the outcomes before as-of (cutoff = as-of) and
// the sends before them: history sends and the plan's earlier sends. A
// Scorer is not safe for concurrent use.
type Scorer struct {
	cfg          Config
	asOf         int64
	foldedBefore int64 // the as-of time the history was folded before
	lastEvent    int64 // Unix µs of the latest history event folded (MinInt64: none)
	en           *entities
	eng          *engine
	last         int64
	lastID       string
	scored       bool // Next was called: the state holds plan sends
	batch        recBatch
	warmed       uint64 // what warmRecipients read
}

// warmRecipients reads the recipient table slots the look-ups of the
// hashed recipients of g start at, in a loop whose loads do not depend
// on one another, so that their cache misses overlap (as
// classifier.warm does for the history; see warmGroup). It changes
// nothing.
func (s *Scorer) warmRecipients(g []pipeline.PlannedSend) {
	t := s.en.recip.hashed
	var sum uint64
	for i := range g {
		if k, ok := hashedKey(g[i].Recipient); ok {
			sum += t.slots[slotIndex(k, t.shift)].key
		}
	}
	s.warmed += sum
}

// NewScorer folds the history before asOf (Unix µs) into the state.
func NewScorer(ctx context.Context, src Source, cfg Config, asOf int64) (*Scorer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	eng := newEngine(func(int64) int64 { return asOf })
	en := newEntities()
	res, err := run(ctx, src, cfg, eng, en, math.MaxInt64, asOf, asOf, nil)
	if err != nil {
		return nil, err
	}
	eng.out.drain(asOf)
	last := int64(math.MinInt64)
	if res.events > 0 {
		last = res.maxTs
	}
	return &Scorer{cfg: cfg, asOf: asOf, foldedBefore: asOf, lastEvent: last, en: en, eng: eng, last: asOf}, nil
}

// AsOf returns the scorer's as-of time (Unix µs), the cutoff of every row.
func (s *Scorer) AsOf() int64 { return s.asOf }

// Next returns the feature rows of a batch of planned sends. ScheduledAt
// must not decrease, within a batch and across calls, and must not be
// before as-of; otherwise Next returns an error naming the send and
// changes nothing. Each send counts for the schedule features of later
// sends, so memory grows only with the entity state.
func (s *Scorer) Next(batch []pipeline.PlannedSend) (*Table, error) {
	return s.next(batch, true)
}

// NextFeatures is Next for a caller that reads only the feature values:
// the table has Names, Rows, X and Stale, and its identity and label
// columns (Time, ID, CampaignID, PhoneNumberID, Recipient, Country,
// Failed, Family, Code, Exploration) are empty; the sends it was given
// say who they are. The feature values are Next's.
func (s *Scorer) NextFeatures(batch []pipeline.PlannedSend) (*Table, error) {
	return s.next(batch, false)
}

func (s *Scorer) next(batch []pipeline.PlannedSend, identity bool) (*Table, error) {
	last, lastID := s.last, s.lastID
	for i := range batch {
		p := &batch[i]
		if p.ScheduledAt < s.asOf {
			return nil, fmt.Errorf("features: plan send %q scheduled at %s is before the as-of time %s",
				p.SendID, time.UnixMicro(p.ScheduledAt).UTC().Format(time.RFC3339), time.UnixMicro(s.asOf).UTC().Format(time.RFC3339))
		}
		if p.ScheduledAt < last {
			return nil, fmt.Errorf("features: plan send %q scheduled at %s is before the previous send %q at %s: plan rows must be in non-decreasing scheduled_at order",
				p.SendID, time.UnixMicro(p.ScheduledAt).UTC().Format(time.RFC3339Nano), lastID, time.UnixMicro(last).UTC().Format(time.RFC3339Nano))
		}
		last, lastID = p.ScheduledAt, p.SendID
	}
	s.last, s.lastID = last, lastID
	s.scored = true
	tab := newTable()
	maxH := s.cfg.MaxHorizon().Microseconds()
	b := &s.batch
	b.recs = slices.Grow(b.recs[:0], len(batch))[:len(batch)]
	if !identity {
		tab.Rows = len(batch)
		tab.Stale = slices.Grow(tab.Stale[:0], len(batch))
	}
	n := len(batch)
	s.warmRecipients(batch[:min(warmGroup, n)])
	for i := range batch {
		if i%warmGroup == 0 {
			s.warmRecipients(batch[min(i+warmGroup, n):min(i+2*warmGroup, n)])
		}
		p := &batch[i]
		ids := s.en.ids(p.Recipient, p.PhoneNumberID, p.Template, p.Language, p.CampaignID, p.WABAID, p.Country)
		r := &b.recs[i]
		*r = sendRecord(ids, p.ScheduledAt, p.Category, p.MessageType, p.Template, p.MediaBytes)
		stale := p.ScheduledAt-s.asOf > maxH
		if identity {
			r.row = tab.appendIdentity(p.ScheduledAt, p.SendID, s.en.camp.names[ids.camp], s.en.phone.names[ids.phone], s.en.recip.names[ids.recip], s.en.country.names[ids.country], false)
			tab.Stale[r.row] = stale
		} else {
			r.row = int32(i)
			tab.Stale = append(tab.Stale, stale)
		}
	}
	ch := newXChunk(0, int32(len(batch)))
	s.eng.sched.chunk = ch
	s.eng.out.chunks = s.eng.out.chunks[:0]
	b.chunks = append(b.chunks[:0], ch)
	s.eng.sched.process(b)
	s.eng.out.score(b)
	s.eng.sched.chunk = nil
	s.eng.out.chunks = s.eng.out.chunks[:0]
	tab.X = ch.x
	return tab, nil
}
