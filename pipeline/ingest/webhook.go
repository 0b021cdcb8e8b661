package ingest

import (
	"context"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/failcast/failcast/pipeline"
	"github.com/valyala/fastjson"
)

// pendingEvent is an event parsed from the current line, kept until the
// whole line has parsed (a line is taken whole or rejected whole). Byte
// slices point into the parser's buffer.
type pendingEvent struct {
	msgID, recip, waba, phone, camp, title, detail []byte
	categ, mtype                                   uint32
	ts                                             int64
	code                                           int32
	status                                         pipeline.Status
	acct                                           bool // an account event (status.IsAccountEvent)
	account                                        pendingAccount
}

// AddWebhooks reads NDJSON of Meta's webhook bodies (one POST body per
// line): statuses become sent, delivered, read or failed events, inbound
// user messages become inbound events, and the account-level fields
// (message_template_status_update, ..., user_preferences) become account
// events (pipeline.StatusTemplateStatus, ...). A field failcast does not
// understand is named and counted (Summary.UnknownFields), never dropped
// silently. Malformed lines are rejected (see
// Reject); the error is only for failed reads, a failing OnReject or a
// cancelled ctx. name identifies the input in rejects.
func (x *Exporter) AddWebhooks(ctx context.Context, name string, r io.Reader) error {
	return x.addNDJSON(ctx, "webhooks", name, r, &x.sum.WebhookLines, true, x.usePending, x.commitPending)
}

// usePending takes a line parsed on a worker (parseParallel) as the
// current line's pending events.
func (x *Exporter) usePending(l *lineResult) {
	x.pending, x.skipped = l.pending, l.skipped
	x.pendingFields, x.pendingValues, x.pendingDisplay = l.fields, l.values, l.display
}

// commitPending turns the current line's pending events into records. A
// line without events, skipped changes or fields not understood
// (entry:[], statuses:[]) is counted in EmptyWebhooks.
func (x *Exporter) commitPending(string, int) *lineError {
	x.sum.SkippedChanges += x.skipped
	if len(x.pending) == 0 && x.skipped == 0 && len(x.pendingFields) == 0 {
		x.sum.EmptyWebhooks++
	}
	for _, f := range x.pendingFields {
		x.sum.UnknownFields[f]++
	}
	for _, v := range x.pendingValues {
		x.sum.UnknownValues[v]++
	}
	for _, d := range x.pendingDisplay {
		display := x.strs.bytes(d[0])
		if _, ok := x.displayPhone[display]; !ok {
			x.displayPhone[display] = x.strs.bytes(d[1])
		}
	}
	for i := range x.pending {
		p := &x.pending[i]
		if p.acct {
			x.commitAccount(p)
			continue
		}
		r := rec{
			ts:     p.ts,
			seq:    x.seq,
			send:   -1,
			recip:  x.recipient(p.recip),
			waba:   x.strs.at(slotWABA, p.waba),
			phone:  x.strs.at(slotPhone, p.phone),
			camp:   x.strs.at(slotCampaign, p.camp),
			categ:  p.categ,
			mtype:  p.mtype,
			title:  x.strs.at(slotTitle, x.mask(p.title)),
			detail: x.strs.at(slotDetail, x.mask(p.detail)),
			code:   p.code,
			status: p.status,
		}
		x.seq++
		x.notePhoneWABA(r.phone, r.waba)
		if x.spill != nil {
			x.spill.addEvent(&r, p.msgID, nil)
		} else {
			r.msg = x.message(p.msgID)
			x.recs = append(x.recs, r)
		}
		if p.status == pipeline.StatusInbound {
			x.sum.Inbound++
		} else {
			x.sum.Statuses++
		}
	}
	return nil
}

// commitAccount records an account event of the current line.
func (x *Exporter) commitAccount(p *pendingEvent) {
	a := accountDetail{
		template: x.strs.bytes(p.account.template), language: x.strs.bytes(p.account.language),
		value: x.strs.bytes(p.account.value), display: x.strs.bytes(p.account.display),
		number: p.account.number, until: p.account.until,
	}
	var recip uint32
	if len(p.recip) > 0 {
		recip = x.recipient(p.recip)
	}
	r := rec{
		ts:     p.ts,
		seq:    x.seq,
		send:   -1,
		recip:  recip,
		waba:   x.strs.bytes(p.waba),
		phone:  x.strs.bytes(p.phone),
		categ:  p.categ,
		title:  x.strs.bytes(x.mask(p.title)),
		detail: x.strs.bytes(x.mask(p.detail)),
		code:   pipeline.NoErrorCode,
		status: p.status,
	}
	x.seq++
	if x.spill != nil {
		x.spill.addEvent(&r, nil, &a)
	} else {
		r.acct = uint32(len(x.accts))
		x.recs = append(x.recs, r)
		x.accts = append(x.accts, a)
	}
	x.sum.AccountEvents[p.status.String()]++
}

// parseWebhookLine parses one webhook body into x.pending: the usual
// messages webhook by fastWebhookLine, any other line (and any line that
// may be a reject) by parseWebhookGeneral.
func (x *Exporter) parseWebhookLine(line []byte) *lineError {
	x.pending, x.skipped = x.pending[:0], 0
	x.pendingFields, x.pendingValues, x.pendingDisplay = x.pendingFields[:0], x.pendingValues[:0], x.pendingDisplay[:0]
	if utf8.Valid(line) && rawControlInString(line) == nil && x.fastWebhookLine(line) {
		return nil
	}
	x.pending, x.skipped, x.pendingDisplay = x.pending[:0], 0, x.pendingDisplay[:0] // what the fast path left
	return x.parseWebhookGeneral(line)
}

// parseWebhookGeneral parses one webhook body into x.pending with
// fastjson: any body, any field; the rejects and unknown fields are its
// own. x's pending state must be empty.
func (x *Exporter) parseWebhookGeneral(line []byte) *lineError {
	v, le := x.parseObjectLine(line, "a webhook body object")
	if le != nil {
		return le
	}
	entries := v.Get("entry")
	if entries == nil {
		return reject(KindMissingField, "no entry array")
	}
	if entries.Type() != fastjson.TypeArray {
		return reject(KindWrongType, "entry is %s, want an array", typeName(entries.Type()))
	}
	for i, entry := range mustArray(entries) {
		if entry.Type() != fastjson.TypeObject {
			return reject(KindWrongType, "entry[%d] is %s, want an object", i, typeName(entry.Type()))
		}
		waba, le := x.idText(entry.Get("id"))
		if le != nil {
			return at(le, "entry[%d].id", i)
		}
		changes := entry.Get("changes")
		if changes == nil {
			return reject(KindMissingField, "entry[%d] has no changes array", i)
		}
		if changes.Type() != fastjson.TypeArray {
			return reject(KindWrongType, "entry[%d].changes is %s, want an array", i, typeName(changes.Type()))
		}
		for j, change := range mustArray(changes) {
			if le := x.parseChange(change, entry, waba); le != nil {
				return at(le, "entry[%d].changes[%d]", i, j)
			}
		}
	}
	return nil
}

// at prefixes a reject reason with where in the line it happened.
func at(le *lineError, format string, args ...any) *lineError {
	return &lineError{kind: le.kind, reason: fmt.Sprintf(format, args...) + ": " + le.reason}
}

func mustArray(v *fastjson.Value) []*fastjson.Value {
	a, _ := v.Array()
	return a
}

func (x *Exporter) parseChange(change, entry *fastjson.Value, waba []byte) *lineError {
	if change.Type() != fastjson.TypeObject {
		return reject(KindWrongType, "is %s, want an object", typeName(change.Type()))
	}
	if f := change.Get("field"); f != nil {
		name, err := f.StringBytes()
		if err != nil {
			return reject(KindWrongType, "field is %s, want a string", typeName(f.Type()))
		}
		if string(name) != "messages" {
			if kind, ok := accountFields[string(name)]; ok {
				return x.parseAccountChange(name, kind, change, entry, waba)
			}
			x.unknownField(name)
			return nil
		}
	}
	value := change.Get("value")
	if value == nil {
		return reject(KindMissingField, "no value object")
	}
	if value.Type() != fastjson.TypeObject {
		return reject(KindWrongType, "value is %s, want an object", typeName(value.Type()))
	}
	phone, le := x.idText(value.Get("metadata", "phone_number_id"))
	if le != nil {
		return at(le, "value.metadata.phone_number_id")
	}
	// The display number of the phone number id, for the account webhooks
	// that name the number by it.
	if d, _ := optionalString(value, "metadata", "display_phone_number"); len(d) > 0 && len(phone) > 0 {
		x.pendingDisplay = append(x.pendingDisplay, [2][]byte{d, phone})
	}
	statuses, messages := value.Get("statuses"), value.Get("messages")
	if statuses == nil && messages == nil {
		x.skipped++ // e.g. value.errors: nothing about a message
		return nil
	}
	if statuses != nil {
		if statuses.Type() != fastjson.TypeArray {
			return reject(KindWrongType, "value.statuses is %s, want an array", typeName(statuses.Type()))
		}
		for k, st := range mustArray(statuses) {
			if le := x.parseStatus(st, waba, phone); le != nil {
				return at(le, "value.statuses[%d]", k)
			}
		}
	}
	if messages != nil {
		if messages.Type() != fastjson.TypeArray {
			return reject(KindWrongType, "value.messages is %s, want an array", typeName(messages.Type()))
		}
		for k, m := range mustArray(messages) {
			if le := x.parseInbound(m, waba, phone); le != nil {
				return at(le, "value.messages[%d]", k)
			}
		}
	}
	return nil
}

func (x *Exporter) parseStatus(st *fastjson.Value, waba, phone []byte) *lineError {
	if st.Type() != fastjson.TypeObject {
		return reject(KindWrongType, "is %s, want an object", typeName(st.Type()))
	}
	p := pendingEvent{waba: waba, phone: phone, code: pipeline.NoErrorCode}
	var le *lineError
	if p.msgID, le = x.requiredString(st, "id"); le != nil {
		return le
	}
	name, le := x.requiredString(st, "status")
	if le != nil {
		return le
	}
	status, ok := x.statusByte[string(name)]
	if !ok {
		return reject(KindUnknownStatus, "status %q, want sent, delivered, read or failed", name)
	}
	p.status = status
	if p.ts, le = x.unixField(st, "timestamp"); le != nil {
		return le
	}
	if p.recip, le = x.recipientField(st, "recipient_id"); le != nil {
		return le
	}
	if cb := st.Get("biz_opaque_callback_data"); cb != nil && cb.Type() != fastjson.TypeNull {
		b, err := cb.StringBytes()
		if err != nil {
			return reject(KindWrongType, "biz_opaque_callback_data is %s, want a string", typeName(cb.Type()))
		}
		p.camp = campaignFromCallback(b)
	}
	if c := st.GetStringBytes("pricing", "category"); c != nil {
		p.categ = x.categories[string(c)] // 0 for pricing-only categories
	}
	if status == pipeline.StatusFailed {
		if le := x.parseErrors(st, &p); le != nil {
			return le
		}
	}
	x.pending = append(x.pending, p)
	return nil
}

// parseErrors reads the first of a failed status's errors[].
func (x *Exporter) parseErrors(st *fastjson.Value, p *pendingEvent) *lineError {
	errs := st.Get("errors")
	if errs == nil {
		return reject(KindMissingField, "failed status without errors")
	}
	if errs.Type() != fastjson.TypeArray {
		return reject(KindWrongType, "errors is %s, want an array", typeName(errs.Type()))
	}
	list := mustArray(errs)
	if len(list) == 0 {
		return reject(KindMissingField, "failed status with an empty errors array")
	}
	e := list[0]
	if e.Type() != fastjson.TypeObject {
		return reject(KindWrongType, "errors[0] is %s, want an object", typeName(e.Type()))
	}
	code, le := x.codeField(e.Get("code"))
	if le != nil {
		return at(le, "errors[0].code")
	}
	p.code = code
	var msg []byte
	if p.title, le = optionalString(e, "title"); le != nil {
		return at(le, "errors[0]")
	}
	if msg, le = optionalString(e, "message"); le != nil {
		return at(le, "errors[0]")
	}
	if p.detail, le = optionalString(e, "error_data", "details"); le != nil {
		return at(le, "errors[0]")
	}
	if len(p.title) == 0 {
		p.title = msg
	}
	if len(p.title) == 0 {
		info, _ := pipeline.LookupCode(code)
		p.title = []byte(info.Title)
	}
	return nil
}

// parseInbound reads one inbound user message.
func (x *Exporter) parseInbound(m *fastjson.Value, waba, phone []byte) *lineError {
	if m.Type() != fastjson.TypeObject {
		return reject(KindWrongType, "is %s, want an object", typeName(m.Type()))
	}
	p := pendingEvent{waba: waba, phone: phone, code: pipeline.NoErrorCode, status: pipeline.StatusInbound}
	var le *lineError
	if p.msgID, le = x.requiredString(m, "id"); le != nil {
		return le
	}
	if p.ts, le = x.unixField(m, "timestamp"); le != nil {
		return le
	}
	if p.recip, le = x.recipientField(m, "from"); le != nil {
		return le
	}
	typ, le := optionalString(m, "type")
	if le != nil {
		return le
	}
	p.mtype = x.inboundType(typ)
	p.categ = x.categories[pipeline.CategoryService]
	x.pending = append(x.pending, p)
	return nil
}

// inboundType maps an inbound message's type onto the contract's message
// types: a button reply is interactive, types the contract does not list
// (order, system, unsupported, ...) and a missing type count as text.
func (x *Exporter) inboundType(typ []byte) uint32 {
	if t, ok := x.msgTypes[string(typ)]; ok {
		return t
	}
	if string(typ) == "button" {
		return x.msgTypes["interactive"]
	}
	return x.msgTypes["text"]
}

// requiredString returns a non-empty string member.
func (x *Exporter) requiredString(v *fastjson.Value, key string) ([]byte, *lineError) {
	m := v.Get(key)
	if m == nil || m.Type() == fastjson.TypeNull {
		return nil, reject(KindMissingField, "no %s", key)
	}
	b, err := m.StringBytes()
	if err != nil {
		return nil, reject(KindWrongType, "%s is %s, want a string", key, typeName(m.Type()))
	}
	if len(b) == 0 {
		return nil, reject(KindMissingField, "%s is empty", key)
	}
	return b, nil
}

// optionalString returns a string member, nil when absent or null.
func optionalString(v *fastjson.Value, keys ...string) ([]byte, *lineError) {
	m := v.Get(keys...)
	if m == nil || m.Type() == fastjson.TypeNull {
		return nil, nil
	}
	b, err := m.StringBytes()
	if err != nil {
		return nil, reject(KindWrongType, "%s is %s, want a string", dotted(keys), typeName(m.Type()))
	}
	return b, nil
}

func dotted(keys []string) string {
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += "."
		}
		s += k
	}
	return s
}

// idText returns an optional id that may be written as a string or a
// number (some tools turn numeric ids into JSON numbers).
func (x *Exporter) idText(v *fastjson.Value) ([]byte, *lineError) {
	if v == nil {
		return nil, nil
	}
	switch t := v.Type(); t {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return b, nil
	case fastjson.TypeNumber:
		return v.MarshalTo(nil), nil
	case fastjson.TypeNull:
		return nil, nil
	default:
		return nil, reject(KindWrongType, "is %s, want a string", typeName(t))
	}
}

// unixField returns a required Unix time member, a numeric string (as
// Meta sends it) or a number.
func (x *Exporter) unixField(v *fastjson.Value, key string) (int64, *lineError) {
	m := v.Get(key)
	if m == nil || m.Type() == fastjson.TypeNull {
		return 0, reject(KindMissingField, "no %s", key)
	}
	var b []byte
	switch t := m.Type(); t {
	case fastjson.TypeString:
		b, _ = m.StringBytes()
	case fastjson.TypeNumber:
		x.num = m.MarshalTo(x.num[:0])
		b = x.num
	default:
		return 0, reject(KindWrongType, "%s is %s, want a numeric string", key, typeName(t))
	}
	ts, err := parseUnix(b)
	if err != nil {
		return 0, reject(KindBadTimestamp, "%s: %v", key, err)
	}
	return ts, nil
}

// recipientField returns a required phone number member.
func (x *Exporter) recipientField(v *fastjson.Value, key string) ([]byte, *lineError) {
	m := v.Get(key)
	if m == nil || m.Type() == fastjson.TypeNull {
		return nil, reject(KindMissingField, "no %s", key)
	}
	b, le := x.idText(m)
	if le != nil {
		return nil, at(le, "%s", key)
	}
	if !validRecipient(b) {
		return nil, reject(KindBadValue, "%s %q is not a phone number", key, b)
	}
	return b, nil
}

// codeField returns a required error code, a number or a numeric string.
func (x *Exporter) codeField(v *fastjson.Value) (int32, *lineError) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return 0, reject(KindMissingField, "missing")
	}
	var b []byte
	switch t := v.Type(); t {
	case fastjson.TypeString:
		b, _ = v.StringBytes()
	case fastjson.TypeNumber:
		x.num = v.MarshalTo(x.num[:0])
		b = x.num
	default:
		return 0, reject(KindWrongType, "is %s, want a number", typeName(t))
	}
	n, ok := parseInt(b, 32)
	if !ok || n < 0 {
		return 0, reject(KindBadValue, "%q is not an error code", b)
	}
	return int32(n), nil
}

// typeName names a JSON type with its article, for reasons.
func typeName(t fastjson.Type) string {
	switch t {
	case fastjson.TypeObject:
		return "an object"
	case fastjson.TypeArray:
		return "an array"
	case fastjson.TypeString:
		return "a string"
	case fastjson.TypeNumber:
		return "a number"
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return "a boolean"
	default:
		return "null"
	}
}
