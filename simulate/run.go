package simulate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// Sink receives the history, in batches of rows in non-decreasing
// Timestamp order (ties ordered by EventID). A batch is only valid during
// the call: the simulator reuses its memory.
type Sink interface {
	History(batch []pipeline.Event) error
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(batch []pipeline.Event) error

// History calls f.
func (f SinkFunc) History(batch []pipeline.Event) error { return f(batch) }

// World is a simulated world as it stands at Config.AsOf, after Run played
// its history. Its methods do not change it (each plays a copy), but they
// are not safe for concurrent use.
type World struct {
	eng  *engine
	plan []pipeline.PlannedSend
}

// Run simulates the history window of cfg and streams its events to sink
// (which may be nil, to build the world only). Events are passed in
// hour-long batches in non-decreasing Timestamp order; events after AsOf
// (such as late reads of the last sends) are not part of the history.
func Run(ctx context.Context, cfg Config, sink Sink) (*World, error) {
	began := time.Now()
	e, err := newEngine(cfg)
	if err != nil {
		return nil, err
	}
	if sink != nil {
		e.out = &emitter{eng: e, sink: sink, asOf: e.asOf, buckets: map[int64][]pendingEvent{}, next: e.start / usHour, stats: &e.stats}
	}
	if err := e.runUntil(ctx, e.asOf); err != nil {
		return nil, fmt.Errorf("simulate history: %w", err)
	}
	if e.out != nil {
		if err := e.out.flush(e.asOf/usHour + 1); err != nil {
			return nil, fmt.Errorf("simulate history: %w", err)
		}
		e.out = nil
	}
	e.stats.Elapsed = time.Since(began)
	return &World{eng: e}, nil
}

// Config returns the world's configuration.
func (w *World) Config() Config { return w.eng.cfg }

// Stats returns what the history run produced.
func (w *World) Stats() Stats {
	s := w.eng.stats
	s.ByCode = make(map[int32]int64, len(w.eng.stats.ByCode))
	for k, v := range w.eng.stats.ByCode {
		s.ByCode[k] = v
	}
	return s
}

// String summarises the stats: sends, failure rate and failures by family.
func (s *Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d events, %d sends, %d inbound, failure rate %.2f%%", s.Events, s.Sends, s.Inbound, 100*s.FailureRate())
	for f := 1; f < pipeline.NumFamilies; f++ {
		if n := s.ByFamily[f]; n > 0 {
			fmt.Fprintf(&b, ", %s %.2f%%", pipeline.Family(f), 100*float64(n)/float64(max(s.Sends, 1)))
		}
	}
	return b.String()
}

// emitter buffers events by hour and passes each hour to the sink, sorted,
// once no later action can add to it.
type emitter struct {
	eng     *engine
	sink    Sink
	asOf    int64
	buckets map[int64][]pendingEvent
	next    int64            // hours before next have been flushed
	spare   [][]pendingEvent // emptied buckets, for reuse
	out     []pipeline.Event // sorted batch passed to the sink
	keys    []sortKey
	stats   *Stats
}

// pendingEvent is an event waiting for its hour to be flushed.
type pendingEvent struct {
	at     int64
	rec    *sendRecord     // a message's event; nil for an account event
	acct   *pipeline.Event // an account event, whole (EventID set)
	code   int32
	status pipeline.Status
}

// add buffers an event; events at or after AsOf are dropped.
func (o *emitter) add(rec *sendRecord, status pipeline.Status, at int64, code int32) {
	if at >= o.asOf {
		return
	}
	h := at / usHour
	b, ok := o.buckets[h]
	if !ok && len(o.spare) > 0 {
		b = o.spare[len(o.spare)-1]
		o.spare = o.spare[:len(o.spare)-1]
	}
	o.buckets[h] = append(b, pendingEvent{at: at, rec: rec, code: code, status: status})
}

// advance flushes the hours before the hour of t: actions at t or later
// only add events at t or later.
func (o *emitter) advance(t int64) error {
	if h := t / usHour; h > o.next {
		return o.flush(h)
	}
	return nil
}

// flush passes the hours before h to the sink.
func (o *emitter) flush(h int64) error {
	for ; o.next < h; o.next++ {
		b, ok := o.buckets[o.next]
		if !ok {
			continue
		}
		delete(o.buckets, o.next)
		sorted := o.sort(b)
		o.stats.Events += int64(len(sorted))
		if err := o.sink.History(sorted); err != nil {
			return err
		}
		clear(b)
		o.spare, o.out = append(o.spare, b[:0]), sorted[:0]
	}
	return nil
}

// sortKey orders an event without moving it.
type sortKey struct {
	at    int64
	id    string
	index int32
}

// sort returns the events of b as history rows in (Timestamp, EventID)
// order, in o.out.
func (o *emitter) sort(b []pendingEvent) []pipeline.Event {
	keys := o.keys[:0]
	for i := range b {
		p := &b[i]
		if p.acct != nil {
			keys = append(keys, sortKey{p.at, p.acct.EventID, int32(i)})
			continue
		}
		keys = append(keys, sortKey{p.at, pipeline.MakeEventID(p.rec.messageID, p.status, p.at), int32(i)})
	}
	slices.SortFunc(keys, func(x, y sortKey) int {
		if x.at != y.at {
			if x.at < y.at {
				return -1
			}
			return 1
		}
		return strings.Compare(x.id, y.id)
	})
	out := o.out[:0]
	for _, k := range keys {
		out = append(out, o.eng.event(&b[k.index], k.id))
	}
	o.keys = keys[:0]
	return out
}

// compareEvents orders events by Timestamp, then EventID.
func compareEvents(a, b pipeline.Event) int {
	if a.Timestamp != b.Timestamp {
		if a.Timestamp < b.Timestamp {
			return -1
		}
		return 1
	}
	return strings.Compare(a.EventID, b.EventID)
}
