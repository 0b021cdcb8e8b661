package ingest

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/failcast/failcast/pipeline"
	"github.com/valyala/fastjson"
)

// valueKind is the JSON type of a send-log field's value.
type valueKind uint8

const (
	kindAbsent valueKind = iota // absent, null, or an empty CSV cell
	kindString
	kindNumber
	kindBool
	kindOther // object or array
)

// fieldValue is one send-log field of the current line.
type fieldValue struct {
	b    []byte
	kind valueKind
	typ  string // JSON type name, for kindOther
}

// pendingSend is the send-log record of the current line.
type pendingSend struct {
	requestID, msgID, waba, phone, recip, camp, template, language, title, detail []byte
	categ, mtype                                                                  uint32
	ts, media                                                                     int64
	code                                                                          int32
	exploration                                                                   bool
}

// AddSendLogNDJSON reads a send log as NDJSON, one send request per line,
// with its fields where the Mapping says. Malformed lines are rejected
// (see Reject); the error is only for failed reads, a failing OnReject or
// a cancelled ctx. name identifies the input in rejects.
func (x *Exporter) AddSendLogNDJSON(ctx context.Context, name string, r io.Reader) error {
	return x.addNDJSON(ctx, "send log", name, r, &x.sum.SendLogLines, x.parseSendLogLine, x.commitSend)
}

// parseObjectLine parses one NDJSON line that must be a JSON object
// (what names it in reasons). The value is valid until the next parse.
func (x *Exporter) parseObjectLine(line []byte, what string) (*fastjson.Value, *lineError) {
	if !utf8.Valid(line) {
		return nil, reject(KindInvalidUTF8, "line is not valid UTF-8")
	}
	v, err := x.parser.ParseBytes(line)
	if err != nil {
		return nil, reject(KindBadJSON, "%v", err)
	}
	switch t := v.Type(); t {
	case fastjson.TypeObject:
		return v, nil
	case fastjson.TypeNull:
		return nil, reject(KindNull, "line is JSON null, want %s", what)
	default:
		return nil, reject(KindNotObject, "line is a JSON %s, want %s", t, what)
	}
}

// parseSendLogLine parses one NDJSON send-log line into x.send.
func (x *Exporter) parseSendLogLine(line []byte) *lineError {
	v, le := x.parseObjectLine(line, "a send-log object")
	if le != nil {
		return le
	}
	for f := range numFields {
		fv := &x.fields[f]
		*fv = fieldValue{}
		m := v.Get(x.keys[f]...)
		if m == nil {
			continue
		}
		switch t := m.Type(); t {
		case fastjson.TypeString:
			fv.b, _ = m.StringBytes()
			fv.kind = kindString
		case fastjson.TypeNumber:
			x.numBuf[f] = m.MarshalTo(x.numBuf[f][:0])
			fv.b, fv.kind = x.numBuf[f], kindNumber
		case fastjson.TypeTrue, fastjson.TypeFalse:
			fv.b, fv.kind = []byte(t.String()), kindBool
		case fastjson.TypeObject, fastjson.TypeArray:
			fv.kind, fv.typ = kindOther, typeName(t)
		}
	}
	return x.buildSend()
}

// fieldName names a field and where it was looked for, for reasons.
func (x *Exporter) fieldName(f field) string {
	if x.paths[f] == sendLogFields[f].name {
		return x.paths[f]
	}
	return sendLogFields[f].name + " (" + x.paths[f] + ")"
}

// text returns a field that must be a string (or a number, for ids).
func (x *Exporter) text(f field, numberOK bool) ([]byte, *lineError) {
	fv := &x.fields[f]
	switch fv.kind {
	case kindAbsent:
		return nil, nil
	case kindString:
		return fv.b, nil
	case kindNumber:
		if numberOK {
			return fv.b, nil
		}
		return nil, reject(KindWrongType, "%s is a number, want a string", x.fieldName(f))
	case kindBool:
		return nil, reject(KindWrongType, "%s is a boolean, want a string", x.fieldName(f))
	default:
		return nil, reject(KindWrongType, "%s is %s, want a string", x.fieldName(f), fv.typ)
	}
}

func (x *Exporter) requiredText(f field, numberOK bool) ([]byte, *lineError) {
	b, le := x.text(f, numberOK)
	if le == nil && len(b) == 0 {
		le = reject(KindMissingField, "no %s", x.fieldName(f))
	}
	return b, le
}

// buildSend validates x.fields into x.send.
func (x *Exporter) buildSend() *lineError {
	p := &x.send
	*p = pendingSend{media: pipeline.NoMediaBytes, code: pipeline.NoErrorCode}
	var le *lineError
	if p.requestID, le = x.requiredText(fRequestID, true); le != nil {
		return le
	}
	ts, le := x.requiredText(fSentAt, true)
	if le != nil {
		return le
	}
	var err error
	if p.ts, err = parseTime(ts); err != nil {
		return reject(KindBadTimestamp, "%s: %v", x.fieldName(fSentAt), err)
	}
	if p.recip, le = x.requiredText(fRecipient, true); le != nil {
		return le
	}
	if !validRecipient(p.recip) {
		return reject(KindBadValue, "%s %q is not a phone number", x.fieldName(fRecipient), p.recip)
	}
	for _, o := range []struct {
		f   field
		dst *[]byte
		num bool
	}{
		{fWABAID, &p.waba, true}, {fPhoneNumberID, &p.phone, true}, {fCampaign, &p.camp, true},
		{fTemplate, &p.template, false}, {fLanguage, &p.language, false}, {fMessageID, &p.msgID, false},
		{fErrorMessage, &p.title, false}, {fErrorDetails, &p.detail, false},
	} {
		if *o.dst, le = x.text(o.f, o.num); le != nil {
			return le
		}
	}
	typ, le := x.text(fMessageType, false)
	if le != nil {
		return le
	}
	switch {
	case len(typ) > 0:
		t, ok := x.msgTypes[string(typ)]
		if !ok {
			return reject(KindBadValue, "%s %q is not a Cloud API message type", x.fieldName(fMessageType), typ)
		}
		p.mtype = t
	case len(p.template) > 0:
		p.mtype = x.msgTypes["template"]
	default:
		p.mtype = x.msgTypes["text"] // the Cloud API's default type
	}
	categ, le := x.text(fCategory, false)
	if le != nil {
		return le
	}
	switch {
	case len(categ) > 0:
		c, ok := x.categories[string(categ)]
		if !ok {
			return reject(KindBadValue, "%s %q is not one of %s", x.fieldName(fCategory), categ, strings.Join(pipeline.Categories, ", "))
		}
		p.categ = c
	case p.mtype != x.msgTypes["template"]:
		p.categ = x.categories[pipeline.CategoryService] // free-form messages are service conversations
	}
	if media, le := x.text(fMediaBytes, true); le != nil {
		return le
	} else if len(media) > 0 {
		n, ok := parseInt(media, 64)
		if !ok || n < 0 {
			return reject(KindBadValue, "%s %q is not a byte count", x.fieldName(fMediaBytes), media)
		}
		p.media = n
	}
	if fv := &x.fields[fExploration]; fv.kind == kindOther {
		return reject(KindWrongType, "%s is %s, want a boolean", x.fieldName(fExploration), fv.typ)
	} else if fv.kind != kindAbsent {
		b, ok := parseBool(fv.b)
		if !ok {
			return reject(KindBadValue, "%s %q is not a boolean", x.fieldName(fExploration), fv.b)
		}
		p.exploration = b
	}
	code, le := x.text(fErrorCode, true)
	if le != nil {
		return le
	}
	switch {
	case len(code) > 0 && len(p.msgID) > 0:
		return reject(KindBadValue, "both a message id (%s) and an error code (%s)", x.fieldName(fMessageID), x.fieldName(fErrorCode))
	case len(code) > 0:
		n, ok := parseInt(code, 32)
		if !ok || n < 0 {
			return reject(KindBadValue, "%s %q is not an error code", x.fieldName(fErrorCode), code)
		}
		p.code = int32(n)
		p.title = errorTitle(p.code, p.title)
	case len(p.msgID) == 0:
		return reject(KindMissingField, "neither a message id (%s) nor an error code (%s)", x.fieldName(fMessageID), x.fieldName(fErrorCode))
	default:
		p.title, p.detail = nil, nil // an accepted send carries no error
	}
	return nil
}

// errorTitle returns the title of a synchronous API error: the taxonomy's
// title for a known code, else the API's message without its "(#code) "
// prefix.
func errorTitle(code int32, message []byte) []byte {
	if info, ok := pipeline.LookupCode(code); ok {
		return []byte(info.Title)
	}
	if len(message) > 2 && message[0] == '(' && message[1] == '#' {
		if end := strings.Index(string(message), ") "); end > 0 {
			message = message[end+2:]
		}
	}
	if len(message) == 0 {
		info, _ := pipeline.LookupCode(code)
		return []byte(info.Title)
	}
	return message
}

// commitSend records x.send: an accepted event (message id = wamid) or,
// for a refused request, a failed event (message id = request id).
func (x *Exporter) commitSend() {
	p := &x.send
	s := sendRec{
		waba:        x.strs.bytes(p.waba),
		phone:       x.strs.bytes(p.phone),
		recip:       x.recipient(p.recip),
		campaign:    x.strs.bytes(p.camp),
		template:    x.strs.bytes(p.template),
		language:    x.strs.bytes(p.language),
		category:    p.categ,
		msgType:     p.mtype,
		media:       p.media,
		exploration: p.exploration,
	}
	si := int32(len(x.sends))
	x.sends = append(x.sends, s)
	r := rec{ts: p.ts, seq: x.seq, send: si, code: p.code}
	x.seq++
	if p.code == pipeline.NoErrorCode {
		r.msg, r.status = x.message(p.msgID), pipeline.StatusAccepted
		if x.sendOf[r.msg] < 0 {
			x.sendOf[r.msg] = si
		}
		x.sum.Accepted++
	} else {
		r.msg, r.status = x.message(p.requestID), pipeline.StatusFailed
		r.title, r.detail = x.strs.bytes(p.title), x.strs.bytes(p.detail)
		x.sum.Refused++
	}
	x.recs = append(x.recs, r)
}

// AddSendLogCSV reads a send log as CSV with a header row. A field is read
// from the column its Mapping names; unmapped fields are looked up by
// their default path, their name and aliases ("recipient", "to", ...).
// Missing required columns are an error for the whole file; malformed
// records are rejected.
func (x *Exporter) AddSendLogCSV(ctx context.Context, name string, r io.Reader) error {
	if x.finished {
		return errFinished
	}
	rec := &recorder{r: r}
	cr := csv.NewReader(rec)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		x.sum.Bytes += rec.total
		return nil
	}
	if err != nil {
		return fmt.Errorf("send log %s: header: %w", name, err)
	}
	cols, err := x.csvColumns(header)
	if err != nil {
		return fmt.Errorf("send log %s: %w", name, err)
	}
	width := len(header)
	prev := cr.InputOffset()
	rec.discard(prev)
	for n := 0; ; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				x.sum.Bytes += rec.total
				return fmt.Errorf("send log %s: %w", name, err)
			}
		}
		record, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		off := cr.InputOffset()
		raw := trimEOL(rec.slice(prev, off))
		prev = off
		var le *lineError
		var line int
		var perr *csv.ParseError
		switch {
		case errors.As(err, &perr):
			line = perr.StartLine
			le = reject(KindBadCSV, "%v", perr.Err)
		case err != nil:
			x.sum.Bytes += rec.total
			return fmt.Errorf("send log %s: %w", name, err)
		default:
			line, _ = cr.FieldPos(0)
			if len(record) == 1 && record[0] == "" {
				x.sum.BlankLines++
				rec.discard(off)
				continue
			}
			le = x.parseSendLogRecord(record, cols, width)
		}
		x.sum.SendLogLines++
		if le != nil {
			if err := x.addReject(name, line, le, raw); err != nil {
				return err
			}
		} else {
			x.commitSend()
		}
		rec.discard(off)
	}
	x.sum.Bytes += rec.total
	return nil
}

// csvColumns finds the column of each field in a CSV header; -1 when the
// file has no such column.
func (x *Exporter) csvColumns(header []string) ([numFields]int, error) {
	var cols [numFields]int
	find := func(name string) int {
		for i, h := range header {
			if strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) == name {
				return i
			}
		}
		for i, h := range header {
			if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), name) {
				return i
			}
		}
		return -1
	}
	for f, spec := range sendLogFields {
		cols[f] = find(x.paths[f])
		if x.mapped[f] {
			if cols[f] < 0 {
				return cols, fmt.Errorf("no column %q for field %s (header: %s)", x.paths[f], spec.name, strings.Join(header, ","))
			}
			continue
		}
		for _, alt := range append([]string{spec.name}, spec.aliases...) {
			if cols[f] >= 0 {
				break
			}
			cols[f] = find(alt)
		}
		if cols[f] >= 0 {
			x.paths[f] = strings.TrimSpace(strings.TrimPrefix(header[cols[f]], "\ufeff"))
		}
	}
	for _, f := range []field{fRequestID, fSentAt, fRecipient} {
		if cols[f] < 0 {
			return cols, fmt.Errorf("no column for required field %s (want a header %q or --map %s=HEADER)", sendLogFields[f].name, sendLogFields[f].name, sendLogFields[f].name)
		}
	}
	if cols[fMessageID] < 0 && cols[fErrorCode] < 0 {
		return cols, fmt.Errorf("no column for %s nor %s: the API's answer is needed (use --map %s=HEADER)", FieldMessageID, FieldErrorCode, FieldMessageID)
	}
	return cols, nil
}

// parseSendLogRecord parses one CSV record into x.send.
func (x *Exporter) parseSendLogRecord(record []string, cols [numFields]int, width int) *lineError {
	if len(record) != width {
		return reject(KindBadCSV, "record has %d fields, the header has %d", len(record), width)
	}
	for f := range numFields {
		fv := &x.fields[f]
		*fv = fieldValue{}
		if c := cols[f]; c >= 0 && record[c] != "" {
			if !utf8.ValidString(record[c]) {
				return reject(KindInvalidUTF8, "%s is not valid UTF-8", x.fieldName(f))
			}
			fv.b, fv.kind = []byte(record[c]), kindString
		}
	}
	return x.buildSend()
}

// recorder keeps what a reader returned, so that the raw text of a CSV
// record can go into a reject.
type recorder struct {
	r     io.Reader
	buf   []byte
	base  int64 // input offset of buf[0]
	total int64
}

func (rc *recorder) Read(p []byte) (int, error) {
	n, err := rc.r.Read(p)
	rc.buf = append(rc.buf, p[:n]...)
	rc.total += int64(n)
	return n, err
}

// slice returns the input between two offsets not yet discarded.
func (rc *recorder) slice(from, to int64) []byte {
	return rc.buf[from-rc.base : to-rc.base]
}

// discard forgets the input before offset upTo (lazily, in large steps).
func (rc *recorder) discard(upTo int64) {
	k := int(upTo - rc.base)
	if k < 1<<16 || k < len(rc.buf)/2 {
		return
	}
	rc.buf = rc.buf[:copy(rc.buf, rc.buf[k:])]
	rc.base = upTo
}
