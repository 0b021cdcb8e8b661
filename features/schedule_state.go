package features

import "sort"

// This file holds the schedule state: the sender's own sends, planned or
// made, without their outcomes. It may count every send strictly before
// the send being featurized (history sends and, when scoring, the plan's
// earlier sends).

// recipSchedule is the schedule state of one recipient (128 bytes).
type recipSchedule struct {
	sends [16]uint32 // ring of the last 16 send times, Unix seconds (0 = empty)
	mkt   [8]uint32  // ring of the last 8 marketing send times
	// One pair (phone, recipient): the µs of the phone's last send to
	// the recipient and its place in the trailing-24-h queue. It is
	// live while pairTs is within 24 h; other pairs of the recipient
	// live within 24 h are in scheduleState.pair.
	pairTs    int64
	pairPhone int32  // phone id + 1, 0 = none
	pairDay   uint32 // queue number of the pair's last send
	lastCamp  int32  // campaign id + 1 of the last send to the recipient, 0 = none
	sendPos   uint8
	mktPos    uint8
	overflow  uint8 // pairs of the recipient in scheduleState.pair
}

// countSince counts ring entries later than sec (exact up to the ring size).
func countSince(ring []uint32, sec uint32) int {
	n := 0
	for _, s := range ring {
		if s != 0 && s > sec {
			n++
		}
	}
	return n
}

func (r *recipSchedule) lastSend() uint32 {
	return r.sends[(r.sendPos+15)&15]
}

// groupSchedule is the schedule state of a phone number, template,
// campaign, account or country.
type groupSchedule struct {
	first int64 // µs of the first send
	sends int64 // sends so far
	uniq  int32 // campaigns: recipients whose previous send was from another campaign
	seen  bool
}

// timeQueue is a FIFO of send times in non-decreasing order.
type timeQueue struct {
	times []int64
	head  int
}

func (q *timeQueue) push(ts int64) { q.times = append(q.times, ts) }

// expire drops entries at or before limit.
func (q *timeQueue) expire(limit int64) {
	for q.head < len(q.times) && q.times[q.head] <= limit {
		q.head++
	}
	if q.head > 1024 && q.head*2 > len(q.times) {
		n := copy(q.times, q.times[q.head:])
		q.times = q.times[:n]
		q.head = 0
	}
}

// countAfter counts entries later than limit.
func (q *timeQueue) countAfter(limit int64) int {
	live := q.times[q.head:]
	return len(live) - sort.Search(len(live), func(i int) bool { return live[i] > limit })
}

// sendRef is one send in the trailing-24-h queue.
type sendRef struct {
	ts           int64
	phone, recip int32
}

// Flags of a send in the trailing-24-h queue.
const (
	daySuperseded = 1 << iota // the pair sent again since
	dayOverflow               // the pair is in scheduleState.pair
)

// scheduleState is everything known from sends strictly before t.
type scheduleState struct {
	recip     pagedState[recipSchedule]
	phone     []groupSchedule
	phoneRate []timeQueue // send times in the trailing 60 s
	phoneDay  []phoneDay
	camp      []groupSchedule
	campRate  []timeQueue // send times in the trailing 10 s
	tpl       []groupSchedule
	waba      []groupSchedule
	country   []groupSchedule

	// The sends of the trailing 24 h in time order, with their flags
	// (a small array, so that marking a send superseded does not touch
	// the queue). dayBase is the queue number of day[0].
	day      []sendRef
	dayFlags []uint8
	dayHead  int
	dayBase  uint32
	// Pairs (phone, recipient) with a send in the trailing 24 h, beyond
	// the one each recipient keeps: phone<<32|recipient -> last send.
	pair map[uint64]pairSend
}

// pairSend is a pair's last send: its time and queue number.
type pairSend struct {
	ts  int64
	day uint32
}

// phoneDay counts a phone number's sends and unique recipients in the
// trailing 24 h, exactly.
type phoneDay struct{ sends, uniq int32 }

func newScheduleState() *scheduleState {
	return &scheduleState{pair: make(map[uint64]pairSend)}
}

func pairKey(phone, recip int32) uint64 { return uint64(uint32(phone))<<32 | uint64(uint32(recip)) }

func (s *scheduleState) ensure(ids *entityIDs) {
	s.recip.ensure(ids.recip)
	for int(ids.phone) >= len(s.phone) {
		s.phone = append(s.phone, groupSchedule{})
		s.phoneRate = append(s.phoneRate, timeQueue{})
		s.phoneDay = append(s.phoneDay, phoneDay{})
	}
	for int(ids.camp) >= len(s.camp) {
		s.camp = append(s.camp, groupSchedule{})
		s.campRate = append(s.campRate, timeQueue{})
	}
	s.tpl = grow(s.tpl, ids.tpl, groupSchedule{})
	s.waba = grow(s.waba, ids.waba, groupSchedule{})
	s.country = grow(s.country, ids.country, groupSchedule{})
}

// pairLast returns the µs of the last send from phone to recipient,
// which may be more than 24 h ago.
func (s *scheduleState) pairLast(phone, recip int32) (int64, bool) {
	rs := s.recip.at(recip)
	if rs.pairPhone == phone+1 {
		return rs.pairTs, true
	}
	if rs.overflow == 0 {
		return 0, false
	}
	p, ok := s.pair[pairKey(phone, recip)]
	return p.ts, ok
}

// setPair records the send from phone to recipient at ts, queue number
// day, and reports whether the pair is new in the trailing 24 h and its
// queue flags. The pair's earlier send in the queue, if any, is marked
// superseded, so that its leaving the window does not end the pair.
// The queue was advanced to ts.
func (s *scheduleState) setPair(phone, recip int32, ts int64, day uint32) (added bool, flags uint8) {
	rs := s.recip.at(recip)
	inlineLive := rs.pairPhone != 0 && rs.pairTs > ts-usPerDay
	if inlineLive && rs.pairPhone == phone+1 {
		s.dayFlags[rs.pairDay-s.dayBase] |= daySuperseded
		rs.pairTs, rs.pairDay = ts, day
		return false, 0
	}
	var k uint64
	if rs.overflow > 0 {
		k = pairKey(phone, recip)
		if p, ok := s.pair[k]; ok {
			s.dayFlags[p.day-s.dayBase] |= daySuperseded
			s.pair[k] = pairSend{ts: ts, day: day}
			return false, dayOverflow
		}
	}
	if !inlineLive {
		rs.pairPhone, rs.pairTs, rs.pairDay = phone+1, ts, day
		return true, 0
	}
	if k == 0 {
		k = pairKey(phone, recip)
	}
	s.pair[k] = pairSend{ts: ts, day: day}
	rs.overflow++
	return true, dayOverflow
}

// advance expires the trailing-24-h queue for a send at t: entries at or
// before t - 24 h leave the window (t, being a send time, never goes back).
// A pair kept by its recipient ends there without touching the recipient
// (it is seen to be over by its time).
func (s *scheduleState) advance(t int64) {
	limit := t - usPerDay
	for s.dayHead < len(s.day) && s.day[s.dayHead].ts <= limit {
		e := &s.day[s.dayHead]
		f := s.dayFlags[s.dayHead]
		s.dayHead++
		pd := &s.phoneDay[e.phone]
		pd.sends--
		if f&daySuperseded != 0 {
			continue
		}
		pd.uniq--
		if f&dayOverflow != 0 {
			delete(s.pair, pairKey(e.phone, e.recip))
			s.recip.at(e.recip).overflow--
		}
	}
	if s.dayHead > 4096 && s.dayHead*2 > len(s.day) {
		n := copy(s.day, s.day[s.dayHead:])
		copy(s.dayFlags, s.dayFlags[s.dayHead:])
		s.day, s.dayFlags = s.day[:n], s.dayFlags[:n]
		s.dayBase += uint32(s.dayHead)
		s.dayHead = 0
	}
}

func touch(g *groupSchedule, ts int64) {
	if !g.seen {
		g.seen = true
		g.first = ts
	}
	g.sends++
}

// add folds one send into the state. Sends are added in time order, and
// only once every send at an earlier time has been featurized.
func (s *scheduleState) add(r *record) {
	s.ensure(&r.ids)
	ids := &r.ids
	sec := uint32(r.ts / usPerSec)
	rs := s.recip.at(ids.recip)
	rs.sends[rs.sendPos&15] = sec
	rs.sendPos = (rs.sendPos + 1) & 15
	if r.category == catMarketing {
		rs.mkt[rs.mktPos&7] = sec
		rs.mktPos = (rs.mktPos + 1) & 7
	}
	cs := &s.camp[ids.camp]
	if rs.lastCamp != ids.camp+1 {
		cs.uniq++
		rs.lastCamp = ids.camp + 1
	}
	touch(cs, r.ts)
	touch(&s.phone[ids.phone], r.ts)
	touch(&s.tpl[ids.tpl], r.ts)
	touch(&s.waba[ids.waba], r.ts)
	touch(&s.country[ids.country], r.ts)
	s.phoneRate[ids.phone].push(r.ts)
	s.campRate[ids.camp].push(r.ts)

	pd := &s.phoneDay[ids.phone]
	pd.sends++
	added, flags := s.setPair(ids.phone, ids.recip, r.ts, s.dayBase+uint32(len(s.day)))
	if added {
		pd.uniq++
	}
	s.day = append(s.day, sendRef{ts: r.ts, phone: ids.phone, recip: ids.recip})
	s.dayFlags = append(s.dayFlags, flags)
}
