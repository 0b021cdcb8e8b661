package ingest

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/failcast/failcast/pipeline"
	"github.com/valyala/fastjson"
)

// Options configure an Exporter.
type Options struct {
	// HashKey is the secret key recipients are hashed with
	// (pipeline.RecipientHasher). Required unless NoHash is set; use the
	// same key as for the plans that will be scored against this history.
	HashKey []byte
	// NoHash keeps recipients as numbers (digits only, as
	// pipeline.NormalizeNumber leaves them) instead of hashing them.
	NoHash bool
	// Mapping overrides where send-log fields are found; nil or empty
	// means DefaultMapping.
	Mapping Mapping
	// OnReject, when set, receives every rejected line as it is found (for
	// example a RejectWriter's Write). When nil, rejects are kept and
	// returned by Rejects. An error from OnReject stops the Add call.
	OnReject func(Reject) error
	// Location is the time zone of send-log times written without one
	// ("2026-09-20 09:01:00"); nil rejects them (--timezone).
	Location *time.Location
	// MaxLineBytes caps an input line or CSV record; 0 means
	// DefaultMaxLineBytes. Longer lines are rejected (KindTooLong).
	MaxLineBytes int
}

// Summary counts what an export read and produced.
type Summary struct {
	Bytes                    int64            // input bytes read
	SendLogLines             int64            // non-blank send-log lines (CSV: data records)
	WebhookLines             int64            // non-blank webhook lines
	BlankLines               int64            // empty lines, skipped
	EmptyWebhooks            int64            // webhook lines that parse but carry nothing (entry:[], statuses:[]): neither events nor rejects
	Accepted                 int64            // send-log records the API accepted (one accepted event each)
	Refused                  int64            // send-log records the API refused (one failed event each)
	Statuses                 int64            // webhook statuses read
	Inbound                  int64            // inbound user messages read
	SkippedChanges           int64            // "messages" changes with neither statuses nor messages (value.errors, ...)
	AccountEvents            map[string]int64 // account events read, by kind (pipeline.Status name: template_status, ...)
	UnknownFields            map[string]int64 // webhook changes of fields failcast does not understand, by field: named and counted, not in the history
	UnknownValues            map[string]int64 // values not understood inside account events that were kept without them ("user_preferences value \"pause\"")
	UnresolvedDisplayNumbers int64            // account events naming the sender's number by a display number no webhook of the export maps to a phone number id (their phone_number_id is empty)
	CountryUnknown           int64            // recipients whose number gives no country (invalid, or a shared calling code it fits no region of)
	CountryConflicts         int64            // send-log records whose country column disagrees with the country of the number (the number wins)
	Rejects                  int64            // rejects (entries in the reject file)
	RejectedLines            int64            // physical lines of the rejects (a CSV record may span several)
	RejectsByKind            map[string]int64 // rejected lines by Kind*
	Events                   int64            // events after joining and dropping duplicates
	Duplicates               int64            // events dropped because their event id was already seen
	OrphanStatuses           int64            // webhook status events with no matching send-log record
	MaskedValues             int64            // free-text values and request ids in which numbers were masked (see Exporter.mask)
}

// AccountEventCount returns the number of account events read.
func (s Summary) AccountEventCount() int64 {
	var n int64
	for _, c := range s.AccountEvents {
		n += c
	}
	return n
}

// Lines returns the number of non-blank physical input lines read (CSV
// headers excluded).
func (s Summary) Lines() int64 { return s.SendLogLines + s.WebhookLines }

// RejectRate returns the share of non-blank physical lines that were
// rejected.
func (s Summary) RejectRate() float64 {
	if s.Lines() == 0 {
		return 0
	}
	return float64(s.RejectedLines) / float64(s.Lines())
}

// Exporter joins send logs and status webhooks into history events. Add
// all inputs (in any order), then call Events or WriteEvents once. An
// Exporter is not safe for concurrent use.
type Exporter struct {
	opts     Options
	hasher   *pipeline.RecipientHasher
	keys     [numFields][]string // JSON keys of each send-log field
	pathTree *pathNode           // keys as a tree, for fastSendLogFields (nil: not used)
	paths    [numFields]string
	mapped   [numFields]bool
	finished bool

	strs    interner         // low-cardinality strings: ids of accounts, campaigns, templates, errors
	msgs    interner         // message ids: wamids, request ids of refused sends
	sendOf  []int32          // per message id: index of its accepted send, or -1
	refused map[uint32]int32 // per request id of a refused send: index of its send
	recips  recipientIndex   // recipient numbers as read
	recipID []string         // per recipient: the hashed (or normalised) value
	country []uint32         // per recipient: country, interned in strs
	sends   []sendRec
	recs    []rec
	order   []recKey // once joined: the recs to output (at; duplicates dropped), in output order

	categories map[string]uint32 // valid category spellings -> interned contract category
	msgTypes   map[string]uint32
	statusByte map[string]pipeline.Status

	parser  fastjson.Parser
	num     []byte // scratch for number literals
	pending []pendingEvent
	skipped int64 // changes of the current line without statuses or messages
	// Of the current line: fields and values not understood, display
	// numbers with their phone number ids.
	pendingFields  []string
	pendingValues  []string
	pendingDisplay [][2][]byte

	firstConflict    string // where the first send-log country conflict is, for the warning
	firstConflictSeq uint32 // and its place in the input

	accts        []accountDetail   // per account event (rec.acct); index 0 unused
	displayPhone map[uint32]uint32 // display number -> phone number id, both interned in strs
	phoneWABA    map[uint32]uint32 // phone number id -> the first WABA a webhook envelope names for it
	spill        *spill            // when set (Export), records go to spill files, not recs and sends
	raw          []byte            // the record being committed, as read (for a conflict found when a spill is joined)
	conflicts    []conflict        // a join worker's: send-log conflicts found
	joinedEvents int               // a join worker's: events joined
	rawLines     int               // its physical lines
	send         pendingSend
	fields       [numFields]fieldValue
	numBuf       [numFields][]byte

	rejects  []Reject
	sum      Summary
	source   string          // the input being read
	warned   map[string]bool // warnings given, by what and name
	warnings []string
	seq      uint32 // events added so far

	lineObject bool // the last send-log line parsed was a JSON object
}

// sendRec holds the attributes of one send-log record, which every event
// of its message carries.
type sendRec struct {
	waba, phone, recip, campaign, template, language, category, msgType uint32
	country                                                             uint32 // the log's own country where the number gives none; 0 = the number's
	media                                                               int64
	exploration                                                         bool
	ts                                                                  int64  // sent_at
	source                                                              uint32 // input name, interned in strs
	line                                                                int32  // first line of the record
}

// rec is one event before output. Events from the send log point at their
// send; webhook statuses are joined to theirs by message id when the
// export finishes.
type rec struct {
	id     uint64 // event id hash (pipeline.EventIDHash), set when the export finishes
	ts     int64
	seq    uint32 // input order, the last sort key
	msg    uint32
	send   int32
	recip  uint32
	waba   uint32
	phone  uint32
	camp   uint32
	categ  uint32
	mtype  uint32
	title  uint32
	detail uint32
	code   int32
	status pipeline.Status
	acct   uint32 // account events: index in Exporter.accts; 0 for message events
}

// New returns an Exporter. It fails when neither a hash key nor NoHash is
// given, or when the mapping names unknown fields or bad paths.
func New(opts Options) (*Exporter, error) {
	if len(opts.HashKey) == 0 && !opts.NoHash {
		return nil, errors.New("ingest: a hash key is required to pseudonymise recipients (or set NoHash)")
	}
	x := &Exporter{
		opts:       opts,
		strs:       newInterner(),
		msgs:       newInterner(),
		recipID:    []string{""},
		country:    []uint32{0},
		sendOf:     []int32{-1},
		refused:    map[uint32]int32{},
		categories: map[string]uint32{},
		msgTypes:   map[string]uint32{},
		statusByte: map[string]pipeline.Status{
			"sent": pipeline.StatusSent, "delivered": pipeline.StatusDelivered,
			"read": pipeline.StatusRead, "failed": pipeline.StatusFailed,
		},
	}
	if !opts.NoHash {
		x.hasher = pipeline.NewRecipientHasher(opts.HashKey)
	}
	var err error
	x.paths, x.mapped, err = opts.Mapping.resolve()
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	for f, p := range x.paths {
		if x.keys[f], err = splitPath(p); err != nil {
			return nil, fmt.Errorf("ingest: mapping of %s: %w", sendLogFields[f].name, err)
		}
	}
	x.pathTree = newPathTree(&x.keys)
	for _, c := range pipeline.Categories {
		x.categories[c] = x.strs.str(c)
		x.categories[strings.ToUpper(c)] = x.strs.str(c)
	}
	for _, t := range pipeline.MessageTypes {
		x.msgTypes[t] = x.strs.str(t)
		x.msgTypes[strings.ToUpper(t)] = x.strs.str(t)
	}
	x.sum.RejectsByKind = map[string]int64{}
	x.sum.AccountEvents = map[string]int64{}
	x.sum.UnknownFields = map[string]int64{}
	x.sum.UnknownValues = map[string]int64{}
	x.accts = []accountDetail{{}}
	x.displayPhone = map[uint32]uint32{}
	x.phoneWABA = map[uint32]uint32{}
	x.warned = map[string]bool{}
	return x, nil
}

// Rejects returns the lines rejected so far, when Options.OnReject is nil.
func (x *Exporter) Rejects() []Reject { return slices.Clone(x.rejects) }

// Warnings returns what the export noticed about its inputs that is not
// a reject: input columns (CSV) and top-level keys (NDJSON send logs) that
// no field uses, each with the closest field ("did you mean --map
// template=tpl?").
//
// It also names, with counts, webhook fields and values the export does
// not understand, account events whose display number no webhook mapped to
// a phone number id (known once the export has finished), and send-log
// countries the numbers overruled.
func (x *Exporter) Warnings() []string {
	w := slices.Clone(x.warnings)
	for _, k := range slices.Sorted(maps.Keys(x.sum.UnknownFields)) {
		w = append(w, fmt.Sprintf("webhooks: field %q is not understood: %d change(s) counted, not in the history", k, x.sum.UnknownFields[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(x.sum.UnknownValues)) {
		w = append(w, fmt.Sprintf("webhooks: %s is not understood: %d event(s) kept without it", k, x.sum.UnknownValues[k]))
	}
	if n := x.sum.UnresolvedDisplayNumbers; n > 0 {
		w = append(w, fmt.Sprintf("webhooks: %d account event(s) name the sender's number by a display number no messages webhook of this export maps to a phone number id: their phone_number_id is empty (export them with the status webhooks)", n))
	}
	if n := x.sum.CountryConflicts; n > 0 {
		w = append(w, fmt.Sprintf("send log: %d record(s) give a country other than their number's; the number's country is kept (first: %s)", n, x.firstConflict))
	}
	return w
}

// Summary returns the counts so far. Events, Duplicates and
// OrphanStatuses are known once the export has finished.
func (x *Exporter) Summary() Summary {
	s := x.sum
	s.RejectsByKind = maps.Clone(x.sum.RejectsByKind)
	s.AccountEvents = maps.Clone(x.sum.AccountEvents)
	s.UnknownFields = maps.Clone(x.sum.UnknownFields)
	s.UnknownValues = maps.Clone(x.sum.UnknownValues)
	return s
}

var errFinished = errors.New("ingest: inputs added after the events were taken")

// addReject records a reject of nlines physical lines starting at line.
func (x *Exporter) addReject(source string, line, nlines int, e *lineError, raw []byte) error {
	x.sum.Rejects++
	x.sum.RejectedLines += int64(nlines)
	x.sum.RejectsByKind[e.kind]++
	r := Reject{Source: source, Line: line, Kind: e.kind, Reason: e.reason, Raw: string(raw)}
	if nlines > 1 {
		r.Lines = nlines
	}
	if x.opts.OnReject != nil {
		return x.opts.OnReject(r)
	}
	x.rejects = append(x.rejects, r)
	return nil
}

// message interns a message id and returns its index.
func (x *Exporter) message(id []byte) uint32 {
	m := x.msgs.bytes(id)
	if int(m) == len(x.sendOf) {
		x.sendOf = append(x.sendOf, -1)
	}
	return m
}

// recipient interns a recipient number, hashing it the first time.
func (x *Exporter) recipient(number []byte) uint32 {
	if len(number) == 0 {
		return 0
	}
	r, added := x.recips.index(number, uint32(len(x.recipID)))
	if !added {
		return r
	}
	raw := string(number)
	var id, country string
	switch {
	case strings.HasPrefix(raw, pipeline.HashedPrefix):
		id = raw // already pseudonymised upstream; its country is unknown
	case x.hasher != nil:
		id, country = x.hasher.Hash(raw), pipeline.CountryOf(raw)
	default:
		id, country = pipeline.NormalizeNumber(raw), pipeline.CountryOf(raw)
	}
	if country == "" && !strings.HasPrefix(raw, pipeline.HashedPrefix) {
		x.sum.CountryUnknown++
	}
	x.recipID = append(x.recipID, id)
	x.country = append(x.country, x.strs.str(country))
	return r
}

// recipientIndex numbers the distinct recipient numbers. A number is
// looked up for every send and status (on the goroutine that commits
// lines in order), so numbers of up to 23 bytes (all phone numbers) are
// kept in place in an open-addressing table and compared as three words:
// a map with string keys sends each lookup to the number's bytes
// elsewhere in memory (half of that goroutine's time went to it).
type recipientIndex struct {
	slots []recipientSlot // a power of two; idx 0: empty
	n     int
	long  map[string]uint32 // longer values (recipients hashed upstream)
	last  recipientSlot     // the number looked up last (a recipient's statuses come in runs)
}

// recipientSlot is a number of up to 23 bytes (its length in the last
// byte) and its index.
type recipientSlot struct {
	a, b, c uint64
	idx     uint32
}

// index returns the index of number (not empty), giving it next (> 0),
// and reporting added, when it is new.
func (t *recipientIndex) index(number []byte, next uint32) (r uint32, added bool) {
	if len(number) >= 24 {
		if t.long == nil {
			t.long = map[string]uint32{}
		}
		if r, ok := t.long[string(number)]; ok {
			return r, false
		}
		t.long[string(number)] = next
		return next, true
	}
	a, b, c := numberWords(number)
	if l := &t.last; l.idx != 0 && l.a == a && l.b == b && l.c == c {
		return l.idx, false
	}
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	for i := recipientHash(a, b, c) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.idx == 0 {
			*s = recipientSlot{a: a, b: b, c: c, idx: next}
			t.n++
			t.last = *s
			return next, true
		}
		if s.a == a && s.b == b && s.c == c {
			t.last = *s
			return s.idx, false
		}
	}
}

// numberWords returns the words of a recipientSlot for a number of up to
// 23 bytes: its bytes in little-endian order, zero-padded, its length in
// the last byte. They are loaded from the number itself: copied to a
// 24-byte array first, the words were read before the copy's stores had
// reached memory (a stall costing a tenth of the committer's lookups).
func numberWords(n []byte) (a, b, c uint64) {
	switch {
	case len(n) >= 16:
		a, b, c = binary.LittleEndian.Uint64(n), binary.LittleEndian.Uint64(n[8:]), tailWord(n[16:])
	case len(n) >= 8:
		a, b = binary.LittleEndian.Uint64(n), tailWord(n[8:])
	default:
		a = tailWord(n)
	}
	return a, b, c | uint64(len(n))<<56
}

// tailWord returns up to 7 bytes as a little-endian word, zero-padded.
func tailWord(b []byte) uint64 {
	var v uint64
	i := 0
	if len(b)&4 != 0 {
		v, i = uint64(binary.LittleEndian.Uint32(b)), 4
	}
	if len(b)&2 != 0 {
		v |= uint64(binary.LittleEndian.Uint16(b[i:])) << (8 * i)
		i += 2
	}
	if len(b)&1 != 0 {
		v |= uint64(b[i]) << (8 * i)
	}
	return v
}

func recipientHash(a, b, c uint64) uint64 {
	h := (a ^ 0x9e3779b97f4a7c15) * 0xbf58476d1ce4e5b9
	h = (h ^ b ^ h>>31) * 0x94d049bb133111eb
	h = (h ^ c ^ h>>29) * 0xbf58476d1ce4e5b9
	return h ^ h>>32
}

func (t *recipientIndex) grow() {
	old := t.slots
	t.slots = make([]recipientSlot, max(1024, 2*len(old)))
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.idx == 0 {
			continue
		}
		i := recipientHash(s.a, s.b, s.c) & mask
		for t.slots[i].idx != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// minMaskedDigits is the shortest digit run masked in free text: phone
// numbers have 8 to 15 digits.
const minMaskedDigits = 8

// mask replaces what may be a phone number in a free-text value (error
// titles and details, request ids) with its keyed hash, the recipient
// hash of that number ("h:..."): every run of 8 or more digits, and a '+'
// followed by 8 or more digits with spaces, dashes, dots or parentheses
// between them, that stands alone: not inside a longer word of letters
// and digits (a hex id such as req-4454867485ce2562 is not a number). The hash keeps values distinct and joinable with the
// recipient column, and no raw number reaches the history. With NoHash
// values are kept as they are. It returns b itself when nothing is masked.
func (x *Exporter) mask(b []byte) []byte {
	if x.hasher == nil || len(b) < minMaskedDigits {
		return b
	}
	var out []byte
	last := 0 // b[last:] not yet copied to out
	for i := 0; i < len(b); {
		c := b[i]
		if c != '+' && (c < '0' || c > '9') {
			i++
			continue
		}
		// A candidate: digits, or '+' then digits with separators.
		j, digits, end := i, 0, i
		if c == '+' {
			j++
			for j < len(b) {
				d := b[j]
				if d >= '0' && d <= '9' {
					digits++
					j++
					end = j
				} else if d == ' ' || d == '-' || d == '.' || d == '(' || d == ')' {
					j++
				} else {
					break
				}
			}
		} else {
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			digits, end = j-i, j
		}
		if digits < minMaskedDigits || (i > 0 && isAlnum(b[i-1])) || (end < len(b) && isAlnum(b[end])) {
			i = max(j, i+1)
			continue
		}
		out = append(out, b[last:i]...)
		out = append(out, x.hasher.Hash(string(b[i:end]))...)
		last, i = end, end
	}
	if out == nil {
		return b
	}
	x.sum.MaskedValues++
	return append(out, b[last:]...)
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// validRecipient reports whether a recipient value can name a number (or is an
// already hashed recipient).
func validRecipient(b []byte) bool {
	if len(b) > len(pipeline.HashedPrefix) && string(b[:len(pipeline.HashedPrefix)]) == pipeline.HashedPrefix {
		return true
	}
	for _, c := range b {
		if c >= '0' && c <= '9' {
			return true
		}
	}
	return false
}

// finish joins statuses to sends, assigns event ids, orders events and
// drops duplicates. It runs once.
func (x *Exporter) finish() {
	if x.finished {
		return
	}
	x.finished = true
	x.join()
}

// notePhoneWABA remembers the account a webhook envelope names for a phone
// number (the first one, in input order), for send logs that do not record
// the WABA.
func (x *Exporter) notePhoneWABA(phone, waba uint32) {
	if waba == 0 || phone == 0 {
		return
	}
	if _, ok := x.phoneWABA[phone]; !ok {
		x.phoneWABA[phone] = waba
	}
}

// join joins the statuses of x.recs to the sends of x.sends, assigns event
// ids, and sets x.order to the recs to output, in order, without
// duplicates, adding to the summary's counts. x.recs stay where they are.
// x.recs must hold every event of each of their message ids, in input
// order: all of the export (in memory), or one group of spill buckets.
func (x *Exporter) join() {
	for i := range x.recs {
		r := &x.recs[i]
		if r.send >= 0 || r.acct != 0 || r.status == pipeline.StatusInbound {
			continue // from the send log, an account event, or inbound
		}
		r.send = x.sendOf[r.msg]
		if r.send < 0 {
			continue
		}
		// What the send log leaves out, its webhooks may tell.
		s := &x.sends[r.send]
		if s.category == 0 {
			s.category = r.categ // the pricing category
		}
		if s.phone == 0 {
			s.phone = r.phone
		}
		if s.waba == 0 {
			s.waba = r.waba
		}
	}
	for i := range x.sends {
		if s := &x.sends[i]; s.waba == 0 {
			s.waba = x.phoneWABA[s.phone]
		}
	}
	// Each message id is hashed once for the event ids of its events (a
	// send and its statuses: FNV-1a over the id was a third of the join's
	// own time when hashed per event).
	msgHash := make([]uint64, len(x.msgs.s))
	for m, id := range x.msgs.s {
		msgHash[m] = pipeline.MessageIDHash(id)
	}
	for i := range x.recs {
		r := &x.recs[i]
		if r.acct != 0 {
			// The id first: it does not depend on the display number's
			// resolution, which only this export's other webhooks give.
			r.id = x.accountEventID(r)
			if a := &x.accts[r.acct]; a.display != 0 && r.phone == 0 {
				if r.phone = x.displayPhone[a.display]; r.phone == 0 {
					x.sum.UnresolvedDisplayNumbers++
				}
			}
			continue
		}
		r.id = pipeline.EventIDHashOf(msgHash[r.msg], r.status, r.ts)
	}
	keys := sortedRecKeys(x.recs)
	order := keys[:0] // kept keys, in place
	var last *rec
	for _, k := range keys {
		r := &x.recs[k.at]
		if last != nil && last.ts == r.ts && last.id == r.id {
			x.sum.Duplicates++
			continue
		}
		if x.orphan(r) {
			x.sum.OrphanStatuses++
		}
		order = append(order, k)
		last = r
	}
	x.order = order
	x.sum.Events += int64(len(order))
}

// recKey is a rec's time and where the rec is: recs are ordered by
// sorting these (a radix sort on the time, ties by comparison), which
// costs less than sorting the 72-byte recs themselves by comparison
// (moving them was most of the join's sort). The recs are then read in
// the keys' order where they are: permuting them in place once, cycle by
// cycle, took twice as long as sorting the keys (each move waited for the
// one before it to know where to read).

type recKey struct {
	ts int64
	at uint32
}

// radixMinRecs is the fewest recs sorted by radix (fewer: by comparison).
const radixMinRecs = 1024

// sortedRecKeys returns the keys of recs in the order of the recs by
// time, then event id (as the ids' hex strings compare), then input
// order. seq is unique, so the order is total: any correct sort gives the
// same result.
func sortedRecKeys(recs []rec) []recKey {
	n := len(recs)
	if n < 2 {
		keys := make([]recKey, n)
		for i := range recs {
			keys[i] = recKey{ts: recs[i].ts, at: uint32(i)}
		}
		return keys
	}
	keys := make([]recKey, n)
	lo, hi := recs[0].ts, recs[0].ts
	for i := range recs {
		t := recs[i].ts
		keys[i] = recKey{ts: t, at: uint32(i)}
		lo, hi = min(lo, t), max(hi, t)
	}
	byIDSeq := func(a, b recKey) int {
		ra, rb := &recs[a.at], &recs[b.at]
		if c := cmp.Compare(ra.id, rb.id); c != 0 {
			return c
		}
		return cmp.Compare(ra.seq, rb.seq)
	}
	if n < radixMinRecs {
		slices.SortFunc(keys, func(a, b recKey) int {
			if c := cmp.Compare(a.ts, b.ts); c != 0 {
				return c
			}
			return byIDSeq(a, b)
		})
	} else {
		radixSortByTime(keys, uint64(lo), uint64(hi)-uint64(lo))
		// Equal times (rare, and short runs) by id, then input order.
		for i := 0; i < n; {
			j := i + 1
			for j < n && keys[j].ts == keys[i].ts {
				j++
			}
			if j-i > 1 {
				slices.SortFunc(keys[i:j], byIDSeq)
			}
			i = j
		}
	}
	return keys
}

// radixSortByTime sorts keys by ts (stably: least significant digit
// first), reading each ts as its distance from lo, all of them within span.
func radixSortByTime(keys []recKey, lo, span uint64) {
	const bits = 11
	const mask = 1<<bits - 1
	tmp := make([]recKey, len(keys))
	src, dst := keys, tmp
	var count [1 << bits]int
	for shift := uint(0); shift < 64 && span>>shift != 0; shift += bits {
		clear(count[:])
		for _, k := range src {
			count[(uint64(k.ts)-lo)>>shift&mask]++
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for _, k := range src {
			d := (uint64(k.ts) - lo) >> shift & mask
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
}

// orphan reports whether a joined event is a status without its send.
func (x *Exporter) orphan(r *rec) bool {
	return r.send < 0 && r.status != pipeline.StatusInbound && r.acct == 0
}

// row is an output event with its strings named by index: EventID as its
// hash, MessageID as it is, Recipient in Exporter.recipID, the others in
// Exporter.strs. It is what the spill files hold of a joined event.
type row struct {
	id                                                    uint64
	msg                                                   string
	ts                                                    int64
	seq                                                   uint32
	status                                                pipeline.Status
	code                                                  int32
	orphan, exploration                                   bool
	waba, phone, recip, country, camp, template, language uint32
	categ, mtype, title, detail, avalue                   uint32
	media, anumber, auntil                                int64
}

// row returns the output row of a joined event.
func (x *Exporter) row(r *rec) row {
	o := row{
		id: r.id, msg: x.msgs.s[r.msg], ts: r.ts, seq: r.seq, status: r.status, code: r.code,
		orphan: x.orphan(r), title: r.title, detail: r.detail, media: pipeline.NoMediaBytes,
	}
	if r.send >= 0 {
		s := &x.sends[r.send]
		o.waba, o.phone, o.recip, o.country = s.waba, s.phone, s.recip, x.country[s.recip]
		o.camp, o.template, o.language = s.campaign, s.template, s.language
		o.categ, o.mtype, o.media, o.exploration = s.category, s.msgType, s.media, s.exploration
		if s.country != 0 {
			o.country = s.country
		}
		return o
	}
	o.waba, o.phone, o.recip, o.country = r.waba, r.phone, r.recip, x.country[r.recip]
	o.camp, o.categ, o.mtype = r.camp, r.categ, r.mtype
	if r.acct != 0 {
		a := &x.accts[r.acct]
		o.template, o.language, o.avalue, o.anumber, o.auntil = a.template, a.language, a.value, a.number, a.until
	}
	return o
}

// rowEvent returns the event of an output row.
func (x *Exporter) rowEvent(o *row) pipeline.Event {
	var e pipeline.Event
	x.fillEvent(&e, o, pipeline.FormatEventID(o.id), o.msg)
	return e
}

// fillEvent sets *e to the event of an output row, with its event id and
// message id.
func (x *Exporter) fillEvent(e *pipeline.Event, o *row, id, msg string) {
	s := x.strs.s
	*e = pipeline.Event{
		EventID: id, MessageID: msg, Timestamp: o.ts, Status: o.status,
		WABAID: s[o.waba], PhoneNumberID: s[o.phone], Recipient: x.recipID[o.recip], Country: s[o.country],
		CampaignID: s[o.camp], Template: s[o.template], Language: s[o.language],
		Category: s[o.categ], MessageType: s[o.mtype],
		ErrorCode: o.code, ErrorTitle: s[o.title], ErrorDetails: s[o.detail],
		MediaBytes: o.media, Exploration: o.exploration,
		AccountValue: s[o.avalue], AccountNumber: o.anumber, AccountUntil: o.auntil,
	}
}

// event builds the output event of r.
func (x *Exporter) event(r *rec) pipeline.Event {
	o := x.row(r)
	return x.rowEvent(&o)
}

// WriteEvents finishes the export and passes the events to fn in batches
// of at most batchSize (0 means 65536), in time order (then by event id).
// The batch slice is reused between calls. It returns the final summary.
func (x *Exporter) WriteEvents(ctx context.Context, batchSize int, fn func([]pipeline.Event) error) (Summary, error) {
	x.finish()
	if batchSize <= 0 {
		batchSize = 1 << 16
	}
	batch := make([]pipeline.Event, 0, min(batchSize, len(x.order)))
	for i, k := range x.order {
		batch = append(batch, x.event(&x.recs[k.at]))
		if len(batch) == batchSize || i == len(x.order)-1 {
			if err := ctx.Err(); err != nil {
				return x.Summary(), fmt.Errorf("ingest: write events: %w", err)
			}
			if err := fn(batch); err != nil {
				return x.Summary(), fmt.Errorf("ingest: write events %d-%d: %w", i+1-len(batch), i, err)
			}
			batch = batch[:0]
		}
	}
	return x.Summary(), nil
}

// Events finishes the export and returns all events, joined, without
// duplicates, in time order (then by event id), with the final summary.
func (x *Exporter) Events() ([]pipeline.Event, Summary) {
	x.finish()
	events := make([]pipeline.Event, len(x.order))
	for i, k := range x.order {
		events[i] = x.event(&x.recs[k.at])
	}
	return events, x.Summary()
}
