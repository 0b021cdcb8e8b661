package scalebeam

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/pipeline"
)

// Elements travel between Beam stages as bytes in a compact binary form of
// their own (varints and length-prefixed strings), so that a fragment of
// thousands of events is one element with one coder call, not thousands.
// The form is internal to one pipeline run: writer and reader are always
// the same build.

// order is the place of a history event, or of a training row's send
// event, in a whole-history Scan: by Timestamp, then split Rank, then
// position within the split (see pipeline.Split).
type order struct {
	ts   int64
	rank int32
	pos  int64
}

func (a order) cmp(b order) int {
	switch {
	case a.ts != b.ts:
		return cmpInt(a.ts, b.ts)
	case a.rank != b.rank:
		return cmpInt(int64(a.rank), int64(b.rank))
	}
	return cmpInt(a.pos, b.pos)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// keyedEvent is a history event with its place in the whole scan.
type keyedEvent struct {
	e    pipeline.Event
	rank int32
	pos  int64
}

func (k *keyedEvent) order() order { return order{k.e.Timestamp, k.rank, k.pos} }

type enc struct{ b []byte }

func (w *enc) i64(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *enc) u64(v uint64)  { w.b = binary.AppendUvarint(w.b, v) }
func (w *enc) str(s string)  { w.u64(uint64(len(s))); w.b = append(w.b, s...) }
func (w *enc) f32(v float32) { w.b = binary.LittleEndian.AppendUint32(w.b, math.Float32bits(v)) }
func (w *enc) f64(v float64) { w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(v)) }
func (w *enc) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

// dec reads what enc wrote; the first error sticks and zero values follow.
type dec struct {
	b    []byte
	err  error
	what string
}

func (r *dec) fail(msg string) {
	if r.err == nil {
		r.err = fmt.Errorf("decode %s: %s", r.what, msg)
	}
}

func (r *dec) i64() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *dec) u64() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad uvarint")
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *dec) str() string {
	n := r.u64()
	if n > uint64(len(r.b)) {
		r.fail("string longer than the input")
		r.b = nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *dec) fixed(n int) []byte {
	if len(r.b) < n {
		r.fail("truncated")
		r.b = nil
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *dec) f32() float32 { return math.Float32frombits(binary.LittleEndian.Uint32(r.fixed(4))) }
func (r *dec) f64() float64 { return math.Float64frombits(binary.LittleEndian.Uint64(r.fixed(8))) }
func (r *dec) bool() bool {
	b := r.fixed(1)[0]
	if b > 1 {
		r.fail("bad bool")
	}
	return b == 1
}

// count reads a length and checks that at least min bytes per item remain.
func (r *dec) count(min int) int {
	n := r.u64()
	if n > uint64(len(r.b)/max(min, 1)) {
		r.fail(fmt.Sprintf("count %d exceeds the input", n))
		r.b = nil
		return 0
	}
	return int(n)
}

func (r *dec) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail(fmt.Sprintf("%d trailing bytes", len(r.b)))
	}
	return r.err
}

// encodeEvents encodes events of one split (rank) with their positions.
func encodeEvents(rank int32, evs []keyedEvent) []byte {
	w := enc{b: make([]byte, 0, 64*len(evs)+16)}
	w.i64(int64(rank))
	w.u64(uint64(len(evs)))
	for i := range evs {
		k := &evs[i]
		e := &k.e
		w.i64(k.pos)
		w.i64(e.Timestamp)
		for _, s := range [...]string{e.EventID, e.MessageID, e.WABAID, e.PhoneNumberID, e.Recipient, e.Country, e.CampaignID,
			e.Template, e.Language, e.Category, e.MessageType, e.ErrorTitle, e.ErrorDetails, e.AccountValue} {
			w.str(s)
		}
		w.i64(e.MediaBytes)
		w.u64(uint64(e.Status))
		w.i64(int64(e.ErrorCode))
		w.bool(e.Exploration)
		w.i64(e.AccountNumber)
		w.i64(e.AccountUntil)
	}
	return w.b
}

// decodeEvents appends the events of a fragment to dst.
func decodeEvents(dst []keyedEvent, b []byte) ([]keyedEvent, error) {
	r := dec{b: b, what: "history fragment"}
	rank := int32(r.i64())
	n := r.count(20)
	for range n {
		var k keyedEvent
		k.rank = rank
		k.pos = r.i64()
		e := &k.e
		e.Timestamp = r.i64()
		for _, p := range [...]*string{&e.EventID, &e.MessageID, &e.WABAID, &e.PhoneNumberID, &e.Recipient, &e.Country, &e.CampaignID,
			&e.Template, &e.Language, &e.Category, &e.MessageType, &e.ErrorTitle, &e.ErrorDetails, &e.AccountValue} {
			*p = r.str()
		}
		e.MediaBytes = r.i64()
		st := r.u64()
		if st > math.MaxUint8 {
			r.fail("bad status")
		}
		e.Status = pipeline.Status(st)
		code := r.i64()
		if code < math.MinInt32 || code > math.MaxInt32 {
			r.fail("bad error code")
		}
		e.ErrorCode = int32(code)
		e.Exploration = r.bool()
		e.AccountNumber = r.i64()
		e.AccountUntil = r.i64()
		if r.err != nil {
			break
		}
		dst = append(dst, k)
	}
	if err := r.done(); err != nil {
		return dst, err
	}
	return dst, nil
}

// encodePlan encodes planned sends with their (file, row) places.
func encodePlan(sends []keyedSend) []byte {
	w := enc{b: make([]byte, 0, 96*len(sends)+8)}
	w.u64(uint64(len(sends)))
	for i := range sends {
		k := &sends[i]
		s := &k.s
		w.i64(int64(k.file))
		w.i64(k.row)
		for _, v := range [...]string{s.SendID, s.CampaignID, s.WABAID, s.PhoneNumberID, s.Recipient, s.Country,
			s.Template, s.Language, s.Category, s.MessageType} {
			w.str(v)
		}
		w.i64(s.MediaBytes)
		w.i64(s.ScheduledAt)
		w.f64(s.CampaignRateMPS)
	}
	return w.b
}

// keyedSend is a planned send with its place in the plan files.
type keyedSend struct {
	s    pipeline.PlannedSend
	file int32
	row  int64
}

func decodePlan(dst []keyedSend, b []byte) ([]keyedSend, error) {
	r := dec{b: b, what: "plan fragment"}
	n := r.count(20)
	for range n {
		var k keyedSend
		k.file = int32(r.i64())
		k.row = r.i64()
		s := &k.s
		for _, p := range [...]*string{&s.SendID, &s.CampaignID, &s.WABAID, &s.PhoneNumberID, &s.Recipient, &s.Country,
			&s.Template, &s.Language, &s.Category, &s.MessageType} {
			*p = r.str()
		}
		s.MediaBytes = r.i64()
		s.ScheduledAt = r.i64()
		s.CampaignRateMPS = r.f64()
		if r.err != nil {
			break
		}
		dst = append(dst, k)
	}
	return dst, r.done()
}

// rowChunk is training rows of one shard with the place of each row's
// send event.
type rowChunk struct {
	tab   *features.Table
	order []order
}

func encodeRows(c rowChunk) []byte {
	t := c.tab
	nf := len(t.Names)
	w := enc{b: make([]byte, 0, t.Rows*(4*nf+96)+8)}
	w.u64(uint64(nf))
	for _, n := range t.Names {
		w.str(n)
	}
	w.u64(uint64(t.Rows))
	for i := range t.Rows {
		o := c.order[i]
		w.i64(o.ts)
		w.i64(int64(o.rank))
		w.i64(o.pos)
		w.i64(t.Time[i])
		w.str(t.ID[i])
		w.str(t.CampaignID[i])
		w.str(t.PhoneNumberID[i])
		w.str(t.Recipient[i])
		w.bool(t.Failed[i])
		w.u64(uint64(t.Family[i]))
		w.i64(int64(t.Code[i]))
		w.bool(t.Exploration[i])
		w.bool(t.Stale[i])
		for _, v := range t.X[i*nf : (i+1)*nf] {
			w.f32(v)
		}
	}
	return w.b
}

var errNames = errors.New("feature names differ between chunks")

// decodeRows decodes a chunk; its feature names must be want's.
func decodeRows(b []byte, want []string) (rowChunk, error) {
	r := dec{b: b, what: "training rows"}
	nf := r.count(1)
	names := make([]string, nf)
	for i := range names {
		names[i] = r.str()
	}
	if r.err == nil && !equalStrings(names, want) {
		return rowChunk{}, fmt.Errorf("decode training rows: %w (%d names, want %d)", errNames, len(names), len(want))
	}
	n := r.count(4*nf + 16)
	t := &features.Table{Names: names, Rows: n, X: make([]float32, 0, n*nf)}
	c := rowChunk{tab: t, order: make([]order, 0, n)}
	for range n {
		c.order = append(c.order, order{ts: r.i64(), rank: int32(r.i64()), pos: r.i64()})
		t.Time = append(t.Time, r.i64())
		t.ID = append(t.ID, r.str())
		t.CampaignID = append(t.CampaignID, r.str())
		t.PhoneNumberID = append(t.PhoneNumberID, r.str())
		t.Recipient = append(t.Recipient, r.str())
		t.Failed = append(t.Failed, r.bool())
		t.Family = append(t.Family, uint8(r.u64()))
		t.Code = append(t.Code, int32(r.i64()))
		t.Exploration = append(t.Exploration, r.bool())
		t.Stale = append(t.Stale, r.bool())
		for range nf {
			t.X = append(t.X, r.f32())
		}
		if r.err != nil {
			break
		}
	}
	if err := r.done(); err != nil {
		return rowChunk{}, err
	}
	return c, nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
