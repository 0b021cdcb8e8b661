package features

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// scanColumns are the history columns the engine reads.
var scanColumns = []string{
	pipeline.ColMessageID, pipeline.ColTimestamp, pipeline.ColWABAID, pipeline.ColPhoneNumberID,
	pipeline.ColRecipient, pipeline.ColCountry, pipeline.ColCampaignID, pipeline.ColTemplate,
	pipeline.ColLanguage, pipeline.ColCategory, pipeline.ColMessageType, pipeline.ColMediaBytes,
	pipeline.ColStatus, pipeline.ColErrorCode, pipeline.ColExploration,
}

// BuildTraining returns the training examples for the history sends with
// time in [from, to) (to <= 0: no upper bound), with their labels. The
// whole history before from warms the state up, and events up to
// to + LabelWindow label the sends. Sends within LabelDelay of the end of
// the data are left out: their outcome may not be known yet.
//
// Outcome features of a send at t see outcome events before
// cfg.TrainingCutoff(t); schedule features see the sends before t.
func BuildTraining(ctx context.Context, src Source, cfg Config, from, to int64) (*Table, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if to <= 0 {
		to = math.MaxInt64
	}
	scanTo := int64(0)
	if to < math.MaxInt64-cfg.LabelWindow.Microseconds() {
		scanTo = to + cfg.LabelWindow.Microseconds()
	}
	start := time.Now()
	tab := newTable()
	eng := newEngine(cfg.TrainingCutoff)
	cl, events, err := run(ctx, src, cfg, eng, newEntities(), from, to, scanTo, tab)
	if err != nil {
		return nil, err
	}
	end := cl.maxTs - cfg.LabelDelay.Microseconds()
	recipients := len(cl.en.recip.names)
	eng.release() // the state can go (so can the classifier's maps)
	tab.X = eng.takeRows()
	tab.truncate(sort.Search(tab.Rows, func(i int) bool { return tab.Time[i] > end }))
	slog.Debug("features: training table built", "events", events, "rows", tab.Rows,
		"recipients", recipients, "elapsed", time.Since(start))
	return tab, nil
}

// run scans the history into the engine: the classifier on the scanning
// goroutine, the engine on a second one when cfg.Workers > 1.
func run(ctx context.Context, src Source, cfg Config, eng *engine, en *entities, from, to, scanTo int64, tab *Table) (*classifier, int64, error) {
	var (
		emit func([]record) []record
		wait = func() {}
		ch   chan []record
	)
	if cfg.Workers > 1 {
		ch = make(chan []record, 8)
		free := make(chan []record, 10)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for b := range ch {
				for i := range b {
					eng.process(&b[i])
				}
				select {
				case free <- b[:0]:
				default: // enough spare buffers
				}
			}
		}()
		emit = func(b []record) []record {
			ch <- b
			select {
			case nb := <-free:
				return nb
			default:
				return make([]record, 0, recordBatch)
			}
		}
		wait = func() { close(ch); <-done }
	} else {
		emit = func(b []record) []record {
			for i := range b {
				eng.process(&b[i])
			}
			return b[:0]
		}
	}
	cl := newClassifier(en, cfg, from, to, tab, emit)
	var (
		events int64
		prevTs int64 = math.MinInt64
		prevID string
	)
	err := src.Scan(ctx, pipeline.ScanOptions{Columns: scanColumns, To: scanTo}, func(batch []pipeline.Event) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i := range batch {
			e := &batch[i]
			if e.Timestamp < prevTs {
				return fmt.Errorf("features: history event of message %q at %s comes after one at %s (message %q): the source must be in time order",
					e.MessageID, e.Time().Format(time.RFC3339Nano), time.UnixMicro(prevTs).UTC().Format(time.RFC3339Nano), prevID)
			}
			if scanTo != 0 && e.Timestamp >= scanTo {
				continue
			}
			prevTs, prevID = e.Timestamp, e.MessageID
			cl.event(e)
			events++
		}
		return nil
	})
	cl.flush()
	wait()
	if err != nil {
		return nil, events, fmt.Errorf("features: scan history: %w", err)
	}
	return cl, events, nil
}

// Scorer featurizes upcoming sends against the history before an as-of
// time. All plan rows see the outcomes before as-of (cutoff = as-of) and
// the sends before them: history sends and the plan's earlier sends. A
// Scorer is not safe for concurrent use.
type Scorer struct {
	cfg    Config
	asOf   int64
	en     *entities
	eng    *engine
	last   int64
	lastID string
}

// NewScorer folds the history before asOf (Unix µs) into the state.
func NewScorer(ctx context.Context, src Source, cfg Config, asOf int64) (*Scorer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	eng := newEngine(func(int64) int64 { return asOf })
	en := newEntities()
	if _, _, err := run(ctx, src, cfg, eng, en, math.MaxInt64, asOf, asOf, &Table{}); err != nil {
		return nil, err
	}
	eng.drain(asOf)
	return &Scorer{cfg: cfg, asOf: asOf, en: en, eng: eng, last: asOf}, nil
}

// AsOf returns the scorer's as-of time (Unix µs), the cutoff of every row.
func (s *Scorer) AsOf() int64 { return s.asOf }

// Next returns the feature rows of a batch of planned sends. ScheduledAt
// must not decrease, within a batch and across calls, and must not be
// before as-of; otherwise Next returns an error naming the send and
// changes nothing. Each send counts for the schedule features of later
// sends, so memory grows only with the entity state.
func (s *Scorer) Next(batch []pipeline.PlannedSend) (*Table, error) {
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
	tab := newTable()
	maxH := s.cfg.MaxHorizon().Microseconds()
	for i := range batch {
		p := &batch[i]
		ids := s.en.ids(p.Recipient, p.PhoneNumberID, p.Template, p.Language, p.CampaignID, p.WABAID, p.Country)
		r := sendRecord(ids, p.ScheduledAt, p.Category, p.MessageType, p.Template, p.MediaBytes)
		r.row = tab.appendIdentity(p.ScheduledAt, p.SendID, s.en.camp.names[ids.camp], s.en.phone.names[ids.phone], s.en.recip.names[ids.recip], false)
		tab.Stale[r.row] = p.ScheduledAt-s.asOf > maxH
		s.eng.setTime(r.ts)
		s.eng.send(&r, s.asOf)
	}
	tab.X = s.eng.takeRows()
	return tab, nil
}
