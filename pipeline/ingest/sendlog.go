package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/failcast/failcast/internal/colmatch"
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
	requestID, msgID, waba, phone, recip, camp, template, language, title, detail, country []byte
	categ, mtype                                                                           uint32
	ts, media                                                                              int64
	code                                                                                   int32
	exploration                                                                            bool
}

// AddSendLogNDJSON reads a send log as NDJSON, one send request per line,
// with its fields where the Mapping says. Malformed lines are rejected
// (see Reject); the error is only for failed reads, a failing OnReject or
// a cancelled ctx. name identifies the input in rejects.
func (x *Exporter) AddSendLogNDJSON(ctx context.Context, name string, r io.Reader) error {
	return x.addNDJSON(ctx, "send log", name, r, &x.sum.SendLogLines, false, func(l *lineResult) { x.send = l.send }, x.commitSend)
}

// parseObjectLine parses one NDJSON line that must be a JSON object
// (what names it in reasons). The value is valid until the next parse.
func (x *Exporter) parseObjectLine(line []byte, what string) (*fastjson.Value, *lineError) {
	if !utf8.Valid(line) {
		return nil, reject(KindInvalidUTF8, "line is not valid UTF-8")
	}
	if le := rawControlInString(line); le != nil {
		return nil, le
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
	if utf8.Valid(line) && rawControlInString(line) == nil && x.fastSendLogFields(line) {
		x.lineObject = true
		return x.buildSend()
	}
	if le := x.sendLogFieldsGeneral(line); le != nil {
		return le
	}
	return x.buildSend()
}

// sendLogFieldsGeneral fills x.fields from line with fastjson: any line.
func (x *Exporter) sendLogFieldsGeneral(line []byte) *lineError {
	v, le := x.parseObjectLine(line, "a send-log object")
	if le != nil {
		return le
	}
	x.lineObject = true // its top-level keys are checked where it is committed (addNDJSON)
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
	return nil
}

// keyCheckLines is how many NDJSON send-log lines (from the start of the
// export) have their top-level keys checked against the mapping.
const keyCheckLines = 1000

// checkTopLevelKeys warns about top-level keys of a send-log object that
// no field's path starts with.
func (x *Exporter) checkTopLevelKeys(v *fastjson.Value) {
	o, err := v.Object()
	if err != nil {
		return
	}
	o.Visit(func(k []byte, _ *fastjson.Value) {
		for f := range numFields {
			if x.keys[f][0] == string(k) {
				return
			}
		}
		key := string(k)
		if x.warned["key\x00"+key] {
			return
		}
		var absent []field
		for f := range numFields {
			if v.Get(x.keys[f]...) == nil {
				absent = append(absent, f)
			}
		}
		x.warnUnused("key", x.source, key, absent)
	})
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
	var missing []string
	for _, f := range []field{fRequestID, fSentAt, fRecipient} {
		if x.fields[f].kind == kindAbsent || len(x.fields[f].b) == 0 && x.fields[f].kind == kindString {
			missing = append(missing, x.fieldName(f))
		}
	}
	if a, b := &x.fields[fMessageID], &x.fields[fErrorCode]; len(missing) > 0 && len(a.b) == 0 && len(b.b) == 0 && a.kind != kindOther && b.kind != kindOther {
		missing = append(missing, "the API's answer ("+x.fieldName(fMessageID)+" or "+x.fieldName(fErrorCode)+")")
	}
	if len(missing) > 1 {
		return reject(KindMissingField, "no %s", strings.Join(missing, ", no "))
	}
	var le *lineError
	if p.requestID, le = x.requiredText(fRequestID, true); le != nil {
		return le
	}
	ts, le := x.requiredText(fSentAt, true)
	if le != nil {
		return le
	}
	var err error
	if p.ts, err = parseTime(ts, x.opts.Location); err != nil {
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
		{fErrorMessage, &p.title, false}, {fErrorDetails, &p.detail, false}, {fCountry, &p.country, false},
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
// for a refused request, a failed event (message id = request id). A
// record whose message id an earlier record already gave to another
// recipient or time is rejected (KindConflict): a wamid (or a request id)
// names one send. The same send given twice (same recipient and time) is
// kept, and dropped later as a duplicate event.
//
// With a spill the record goes to its bucket file, and the check happens
// when the bucket is joined (spill.join).
func (x *Exporter) commitSend(source string, line int) *lineError {
	p := &x.send
	in := sendIn{
		recip:       x.recipient(p.recip),
		waba:        x.strs.at(slotWABA, p.waba),
		phone:       x.strs.at(slotPhone, p.phone),
		campaign:    x.strs.at(slotCampaign, p.camp),
		template:    x.strs.at(slotTemplate, p.template),
		language:    x.strs.at(slotLanguage, p.language),
		category:    p.categ,
		msgType:     p.mtype,
		media:       p.media,
		exploration: p.exploration,
		ts:          p.ts,
		code:        p.code,
		source:      x.strs.str(source),
		line:        int32(line),
		seq:         x.seq,
		title:       p.title,
		detail:      p.detail,
		country:     p.country,
		key:         p.msgID,
	}
	x.seq++
	if p.code != pipeline.NoErrorCode {
		in.key = x.mask(p.requestID)
	}
	if x.spill != nil {
		x.spill.addSend(&in, x.raw, x.rawLines)
		return nil
	}
	return x.addSend(&in)
}

// sendIn is a send-log record with its low-cardinality strings interned,
// as it is committed (or spilled, and committed when its bucket is
// joined).
type sendIn struct {
	recip, waba, phone, campaign, template, language, category, msgType, source uint32
	media, ts                                                                   int64
	code, line                                                                  int32
	seq                                                                         uint32
	exploration                                                                 bool
	key                                                                         []byte // the wamid, or the masked request id of a refused send
	title, detail, country                                                      []byte // as read
}

// addSend commits one send-log record to x.sends and x.recs.
func (x *Exporter) addSend(p *sendIn) *lineError {
	var msg uint32
	var prev int32 = -1
	if p.code == pipeline.NoErrorCode {
		msg = x.message(p.key)
		prev = x.sendOf[msg]
	} else {
		msg = x.message(p.key)
		if i, ok := x.refused[msg]; ok {
			prev = i
		}
	}
	source := x.strs.s[p.source]
	if prev >= 0 {
		if s := &x.sends[prev]; x.recipID[s.recip] != x.recipID[p.recip] || s.ts != p.ts {
			what := "message id"
			if p.code != pipeline.NoErrorCode {
				what = "request id of a refused send"
			}
			return reject(KindConflict, "%s %q was already used by %s line %d for another recipient or time; a message id names one send",
				what, x.msgs.s[msg], x.strs.s[s.source], s.line)
		}
	}
	s := sendRec{
		country:     x.sendCountry(p.country, p.recip, source, int(p.line), p.seq),
		waba:        p.waba,
		phone:       p.phone,
		recip:       p.recip,
		campaign:    p.campaign,
		template:    p.template,
		language:    p.language,
		category:    p.category,
		msgType:     p.msgType,
		media:       p.media,
		exploration: p.exploration,
		ts:          p.ts,
		source:      p.source,
		line:        p.line,
	}
	si := int32(len(x.sends))
	x.sends = append(x.sends, s)
	r := rec{ts: p.ts, seq: p.seq, send: si, code: p.code, msg: msg}
	if p.code == pipeline.NoErrorCode {
		r.status = pipeline.StatusAccepted
		if prev < 0 {
			x.sendOf[msg] = si
		}
		x.sum.Accepted++
	} else {
		r.status = pipeline.StatusFailed
		if prev < 0 {
			x.refused[msg] = si
		}
		r.title, r.detail = x.strs.bytes(x.mask(p.title)), x.strs.bytes(x.mask(p.detail))
		x.sum.Refused++
	}
	x.recs = append(x.recs, r)
	return nil
}

// sendCountry checks a send-log record's own country (the country field,
// when the log has one) against the country of its number, which wins:
// a disagreement is counted (Summary.CountryConflicts) and warned about.
// Where the number gives no country (a shared calling code it fits no
// region of), the record's country is used. It returns the record's
// country override, interned in strs, or 0 to use the number's.
func (x *Exporter) sendCountry(b []byte, recip uint32, source string, line int, seq uint32) uint32 {
	if len(b) == 0 {
		return 0
	}
	c := strings.ToUpper(strings.TrimSpace(string(b)))
	if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		x.sum.UnknownValues[fmt.Sprintf("send log %s %q (want ISO 3166-1 alpha-2)", x.fieldName(fCountry), b)]++
		return 0
	}
	parsed := x.strs.s[x.country[recip]]
	switch {
	case parsed == "": // an invalid number, or a pre-hashed recipient: only the log knows
		return x.strs.str(c)
	case parsed != c:
		if x.sum.CountryConflicts == 0 || seq < x.firstConflictSeq {
			x.firstConflictSeq = seq
			x.firstConflict = fmt.Sprintf("%s line %d: %s %s, the number is in %s", source, line, x.fieldName(fCountry), c, parsed)
		}
		x.sum.CountryConflicts++
	}
	return 0
}

// maxRecordLines is the most physical lines one CSV record may span
// (quoted line breaks). A quoted field still open after that many lines,
// or at the end of the file, is taken for an unclosed quote: its first
// line is rejected alone and reading goes on at the next line.
const maxRecordLines = 64

// AddSendLogCSV reads a send log as CSV with a header row. A field is read
// from the column its Mapping names; unmapped fields are looked up by
// their default path, their name and aliases ("recipient", "to", ...).
// Missing required columns are an error for the whole file (a
// *ColumnsError listing all of them); header columns no field uses are
// named in Warnings with the closest field; malformed records are
// rejected. Records are assembled from physical lines: an unclosed quote
// costs one rejected line, not the rest of the file, and rejects are
// counted in physical lines.
func (x *Exporter) AddSendLogCSV(ctx context.Context, name string, r io.Reader) error {
	if x.finished {
		return errFinished
	}
	c := &csvInput{x: x, name: name}
	n, err := readLines(ctx, r, x.maxLine(), c.feed)
	if err == nil {
		err = c.flush()
	}
	x.sum.Bytes += n
	if err != nil {
		if IsInputError(err) {
			return err
		}
		return fmt.Errorf("send log %s: %w", name, err)
	}
	return nil
}

// csvInput assembles CSV records from physical lines.
type csvInput struct {
	x         *Exporter
	name      string
	header    bool // the header has been read
	cols      [numFields]int
	width     int
	pend      []physLine // lines of a record whose quoted field is still open (text copied)
	pendBytes int
	fields    [][]byte
	scratch   []byte
	joined    []byte
}

func countQuotes(b []byte) int { return bytes.Count(b, []byte{'"'}) }

// feed takes the next physical line.
func (c *csvInput) feed(l physLine) error {
	if len(c.pend) == 0 {
		switch {
		case l.tooLong && !c.header:
			return fmt.Errorf("header line of %d bytes is longer than the limit of %d", l.size, c.x.maxLine())
		case l.tooLong:
			c.x.sum.SendLogLines++
			return c.x.addReject(c.name, l.no, 1, c.x.tooLongReject(l), l.text)
		case blank(l.text):
			c.x.sum.BlankLines++
			return nil
		case countQuotes(l.text)%2 == 0:
			return c.record(l.no, 1, l.text)
		}
		c.pend = append(c.pend, physLine{no: l.no, text: bytes.Clone(l.text)})
		c.pendBytes = len(l.text)
		return nil
	}
	c.pend = append(c.pend, physLine{no: l.no, text: bytes.Clone(l.text), tooLong: l.tooLong, size: l.size})
	if l.tooLong || c.pendBytes+1+len(l.text) > c.x.maxLine() || len(c.pend) > maxRecordLines {
		return c.unclosed("within %d lines or %d bytes", maxRecordLines, c.x.maxLine())
	}
	c.pendBytes += 1 + len(l.text)
	if countQuotes(l.text)%2 == 0 {
		return nil // the field is still open
	}
	c.joined = c.joined[:0]
	for i, p := range c.pend {
		if i > 0 {
			c.joined = append(c.joined, '\n')
		}
		c.joined = append(c.joined, p.text...)
	}
	first, n := c.pend[0].no, len(c.pend)
	c.pend = c.pend[:0]
	return c.record(first, n, c.joined)
}

// unclosed rejects the first pending line (its quoted field never closes)
// and feeds the lines after it again.
func (c *csvInput) unclosed(format string, args ...any) error {
	first := c.pend[0]
	rest := slices.Clone(c.pend[1:])
	c.pend = c.pend[:0]
	if !c.header {
		return fmt.Errorf("header: a quoted field opened on line %d does not close", first.no)
	}
	c.x.sum.SendLogLines++
	le := reject(KindBadCSV, "a quoted field opened on this line does not close "+format+"; this line is rejected alone and reading goes on at the next line", args...)
	if err := c.x.addReject(c.name, first.no, 1, le, first.text); err != nil {
		return err
	}
	for _, l := range rest {
		if err := c.feed(l); err != nil {
			return err
		}
	}
	return nil
}

// flush ends the input: a quoted field still open is an unclosed quote.
func (c *csvInput) flush() error {
	for len(c.pend) > 0 {
		if err := c.unclosed("before the end of the file"); err != nil {
			return err
		}
	}
	return nil
}

// record handles one whole record of n physical lines starting at line.
func (c *csvInput) record(line, n int, text []byte) error {
	x := c.x
	var err error
	c.fields, c.scratch, err = splitCSV(text, c.fields[:0], c.scratch)
	if !c.header {
		if err != nil {
			return fmt.Errorf("header: %w", err)
		}
		header := make([]string, len(c.fields))
		for i, f := range c.fields {
			header[i] = string(f)
		}
		c.header, c.width = true, len(header)
		c.cols, err = x.csvColumns(c.name, header)
		return err
	}
	x.sum.SendLogLines += int64(n)
	var le *lineError
	if err != nil {
		le = reject(KindBadCSV, "%v", err)
	} else {
		le = x.parseSendLogRecord(c.fields, c.cols, c.width)
	}
	if le == nil {
		x.raw, x.rawLines = text, n
		le = x.commitSend(c.name, line)
	}
	if le != nil {
		return x.addReject(c.name, line, n, le, text)
	}
	return x.spillErr()
}

// splitCSV splits one CSV record (RFC 4180: fields separated by commas,
// quoted fields with "" for a quote, line breaks inside quotes) into
// fields, with encoding/csv's strictness: a quote inside an unquoted field
// or text after a closing quote is an error. Quoted fields are unescaped
// into scratch; fields are valid until the next call.
func splitCSV(rec []byte, dst [][]byte, scratch []byte) ([][]byte, []byte, error) {
	if cap(scratch) < len(rec) {
		scratch = make([]byte, 0, len(rec)) // never grows below: fields alias it
	}
	scratch = scratch[:0]
	i := 0
	for {
		if i < len(rec) && rec[i] == '"' {
			i++
			start := len(scratch)
			for {
				j := bytes.IndexByte(rec[i:], '"')
				if j < 0 {
					return dst, scratch, errors.New(`extraneous or missing " in quoted-field`)
				}
				scratch = append(scratch, rec[i:i+j]...)
				i += j + 1
				if i < len(rec) && rec[i] == '"' {
					scratch = append(scratch, '"')
					i++
					continue
				}
				break
			}
			dst = append(dst, scratch[start:len(scratch):len(scratch)])
			if i == len(rec) {
				return dst, scratch, nil
			}
			if rec[i] != ',' {
				return dst, scratch, errors.New(`extraneous or missing " in quoted-field`)
			}
			i++
			continue
		}
		end := len(rec)
		if j := bytes.IndexByte(rec[i:], ','); j >= 0 {
			end = i + j
		}
		f := rec[i:end]
		if bytes.IndexByte(f, '"') >= 0 {
			return dst, scratch, errors.New(`bare " in non-quoted-field`)
		}
		dst = append(dst, f)
		if end == len(rec) {
			return dst, scratch, nil
		}
		i = end + 1
	}
}

// ColumnsError is a CSV send log without columns for required fields. It
// lists all of them at once.
type ColumnsError struct {
	Source  string
	Missing []string // what is missing and how to map it, one entry per field
	Header  []string
}

func (e *ColumnsError) Error() string {
	return fmt.Sprintf("send log %s: %d required field(s) have no column: %s (header: %s)",
		e.Source, len(e.Missing), strings.Join(e.Missing, "; "), strings.Join(e.Header, ","))
}

// csvColumns finds the column of each field in a CSV header; -1 when the
// file has no such column. Header columns no field uses become warnings.
func (x *Exporter) csvColumns(source string, header []string) ([numFields]int, error) {
	var cols [numFields]int
	clean := make([]string, len(header))
	for i, h := range header {
		clean[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	}
	find := func(name string) int {
		for i, h := range clean {
			if h == name {
				return i
			}
		}
		for i, h := range clean {
			if strings.EqualFold(h, name) {
				return i
			}
		}
		return -1
	}
	var missing []string
	for f, spec := range sendLogFields {
		cols[f] = find(x.paths[f])
		if x.mapped[f] {
			if cols[f] < 0 {
				missing = append(missing, fmt.Sprintf("no column %q for field %s (from --map)", x.paths[f], spec.name))
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
			x.paths[f] = clean[cols[f]]
		}
	}
	used := make([]bool, len(header))
	var unbound []field
	for f := range numFields {
		if cols[f] >= 0 {
			used[cols[f]] = true
		} else {
			unbound = append(unbound, f)
		}
	}
	for _, f := range []field{fRequestID, fSentAt, fRecipient} {
		if cols[f] < 0 && !x.mapped[f] {
			missing = append(missing, fmt.Sprintf("required field %s (want a header %q or --map %s=HEADER%s)",
				sendLogFields[f].name, sendLogFields[f].name, sendLogFields[f].name, suggestColumn(f, clean, used)))
		}
	}
	if cols[fMessageID] < 0 && cols[fErrorCode] < 0 && !x.mapped[fMessageID] && !x.mapped[fErrorCode] {
		missing = append(missing, fmt.Sprintf("the API's answer: no column for %s nor %s (use --map %s=HEADER,%s=HEADER)",
			FieldMessageID, FieldErrorCode, FieldMessageID, FieldErrorCode))
	}
	for i, h := range clean {
		if !used[i] {
			x.warnUnused("column", source, h, unbound)
		}
	}
	if len(missing) > 0 {
		return cols, &ColumnsError{Source: source, Missing: missing, Header: header}
	}
	return cols, nil
}

// suggestColumn names an unused header column close to field f, as a hint
// for a missing required field.
func suggestColumn(f field, header []string, used []bool) string {
	best, bestScore := "", 99.0
	for i, h := range header {
		if used[i] {
			continue
		}
		if s, ok := closeness(h, f); ok && s < bestScore {
			best, bestScore = h, s
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; column %q looks like it", best)
}

// warnUnused records that an input column (CSV) or top-level key (NDJSON)
// maps to no field, with the closest of the fields that have no column.
func (x *Exporter) warnUnused(what, source, name string, candidates []field) {
	key := what + "\x00" + name
	if x.warned[key] || len(x.warned) >= 100 {
		return
	}
	x.warned[key] = true
	var best field = -1
	bestScore := 99.0
	for _, f := range candidates {
		if s, ok := closeness(name, f); ok && s < bestScore {
			best, bestScore = f, s
		}
	}
	msg := fmt.Sprintf("%s: %s `%s` is not used", source, what, name)
	if best >= 0 {
		msg += fmt.Sprintf("; did you mean --map %s=%s?", sendLogFields[best].name, name)
	} else {
		msg += " (no field is close; the fields are listed in docs/export.md)"
	}
	x.warnings = append(x.warnings, msg)
}

// closeness scores how well an input column name fits field f (lower is
// better), by the field's name and aliases (colmatch.Closeness).
func closeness(col string, f field) (float64, bool) {
	spec := sendLogFields[f]
	return colmatch.Closeness(col, append([]string{spec.name}, spec.aliases...))
}

// parseSendLogRecord parses one CSV record into x.send.
func (x *Exporter) parseSendLogRecord(record [][]byte, cols [numFields]int, width int) *lineError {
	if len(record) != width {
		return reject(KindBadCSV, "record has %d fields, the header has %d", len(record), width)
	}
	for f := range numFields {
		fv := &x.fields[f]
		*fv = fieldValue{}
		if c := cols[f]; c >= 0 && len(record[c]) > 0 {
			if !utf8.Valid(record[c]) {
				return reject(KindInvalidUTF8, "%s is not valid UTF-8", x.fieldName(f))
			}
			for _, ch := range record[c] {
				if ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' {
					return reject(KindControlChar, "%s holds the control character U+%04X", x.fieldName(f), ch)
				}
			}
			fv.b, fv.kind = record[c], kindString
		}
	}
	return x.buildSend()
}
