package features

import (
	"fmt"

	"github.com/failcast/failcast/pipeline"
)

// entityIDs are the dense ids of a send's entities.
type entityIDs struct{ recip, phone, tpl, camp, waba, country int32 }

type recKind uint8

const (
	recSend    recKind = iota + 1 // a send (history or plan)
	recOutcome                    // a delivered, read, failed or inbound event
	recAccount                    // an account-level event (pipeline.Status.IsAccountEvent)
)

// record is the compact form of an event the state engine consumes (64
// bytes, no pointers). An account record (recAccount) keeps the event's
// AccountUntil in media, its AccountNumber in code (see accountNumber) and
// its AccountValue, encoded for its kind, in acctValue.
type record struct {
	ts       int64
	media    int64
	ids      entityIDs
	row      int32 // training/scoring row of a send, -1 if none
	uniq24   int32 // phone's unique recipients in 24 h before the send (set by the schedule stage)
	campUniq int32 // campaign's unique recipients before the send (set by the schedule stage)
	code     int32
	kind     recKind
	status   pipeline.Status
	family   pipeline.Family
	groups   uint8
	category int8
	mtype    int8
	hasTpl   bool
	// acctValue is an account record's AccountValue (see accountValue).
	acctValue uint8
}

// xChunk holds the feature values of consecutive rows, row-major.
type xChunk struct {
	first int32 // row of x[0:numFeatures]
	rows  int32 // rows it has room for
	done  int32 // rows the outcome stage has finished
	x     []float32
}

func (c *xChunk) row(r int32) []float32 {
	i := int(r-c.first) * numFeatures
	return c.x[i : i+numFeatures : i+numFeatures]
}

// recBatch is a batch of records on its way through the engine's
// stages, with the feature chunks the schedule stage started for it.
type recBatch struct {
	recs   []record
	chunks []*xChunk
}

func newRecBatch() *recBatch { return &recBatch{recs: make([]record, 0, recordBatch)} }

// The engine is the state machine with two clocks, in two stages that
// may run on two goroutines, each owning its state:
//
//   - the schedule stage keeps the schedule state (sends strictly before
//     t) and fills the send and schedule features of each row;
//   - the outcome stage keeps the outcome state: outcome-clock records
//     wait in a FIFO until cutoff(t) passes them (at most Lead+Refresh
//     worth of records); it fills the outcome features and hands each
//     finished chunk of rows on.
//
// Records pass through the schedule stage first; the outcome stage needs
// only what the schedule stage wrote into the record (uniq24, campUniq).
type engine struct {
	cutoff func(t int64) int64
	sched  schedStage
	out    outStage
}

type schedStage struct {
	cutoff   func(t int64) int64
	state    *scheduleState
	deferred []record // sends at curTs, added to the schedule state once time moves on
	curTs    int64
	chunk    *xChunk // the chunk rows go to
	// newChunk starts the chunk of a row beyond the current one; nil when
	// the caller sets chunk (scoring).
	newChunk func(first int32) *xChunk
	v        view
	warmed   uint8 // what warm read (see pagedState.warm)
}

type outStage struct {
	cutoff   func(t int64) int64
	state    outcomeState
	fifo     []record // outcome-clock records not yet applied, in time order
	fifoHead int
	chunks   []*xChunk     // chunks with rows still to finish, in row order
	done     func(*xChunk) // takes a finished chunk; nil: keep it (scoring)
	v        view
	warmed   uint8 // what warm read (see pagedState.warm)
}

func newEngine(cutoff func(int64) int64) *engine {
	return &engine{
		cutoff: cutoff,
		sched:  schedStage{cutoff: cutoff, state: newScheduleState(), curTs: -1 << 62},
		out:    outStage{cutoff: cutoff, state: outcomeState{recip: newPagedState(recipOutcome{lastFamily: -1})}},
	}
}

// process runs a batch through both stages.
func (e *engine) process(b *recBatch) {
	e.sched.process(b)
	e.out.process(b)
}

// setTime moves the schedule clock to t (non-decreasing), folding the
// sends made before t into the schedule state.
func (s *schedStage) setTime(t int64) {
	if t <= s.curTs {
		return
	}
	for i := range s.deferred {
		s.state.add(&s.deferred[i])
	}
	s.deferred = s.deferred[:0]
	s.curTs = t
}

// Which records' recipient state a stage looks up (see warmGroup).
func isSend(r *record) bool    { return r.kind == recSend }
func isRow(r *record) bool     { return r.kind == recSend && r.row >= 0 }
func anyRecord(r *record) bool { return true }

// process runs the schedule stage over a batch, in time order.
func (s *schedStage) process(b *recBatch) {
	n := len(b.recs)
	s.warmed += s.state.recip.warmRecips(b.recs[:min(warmGroup, n)], isSend)
	for i := range b.recs {
		if i%warmGroup == 0 {
			s.warmed += s.state.recip.warmRecips(b.recs[min(i+warmGroup, n):min(i+2*warmGroup, n)], isSend)
		}
		r := &b.recs[i]
		s.setTime(r.ts)
		if r.kind == recSend {
			if r.row >= 0 && (s.chunk == nil || r.row >= s.chunk.first+s.chunk.rows) {
				s.chunk = s.newChunk(r.row)
				b.chunks = append(b.chunks, s.chunk)
			}
			s.send(r, s.cutoff(r.ts))
		}
	}
}

// send notes the schedule facts of a send r and, when it has a row,
// fills the row's send and schedule features with the sends before r.ts.
func (s *schedStage) send(r *record, cutoff int64) {
	st := s.state
	st.ensure(&r.ids)
	st.advance(r.ts)
	r.uniq24 = st.phoneDay[r.ids.phone].uniq
	r.campUniq = st.camp[r.ids.camp].uniq
	if r.row >= 0 {
		row := s.chunk.row(r.row)
		s.v = view{t: r.ts, cutoff: cutoff, r: r}
		for _, b := range sendBlocks {
			b.send(&s.v, row[b.offset:b.end])
		}
		for _, b := range scheduleBlocks {
			b.schedule(&s.v, st, row[b.offset:b.end])
		}
	}
	s.deferred = append(s.deferred, *r)
}

// process runs the outcome stage over a batch, in time order.
func (o *outStage) process(b *recBatch) {
	o.chunks = append(o.chunks, b.chunks...)
	b.chunks = b.chunks[:0]
	n := len(b.recs)
	o.warmed += o.state.recip.warmRecips(b.recs[:min(warmGroup, n)], isRow)
	for i := range b.recs {
		if i%warmGroup == 0 {
			o.warmed += o.state.recip.warmRecips(b.recs[min(i+warmGroup, n):min(i+2*warmGroup, n)], isRow)
		}
		r := &b.recs[i]
		c := o.cutoff(r.ts)
		if r.kind == recSend && r.row >= 0 {
			o.drain(c)
			o.featurize(r, c)
		}
		o.fifo = append(o.fifo, *r)
		o.drain(c)
	}
}

// featurize fills the outcome features of the send r (whose row is in
// the first pending chunk) from the outcome records before cutoff.
func (o *outStage) featurize(r *record, cutoff int64) {
	ch := o.chunks[0]
	if r.row != ch.first+ch.done {
		panic(fmt.Sprintf("features: row %d featurized out of order (want %d)", r.row, ch.first+ch.done))
	}
	row := ch.row(r.row)
	o.state.ensure(&r.ids)
	o.v = view{t: r.ts, cutoff: cutoff, r: r, uniq24: r.uniq24, campUniq: r.campUniq}
	for _, b := range outcomeBlocks {
		b.outcome(&o.v, &o.state, row[b.offset:b.end])
	}
	ch.done++
	if ch.done == ch.rows && o.done != nil {
		o.done(ch)
		o.chunks[0] = nil
		o.chunks = o.chunks[1:]
	}
}

// score fills the outcome features of a batch of planned sends (rows of
// the first pending chunk) with cutoff(t); plan sends do not enter the
// FIFO, their outcomes being unknown.
func (o *outStage) score(b *recBatch) {
	o.chunks = append(o.chunks, b.chunks...)
	b.chunks = b.chunks[:0]
	// Warmed a group ahead, as in process: a plan's recipients are
	// scattered over the outcome state, and without warming each row's
	// first look-up waited for its cache miss (~0.25 CPU s of a 1M-send
	// plan at scale 3).
	n := len(b.recs)
	o.warmed += o.state.recip.warmRecips(b.recs[:min(warmGroup, n)], isRow)
	for i := range b.recs {
		if i%warmGroup == 0 {
			o.warmed += o.state.recip.warmRecips(b.recs[min(i+warmGroup, n):min(i+2*warmGroup, n)], isRow)
		}
		r := &b.recs[i]
		o.featurize(r, o.cutoff(r.ts))
	}
}

// finish hands on the last, partly filled chunk.
func (o *outStage) finish() {
	if o.done == nil {
		return
	}
	for _, ch := range o.chunks {
		if ch.done > 0 {
			o.done(ch)
		}
	}
	o.chunks = nil
}

// drain applies the outcome-clock records before cutoff.
func (o *outStage) drain(cutoff int64) {
	for o.fifoHead < len(o.fifo) && o.fifo[o.fifoHead].ts < cutoff {
		if h := o.fifoHead; h%warmGroup == 0 {
			// Applied records are warmed a group ahead (see warmGroup);
			// records past the cutoff are warmed for nothing, which is
			// harmless.
			n := len(o.fifo)
			o.warmed += o.state.recip.warmRecips(o.fifo[min(h+warmGroup, n):min(h+2*warmGroup, n)], anyRecord)
		}
		o.state.apply(&o.fifo[o.fifoHead])
		o.fifoHead++
	}
	if o.fifoHead > 4096 && o.fifoHead*2 > len(o.fifo) {
		n := copy(o.fifo, o.fifo[o.fifoHead:])
		o.fifo = o.fifo[:n]
		o.fifoHead = 0
	}
}
