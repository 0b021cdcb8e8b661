package ingest

import (
	"bytes"

	"github.com/failcast/failcast/pipeline"
)

// The fast path of webhook lines. Nearly every line an export reads is a
// messages webhook of one shape: entry[].changes[].value with metadata and
// statuses[] (or inbound messages[]). fastWebhookLine reads such a line in
// one pass over its bytes, without building a document: a third of the
// cost of parsing it with fastjson and walking the document.
//
// It only ever accepts: when a line is anything but a well-formed messages
// webhook it reads in full (a backslash anywhere, an account or unknown
// field, a type other than the expected one, a bad value, a number that is
// not strict JSON, a syntax error, deep nesting), it reports false and
// parseWebhookLine parses the line the general way, which decides on
// rejects, unknown fields and account events. When it accepts, it leaves
// in x exactly what the general way leaves (the same events in the same
// order, the same display numbers, the same skipped changes): the same
// first-occurrence rule for repeated keys, the same defaults, the same
// value checks (FuzzFastWebhookLine compares the two).

// fastMaxDepth is the deepest nesting the fast path reads (fastjson's
// limit is far above it; deeper lines take the general way).
const fastMaxDepth = 64

// jscan is a cursor over one line of JSON. bad is sticky: once set, every
// method returns at once and the line is left to the general parser.
type jscan struct {
	b   []byte
	i   int
	bad bool
}

func (s *jscan) fail() { s.bad = true }

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space (0 at the end).
func (s *jscan) peek() byte {
	s.ws()
	if s.bad || s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// str reads a string (the line holds no backslash: no escapes).
func (s *jscan) str() []byte {
	if s.peek() != '"' {
		s.fail()
		return nil
	}
	end := bytes.IndexByte(s.b[s.i+1:], '"')
	if end < 0 {
		s.fail()
		return nil
	}
	v := s.b[s.i+1 : s.i+1+end : s.i+1+end]
	s.i += end + 2
	return v
}

// num reads a number of strict JSON grammar and returns its text (what
// fastjson keeps of it).
func (s *jscan) num() []byte {
	s.ws()
	start, b := s.i, s.b
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i, _ = digits(b, i)
	default:
		s.fail()
		return nil
	}
	ok := true
	if i < len(b) && b[i] == '.' {
		i, ok = digits(b, i+1)
	}
	if ok && i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		i, ok = digits(b, i)
	}
	// What ends a number: white space, a comma, a closing bracket or the
	// end (fastjson would read on through letters and signs).
	if !ok || i < len(b) && !endsValue(b[i]) {
		s.fail()
		return nil
	}
	s.i = i
	return b[start:i:i]
}

// lit reads the literal w (true, false, null).
func (s *jscan) lit(w string) {
	s.ws()
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		s.fail()
		return
	}
	s.i += len(w)
	if s.i < len(s.b) && !endsValue(s.b[s.i]) {
		s.fail()
	}
}

// digits returns the index past the ASCII digits from i on, and whether
// there was at least one.
func digits(b []byte, i int) (int, bool) {
	d := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i, i > d
}

// endsValue reports whether c may follow a number or literal: white space,
// a comma or a closing bracket.
func endsValue(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', '}', ']':
		return true
	}
	return false
}

// open consumes the opening bracket c and reports whether the container
// has members (false: it was empty and is consumed whole).
func (s *jscan) open(c, close byte) bool {
	if s.peek() != c {
		s.fail()
		return false
	}
	s.i++
	if s.peek() == close {
		s.i++
		return false
	}
	return !s.bad
}

// next consumes what follows a member: a comma (true: another member) or
// the closing bracket (false).
func (s *jscan) next(close byte) bool {
	switch s.peek() {
	case ',':
		s.i++
		return true
	case close:
		s.i++
		return false
	}
	s.fail()
	return false
}

// key reads an object key and its colon.
func (s *jscan) key() []byte {
	k := s.str()
	if s.peek() != ':' {
		s.fail()
		return nil
	}
	s.i++
	return k
}

// skip reads any value, checking its syntax.
func (s *jscan) skip(depth int) {
	if depth > fastMaxDepth {
		s.fail()
		return
	}
	switch s.peek() {
	case '"':
		s.str()
	case '{':
		for more := s.open('{', '}'); more && !s.bad; more = s.next('}') {
			s.key()
			s.skip(depth + 1)
		}
	case '[':
		for more := s.open('[', ']'); more && !s.bad; more = s.next(']') {
			s.skip(depth + 1)
		}
	case 't':
		s.lit("true")
	case 'f':
		s.lit("false")
	case 'n':
		s.lit("null")
	default:
		s.num()
	}
}

// isNull consumes a null and reports whether there was one.
func (s *jscan) isNull() bool {
	if s.peek() == 'n' {
		s.lit("null")
		return true
	}
	return false
}

// optStr reads a string or null (nil), as optionalString takes them.
func (s *jscan) optStr() []byte {
	if s.isNull() {
		return nil
	}
	return s.str()
}

// idText reads an id as idText takes it: a string, a number's text, or
// null (nil).
func (s *jscan) idText() []byte {
	switch c := s.peek(); {
	case c == '"':
		return s.str()
	case c == 'n':
		s.lit("null")
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		return s.num()
	}
	s.fail()
	return nil
}

// fastWebhookLine reads line into x.pending, x.skipped and
// x.pendingDisplay as parseWebhookLine would, and reports whether it did;
// on false x's pending state is undefined and the caller parses the line
// the general way. line has passed parseObjectLine's byte checks.
func (x *Exporter) fastWebhookLine(line []byte) bool {
	if bytes.IndexByte(line, '\\') >= 0 {
		return false
	}
	s := &jscan{b: line}
	seenEntry := false
	for more := s.open('{', '}'); more && !s.bad; more = s.next('}') {
		if k := s.key(); string(k) == "entry" && !seenEntry {
			seenEntry = true
			for more := s.open('[', ']'); more && !s.bad; more = s.next(']') {
				x.fastEntry(s)
			}
			continue
		}
		s.skip(1)
	}
	if !seenEntry || s.bad {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

// fastEntry reads one entry object.
func (x *Exporter) fastEntry(s *jscan) {
	lo := len(x.pending)
	var waba []byte
	seenID, seenChanges := false, false
	for more := s.open('{', '}'); more && !s.bad; more = s.next('}') {
		switch k := s.key(); {
		case string(k) == "id" && !seenID:
			seenID = true
			waba = s.idText()
		case string(k) == "changes" && !seenChanges:
			seenChanges = true
			for more := s.open('[', ']'); more && !s.bad; more = s.next(']') {
				x.fastChange(s)
			}
		default:
			s.skip(3)
		}
	}
	if !seenChanges {
		s.fail() // "no changes array": a reject
		return
	}
	for i := lo; i < len(x.pending); i++ {
		x.pending[i].waba = waba
	}
}

// fastChange reads one change of a messages field (or of no field).
func (x *Exporter) fastChange(s *jscan) {
	lo := len(x.pending)
	seenField, seenValue := false, false
	for more := s.open('{', '}'); more && !s.bad; more = s.next('}') {
		switch k := s.key(); {
		case string(k) == "field" && !seenField:
			seenField = true
			if f := s.str(); string(f) != "messages" {
				s.fail() // an account field or one not understood
			}
		case string(k) == "value" && !seenValue:
			seenValue = true
			x.fastValue(s, lo)
		default:
			s.skip(5)
		}
	}
	if !seenValue {
		s.fail()
	}
}

// fastValue reads a change's value object; the events it adds start at
// x.pending[lo].
func (x *Exporter) fastValue(s *jscan, lo int) {
	var phone, display []byte
	var messages []byte // the messages array, read after the statuses
	seenMeta, seenStatuses, seenMessages := false, false, false
	for more := s.open('{', '}'); more && !s.bad; more = s.next('}') {
		switch k := s.key(); {
		case string(k) == "metadata" && !seenMeta:
			seenMeta = true
			seenPhone, seenDisplay := false, false
			for more := s.open('{', '}'); more && !s.bad; more = s.next('}') {
				switch k := s.key(); {
				case string(k) == "phone_number_id" && !seenPhone:
					seenPhone = true
					phone = s.idText()
				case string(k) == "display_phone_number" && !seenDisplay:
					seenDisplay = true
					display = s.optStr()
				default:
					s.skip(8)
				}
			}
		case string(k) == "statuses" && !seenStatuses:
			seenStatuses = true
			for more := s.open('[', ']'); more && !s.bad; more = s.next(']') {
				x.fastStatus(s)
			}
		case string(k) == "messages" && !seenMessages:
			seenMessages = true
			start := s.i
			s.skip(7)
			messages = s.b[start:s.i]
		default:
			s.skip(7)
		}
	}
	if s.bad {
		return
	}
	if len(display) > 0 && len(phone) > 0 {
		x.pendingDisplay = append(x.pendingDisplay, [2][]byte{display, phone})
	}
	if !seenStatuses && !seenMessages {
		x.skipped++
		return
	}
	if seenMessages {
		m := &jscan{b: messages}
		for more := m.open('[', ']'); more && !m.bad; more = m.next(']') {
			x.fastInbound(m)
		}
		if m.bad {
			s.fail()
			return
		}
	}
	for i := lo; i < len(x.pending); i++ {
		x.pending[i].phone = phone
	}
}

// fastStatus reads one status object as parseStatus does.
func (x *Exporter) fastStatus(s *jscan) {
	var id, name, ts, recip, cb, categ []byte
	var seen [8]bool // id, status, timestamp, recipient_id, biz_opaque_callback_data, pricing, errors
	var hasCateg, hasErrors, errOK bool
	p := pendingEvent{code: pipeline.NoErrorCode}
	for more := s.open('{', '}'); more && !s.bad; more = s.next('}') {
		k := s.key()
		f := statusKey(k)
		if f < 0 || seen[f] {
			s.skip(9)
			continue
		}
		seen[f] = true
		switch f {
		case 0:
			id = s.str()
		case 1:
			name = s.str()
		case 2:
			if s.peek() == '"' {
				ts = s.str()
			} else {
				ts = s.num()
			}
		case 3:
			recip = s.idText()
			if recip == nil {
				s.fail() // null: "no recipient_id"
			}
		case 4:
			cb = s.optStr()
		case 5:
			// pricing: only its category (a string) is read; a pricing that
			// is not an object, or a category that is not a string, takes
			// the general way.
			seenCat := false
			for more := s.open('{', '}'); more && !s.bad; more = s.next('}') {
				if k := s.key(); string(k) == "category" && !seenCat {
					seenCat = true
					categ, hasCateg = s.str(), true
					continue
				}
				s.skip(10)
			}
		case 6:
			hasErrors = true
			errOK = x.fastErrors(s, &p)
		}
	}
	if s.bad || len(id) == 0 || !seen[2] || recip == nil {
		s.fail()
		return
	}
	status, ok := x.statusByte[string(name)]
	if !ok {
		s.fail()
		return
	}
	t, err := parseUnix(ts)
	if err != nil || !validRecipient(recip) {
		s.fail()
		return
	}
	p.msgID, p.status, p.ts, p.recip = id, status, t, recip
	if cb != nil {
		p.camp = campaignFromCallback(cb)
	}
	if hasCateg && categ != nil {
		p.categ = x.categories[string(categ)]
	}
	if status == pipeline.StatusFailed {
		if !hasErrors || !errOK {
			s.fail()
			return
		}
	} else {
		p.code, p.title, p.detail = pipeline.NoErrorCode, nil, nil
	}
	x.pending = append(x.pending, p)
}

// statusKey numbers the keys of a status that parseStatus reads (-1: any
// other).
func statusKey(k []byte) int {
	switch string(k) {
	case "id":
		return 0
	case "status":
		return 1
	case "timestamp":
		return 2
	case "recipient_id":
		return 3
	case "biz_opaque_callback_data":
		return 4
	case "pricing":
		return 5
	case "errors":
		return 6
	}
	return -1
}

// fastErrors reads a status's errors array as parseErrors does, into p,
// and reports whether it is a good one (a non-empty array whose first
// element has a code). A bad one is only a reject for a failed status, so
// it is read through either way.
func (x *Exporter) fastErrors(s *jscan, p *pendingEvent) bool {
	if s.peek() != '[' {
		s.skip(10)
		return false
	}
	ok := false
	first := true
	for more := s.open('[', ']'); more && !s.bad; more = s.next(']') {
		if !first {
			s.skip(11)
			continue
		}
		first = false
		if s.peek() != '{' {
			s.skip(11)
			continue
		}
		var code, title, msg, detail []byte
		var seenCode, seenTitle, seenMsg, seenData bool
		for more := s.open('{', '}'); more && !s.bad; more = s.next('}') {
			switch k := s.key(); {
			case string(k) == "code" && !seenCode:
				seenCode = true
				switch s.peek() {
				case '"':
					code = s.str()
				case 'n':
					s.lit("null")
				default:
					code = s.num()
				}
			case string(k) == "title" && !seenTitle:
				seenTitle = true
				title = s.optStr()
			case string(k) == "message" && !seenMsg:
				seenMsg = true
				msg = s.optStr()
			case string(k) == "error_data" && !seenData:
				seenData = true
				seenDetails := false
				for more := s.open('{', '}'); more && !s.bad; more = s.next('}') {
					if k := s.key(); string(k) == "details" && !seenDetails {
						seenDetails = true
						detail = s.optStr()
						continue
					}
					s.skip(13)
				}
			default:
				s.skip(12)
			}
		}
		n, good := parseInt(code, 32)
		if s.bad || code == nil || !good || n < 0 {
			continue // read on to the end of the array; not ok
		}
		p.code, p.title, p.detail = int32(n), title, detail
		if len(p.title) == 0 {
			p.title = msg
		}
		if len(p.title) == 0 {
			info, _ := pipeline.LookupCode(p.code)
			p.title = []byte(info.Title)
		}
		ok = true
	}
	return ok && !s.bad
}

// fastInbound reads one inbound message as parseInbound does.
func (x *Exporter) fastInbound(s *jscan) {
	var id, ts, from, typ []byte
	var seenID, seenTS, seenFrom, seenType bool
	for more := s.open('{', '}'); more && !s.bad; more = s.next('}') {
		switch k := s.key(); {
		case string(k) == "id" && !seenID:
			seenID = true
			id = s.str()
		case string(k) == "timestamp" && !seenTS:
			seenTS = true
			if s.peek() == '"' {
				ts = s.str()
			} else {
				ts = s.num()
			}
		case string(k) == "from" && !seenFrom:
			seenFrom = true
			from = s.idText()
		case string(k) == "type" && !seenType:
			seenType = true
			typ = s.optStr()
		default:
			s.skip(9)
		}
	}
	if s.bad || len(id) == 0 || !seenTS || from == nil || !validRecipient(from) {
		s.fail()
		return
	}
	t, err := parseUnix(ts)
	if err != nil {
		s.fail()
		return
	}
	x.pending = append(x.pending, pendingEvent{
		msgID: id, ts: t, recip: from, code: pipeline.NoErrorCode, status: pipeline.StatusInbound,
		mtype: x.inboundType(typ), categ: x.categories[pipeline.CategoryService],
	})
}
