package features

import (
	"strings"
	"unsafe"

	"github.com/failcast/failcast/pipeline"
)

// interner maps strings to dense ids, keeping one copy of each string.
type interner struct {
	ids    map[string]int32
	names  []string
	lastS  string
	lastID int32
	cache  bool // remember the last key (for keys that repeat in runs)
}

func newInterner(cache bool) *interner {
	in := &interner{ids: make(map[string]int32), cache: cache}
	in.id("") // id 0 is the empty string
	return in
}

func (in *interner) id(s string) int32 {
	if in.cache && s == in.lastS && len(in.names) > 0 {
		return in.lastID
	}
	id, ok := in.ids[s]
	if !ok {
		id = int32(len(in.names))
		c := strings.Clone(s)
		in.names = append(in.names, c)
		in.ids[c] = id
		s = c
	}
	in.lastS, in.lastID = s, id
	return id
}

// recipInterner interns recipients. Hashed recipients ("h:" and 16
// lower-case hex digits, see pipeline.RecipientHasher) are keyed by their
// 64-bit value in an open-addressing table, which is faster and smaller
// than a map of strings; their names are kept in an arena.
type recipInterner struct {
	*interner
	hashed *idTable
	arena  stringArena
}

func newRecipInterner() *recipInterner {
	return &recipInterner{interner: newInterner(false), hashed: newIDTable()}
}

func (r *recipInterner) id(s string) int32 {
	k, ok := hashedKey(s)
	if !ok {
		return r.interner.id(s)
	}
	if id := r.hashed.get(k); id >= 0 {
		return id
	}
	id := int32(len(r.names))
	r.names = append(r.names, r.arena.clone(s))
	r.hashed.put(k, id)
	return id
}

// hashedKey parses a hashed recipient "h:" + 16 lower-case hex digits.
func hashedKey(s string) (uint64, bool) {
	if len(s) != 18 || s[0] != 'h' || s[1] != ':' {
		return 0, false
	}
	var k uint64
	var bad uint8
	for i := 2; i < 18; i++ {
		v := hexValue[s[i]]
		bad |= v
		k = k<<4 | uint64(v&15)
	}
	return k, bad < 16
}

// hexValue maps a lower-case hex digit to its value, anything else to
// 0xff.
var hexValue = func() (t [256]uint8) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = uint8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = uint8(c - 'a' + 10)
	}
	return t
}()

// entities interns the entity keys of sends and events.
type entities struct {
	recip                                     *recipInterner
	phone, tplName, lang, camp, waba, country *interner
	tpl                                       map[uint64]int32 // tplName<<32|lang -> template id
	lastTplKey                                uint64
	lastTpl                                   int32
	msgIDs                                    stringArena // message ids of table rows
}

func newEntities() *entities {
	return &entities{
		recip: newRecipInterner(), phone: newInterner(true), tplName: newInterner(true), lang: newInterner(true),
		camp: newInterner(true), waba: newInterner(true), country: newInterner(true),
		tpl: make(map[uint64]int32),
	}
}

func (en *entities) ids(recip, phone, tpl, lang, camp, waba, country string) entityIDs {
	k := uint64(uint32(en.tplName.id(tpl)))<<32 | uint64(uint32(en.lang.id(lang)))
	t := en.lastTpl
	if k != en.lastTplKey || len(en.tpl) == 0 {
		var ok bool
		if t, ok = en.tpl[k]; !ok {
			t = int32(len(en.tpl))
			en.tpl[k] = t
		}
		en.lastTplKey, en.lastTpl = k, t
	}
	return entityIDs{
		recip: en.recip.id(recip), phone: en.phone.id(phone), tpl: t,
		camp: en.camp.id(camp), waba: en.waba.id(waba), country: en.country.id(country),
	}
}

// stringArena copies many short strings into large shared blocks, so a
// million message ids cost a few allocations instead of a million, and
// the collector has no pointers to follow inside them.
type stringArena struct{ block []byte }

func (a *stringArena) clone(s string) string {
	if len(s) > 1024 {
		return strings.Clone(s)
	}
	if len(a.block)+len(s) > cap(a.block) {
		a.block = make([]byte, 0, 1<<20)
	}
	n := len(a.block)
	a.block = append(a.block, s...)
	return unsafe.String(unsafe.SliceData(a.block[n:]), len(s))
}

// hashID is FNV-1a (64 bit) of a message id: the key of the message table.
func hashID(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// message is what the classifier remembers of a send until LabelWindow
// has passed.
type message struct {
	ts     int64
	ids    entityIDs
	row    int32
	failed bool
}

// classifier is the first stage: it decides which event is a send, which
// an outcome, labels training rows, interns entity keys and emits compact
// records in time order.
type classifier struct {
	en          *entities
	labelWindow int64
	from, to    int64 // rows for sends in [from, to); records only before to
	// The messages sent within two LabelWindows (and a few more, until
	// the next prune): within one, an outcome labels its send; within
	// two, it is a late outcome. Pruning every LabelWindow costs no
	// per-message work.
	msgs        *msgTable
	rotateAt    int64
	sawAccepted bool
	maxTs       int64
	late        int64     // outcome events of known messages after their LabelWindow
	rows        *rowStore // identity and label columns of the rows (nil: no rows)
	batch       *recBatch
	emit        func(*recBatch) *recBatch // hands a full batch on, returns an empty one
	warmed      uint64                    // the sum of what warm read, so that its loads are kept
}

const recordBatch = 4096

func newClassifier(en *entities, cfg Config, from, to int64, rows *rowStore, emit func(*recBatch) *recBatch) *classifier {
	return &classifier{
		en: en, labelWindow: cfg.LabelWindow.Microseconds(), from: from, to: to,
		msgs: newMsgTable(), rotateAt: -1 << 62, rows: rows, emit: emit, maxTs: -1 << 62,
		batch: newRecBatch(),
	}
}

func (c *classifier) push(r record) {
	c.batch.recs = append(c.batch.recs, r)
	if len(c.batch.recs) == cap(c.batch.recs) {
		c.batch = c.emit(c.batch)
	}
}

func (c *classifier) flush() {
	if len(c.batch.recs) > 0 {
		c.batch = c.emit(c.batch)
	}
}

func sendRecord(ids entityIDs, ts int64, category, mtype, template string, media int64) record {
	return record{
		kind: recSend, ts: ts, ids: ids, row: -1, code: pipeline.NoErrorCode, media: media,
		category: indexOf(pipeline.Categories, category), mtype: indexOf(pipeline.MessageTypes, mtype),
		hasTpl: template != "",
	}
}

func failureOf(code int32) (pipeline.Family, uint8) {
	fam := pipeline.FamilyOf(code)
	if fam == pipeline.FamilyNone {
		fam = pipeline.FamilyUnknown // a failure without a code
	}
	return fam, codeGroupMask(code, fam)
}

// expire forgets the messages sent more than two LabelWindows ago, every
// LabelWindow.
func (c *classifier) expire(now int64) {
	if now < c.rotateAt {
		return
	}
	c.msgs.prune(now - 2*c.labelWindow)
	c.rotateAt = now + c.labelWindow
}

// msgState says what the classifier knows of an event's message.
type msgState uint8

const (
	msgUnknown msgState = iota // never seen, or sent more than two LabelWindows ago
	msgOpen                    // sent within LabelWindow
	msgLate                    // sent within two LabelWindows
)

// lookup returns the remembered message with id hash h (nil unless
// open) and what is known of it.
func (c *classifier) lookup(h uint64, now int64) (*message, msgState) {
	m := c.msgs.get(h)
	switch {
	case m == nil:
		return nil, msgUnknown
	case now-m.ts <= c.labelWindow:
		return m, msgOpen
	case now-m.ts <= 2*c.labelWindow:
		return nil, msgLate
	}
	return nil, msgUnknown
}

// events classifies a batch of history events in order. The message and
// recipient tables run to hundreds of megabytes on big histories, so
// nearly every lookup is a miss to memory, and one miss at a time keeps
// the core waiting. So events goes in groups of warmGroup: before it
// classifies a group, it reads the table slots the group's lookups start
// at, in a loop whose loads do not depend on one another (warm), so that
// the group's misses overlap. Warming only reads: what the events do is
// as before. (Warming the next group ahead, as the stages do, measured
// no better here.)
func (c *classifier) events(batch []pipeline.Event) {
	var hs [warmGroup]uint64
	for len(batch) > 0 {
		g := batch[:min(warmGroup, len(batch))]
		batch = batch[len(g):]
		c.warm(hs[:len(g)], g)
		for i := range g {
			c.event(&g[i], hs[i])
		}
	}
}

// warm sets hs to the hashID of the message ids of g, and reads the
// first message-table slot of each and the first recipient-table slot
// of each hashed recipient of g (see events).
func (c *classifier) warm(hs []uint64, g []pipeline.Event) {
	for i := range g {
		hs[i] = hashID(g[i].MessageID)
	}
	var sum uint64
	m := c.msgs
	for _, h := range hs {
		sum += m.slots[slotIndex(msgKey(h), m.shift)].key
	}
	r := c.en.recip.hashed
	for i := range g {
		if k, ok := hashedKey(g[i].Recipient); ok {
			sum += r.slots[slotIndex(k, r.shift)].key
		}
	}
	c.warmed += sum
}

// event classifies one history event; h is hashID of its message id.
func (c *classifier) event(e *pipeline.Event, h uint64) {
	ts := e.Timestamp
	if ts > c.maxTs {
		c.maxTs = ts
	}
	c.expire(ts)
	emit := ts < c.to
	if e.Status == pipeline.StatusInbound {
		if emit {
			ids := c.en.ids(e.Recipient, e.PhoneNumberID, e.Template, e.Language, e.CampaignID, e.WABAID, e.Country)
			c.push(record{kind: recOutcome, status: e.Status, ts: ts, ids: ids, row: -1, code: pipeline.NoErrorCode})
		}
		return
	}
	if e.Status.IsAccountEvent() {
		// An account-level event: no message, an outcome-clock fact about
		// a template, number, account or recipient.
		if emit {
			ids := c.en.ids(e.Recipient, e.PhoneNumberID, e.Template, e.Language, e.CampaignID, e.WABAID, e.Country)
			c.push(accountRecord(e, ids))
		}
		return
	}
	if (e.Status == pipeline.StatusSent && c.sawAccepted) || e.Status == pipeline.StatusUnknown {
		return // neither a send nor an outcome, whatever the message
	}
	m, state := c.lookup(h, ts)
	isOutcome := e.Status == pipeline.StatusDelivered || e.Status == pipeline.StatusRead || e.Status == pipeline.StatusFailed
	if state == msgLate {
		if isOutcome {
			// An outcome of a message sent more than LabelWindow ago:
			// too late for its label, and not a send of its own, but it
			// still tells about its recipient and sender.
			c.late++
			if emit {
				ids := c.en.ids(e.Recipient, e.PhoneNumberID, e.Template, e.Language, e.CampaignID, e.WABAID, e.Country)
				c.push(c.outcome(e, ids))
			}
			return
		}
		state = msgUnknown // a send request reusing an old message id
	}
	if state == msgUnknown {
		if e.Status == pipeline.StatusAccepted {
			c.sawAccepted = true
		}
		isSend := e.Status == pipeline.StatusAccepted || e.Status == pipeline.StatusFailed ||
			(e.Status == pipeline.StatusSent && !c.sawAccepted)
		ids := c.en.ids(e.Recipient, e.PhoneNumberID, e.Template, e.Language, e.CampaignID, e.WABAID, e.Country)
		if !isSend {
			// An outcome of a message sent before the data starts: it
			// still tells about its recipient and sender.
			if emit && isOutcome {
				c.push(c.outcome(e, ids))
			}
			return
		}
		msg := message{ts: ts, ids: ids, row: -1}
		if ts >= c.from && ts < c.to && c.rows != nil {
			msg.row = c.rows.add(e, c.en, ids)
		}
		if emit {
			r := sendRecord(ids, ts, e.Category, e.MessageType, e.Template, e.MediaBytes)
			r.row = msg.row
			c.push(r)
		}
		c.msgs.put(h, msg)
		if e.Status != pipeline.StatusFailed {
			return
		}
		// A lone failed event: a synchronous refusal, both send and
		// outcome.
		m = c.msgs.get(h)
	}
	switch e.Status {
	case pipeline.StatusFailed:
		if !m.failed {
			m.failed = true
			if m.row >= 0 {
				c.rows.label(m.row, e.ErrorCode)
			}
		}
		if emit {
			c.push(c.outcome(e, m.ids))
		}
	case pipeline.StatusDelivered, pipeline.StatusRead:
		if emit {
			c.push(c.outcome(e, m.ids))
		}
	}
}

func (c *classifier) outcome(e *pipeline.Event, ids entityIDs) record {
	r := record{kind: recOutcome, status: e.Status, ts: e.Timestamp, ids: ids, row: -1, code: e.ErrorCode}
	if e.Status == pipeline.StatusFailed {
		r.family, r.groups = failureOf(e.ErrorCode)
	}
	return r
}
