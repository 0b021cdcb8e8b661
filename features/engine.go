package features

import (
	"fmt"
	"runtime/debug"

	"github.com/failcast/failcast/pipeline"
)

// entityIDs are the dense ids of a send's entities.
type entityIDs struct{ recip, phone, tpl, camp, waba, country int32 }

type recKind uint8

const (
	recSend    recKind = iota + 1 // a send (history or plan)
	recOutcome                    // a delivered, read, failed or inbound event
)

// record is the compact form of an event the state engine consumes.
type record struct {
	ts       int64
	media    int64
	ids      entityIDs
	row      int32 // training/scoring row of a send, -1 if none
	uniq24   int32 // phone's unique recipients in 24 h before the send (set by the engine)
	code     int32
	kind     recKind
	status   pipeline.Status
	family   pipeline.Family
	groups   uint8
	category int8
	mtype    int8
	hasTpl   bool
}

// engine is the state machine with two clocks. Sends advance the schedule
// clock t; outcome-clock records wait in a FIFO until cutoff(t) passes
// them. The FIFO holds at most Lead+Refresh worth of records.
type engine struct {
	cutoff   func(t int64) int64
	sched    *scheduleState
	out      outcomeState
	fifo     []record // outcome-clock records not yet applied, in time order
	fifoHead int
	deferred []record // sends at curTs, added to the schedule state once time moves on
	curTs    int64
	chunks   [][]float32 // feature rows, row-major, in chunks of chunkRows rows (no regrowth copies)
	rows     int
	v        view
}

func newEngine(cutoff func(int64) int64) *engine {
	return &engine{cutoff: cutoff, sched: newScheduleState(), curTs: -1 << 62}
}

// setTime moves the schedule clock to t (non-decreasing), folding the
// sends made before t into the schedule state.
func (e *engine) setTime(t int64) {
	if t <= e.curTs {
		return
	}
	for i := range e.deferred {
		e.sched.add(&e.deferred[i])
	}
	e.deferred = e.deferred[:0]
	e.curTs = t
}

// drain applies the outcome-clock records before cutoff.
func (e *engine) drain(cutoff int64) {
	for e.fifoHead < len(e.fifo) && e.fifo[e.fifoHead].ts < cutoff {
		e.out.apply(&e.fifo[e.fifoHead])
		e.fifoHead++
	}
	if e.fifoHead > 4096 && e.fifoHead*2 > len(e.fifo) {
		n := copy(e.fifo, e.fifo[e.fifoHead:])
		e.fifo = e.fifo[:n]
		e.fifoHead = 0
	}
}

// process consumes one history record.
func (e *engine) process(r *record) {
	e.setTime(r.ts)
	switch r.kind {
	case recSend:
		e.send(r, e.cutoff(r.ts))
		e.fifo = append(e.fifo, *r)
	case recOutcome:
		e.fifo = append(e.fifo, *r)
	}
	e.drain(e.cutoff(r.ts))
}

// send featurizes r (when it has a row) with outcomes before cutoff and
// schedules it for the schedule state.
func (e *engine) send(r *record, cutoff int64) {
	e.sched.ensure(&r.ids)
	e.sched.advance(r.ts)
	r.uniq24 = e.sched.phoneDay[r.ids.phone].uniq
	if r.row >= 0 {
		if int(r.row) != e.rows {
			panic(fmt.Sprintf("features: row %d featurized out of order (want %d)", r.row, e.rows))
		}
		e.drain(cutoff)
		if len(e.chunks) == 0 || len(e.chunks[len(e.chunks)-1]) == chunkRows*numFeatures {
			e.chunks = append(e.chunks, make([]float32, 0, chunkRows*numFeatures))
		}
		c := &e.chunks[len(e.chunks)-1]
		n := len(*c)
		*c = (*c)[:n+numFeatures]
		e.featurize(r, cutoff, (*c)[n:])
		e.rows++
	}
	e.deferred = append(e.deferred, *r)
}

const (
	chunkRows    = 8192
	bigCopyBytes = 256 << 20
)

// release drops the state, once the rows are all made, so that its
// memory can be reclaimed while the rows are assembled.
func (e *engine) release() {
	e.sched, e.out, e.fifo, e.deferred = nil, outcomeState{}, nil, nil
}

// takeRows returns the feature rows made so far as one row-major slice
// and starts over.
func (e *engine) takeRows() []float32 {
	if len(e.chunks) == 1 {
		x := e.chunks[0]
		e.chunks, e.rows = nil, 0
		return x
	}
	x := make([]float32, 0, e.rows*numFeatures)
	var copied int
	for i, c := range e.chunks {
		x = append(x, c...)
		e.chunks[i] = nil
		// For a big table, hand the copied chunks (and the released
		// state) back now, so the rows are not held twice at the peak.
		if copied += len(c) * 4; copied >= bigCopyBytes {
			debug.FreeOSMemory()
			copied = 0
		}
	}
	e.chunks, e.rows = nil, 0
	return x
}

// featurize fills one feature row for the send r. Only the outcome state
// (records before cutoff) and the schedule state (sends before r.ts) are
// read.
func (e *engine) featurize(r *record, cutoff int64, row []float32) {
	e.out.ensure(&r.ids)
	e.v = view{t: r.ts, cutoff: cutoff, r: r, uniq24: r.uniq24, campUniq: e.sched.camp[r.ids.camp].uniq}
	for i := range blocks {
		b := &blocks[i]
		out := row[b.offset : b.offset+len(b.specs)]
		switch b.kind {
		case Send:
			b.send(&e.v, out)
		case Schedule:
			b.schedule(&e.v, e.sched, out)
		case Outcome:
			b.outcome(&e.v, &e.out, out)
		}
	}
}
