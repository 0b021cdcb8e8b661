package ingest

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"
)

// Kinds of reject: the class of a reason, used to count rejects.
const (
	KindBadJSON       = "bad json"          // the line is not valid JSON
	KindNull          = "null line"         // the line is JSON null
	KindNotObject     = "not an object"     // the line is JSON but not an object
	KindBadCSV        = "bad csv"           // quoting error or wrong number of fields
	KindInvalidUTF8   = "invalid utf-8"     // the line is not valid UTF-8
	KindMissingField  = "missing field"     // a required field is absent or empty
	KindWrongType     = "wrong type"        // a field has the wrong JSON type
	KindBadTimestamp  = "bad timestamp"     // a timestamp is not RFC 3339 / Unix time, or out of range
	KindUnknownStatus = "unknown status"    // a webhook status other than sent, delivered, read, failed
	KindBadValue      = "bad value"         // a value outside its domain (category, message type, code, ...)
	KindTooLong       = "line too long"     // longer than Options.MaxLineBytes (--max-line-bytes)
	KindControlChar   = "control character" // a raw control character (NUL, TAB, ...) inside a JSON string or a CSV cell
	KindConflict      = "conflict"          // a send-log record reuses a message id an earlier record gave another send
)

// Reject is an input line that produced no events, with the reason.
type Reject struct {
	Source string `json:"source"`        // the input's name (file name)
	Line   int    `json:"line"`          // 1-based line number (for CSV, the record's first line)
	Kind   string `json:"kind"`          // one of the Kind* constants
	Reason string `json:"reason"`        // what was wrong, naming the field
	Raw    string `json:"raw,omitempty"` // the line as read, without its line break
	// RawBase64 replaces Raw when the line is not valid UTF-8: JSON
	// cannot hold such bytes as they are, and an altered copy would not be
	// the line as read.
	RawBase64 string `json:"raw_base64,omitempty"`
	// Lines is the number of physical lines the reject covers when more
	// than one (a CSV record with quoted line breaks).
	Lines int `json:"lines,omitempty"`
}

// lineError is why a line was rejected.
type lineError struct {
	kind, reason string
}

func (e *lineError) Error() string { return e.kind + ": " + e.reason }

func reject(kind, format string, args ...any) *lineError {
	return &lineError{kind: kind, reason: fmt.Sprintf(format, args...)}
}

// RejectWriter writes rejects as NDJSON, one {"source","line","kind",
// "reason","raw"} object per line. Call Flush when done.
type RejectWriter struct {
	w   *bufio.Writer
	enc *json.Encoder
	n   int
}

// NewRejectWriter returns a RejectWriter writing to w.
func NewRejectWriter(w io.Writer) *RejectWriter {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &RejectWriter{w: bw, enc: enc}
}

// Write appends one reject. A Raw that is not valid UTF-8 is written as
// RawBase64, so the reject file keeps the exact bytes.
func (rw *RejectWriter) Write(r Reject) error {
	if !utf8.ValidString(r.Raw) {
		r.RawBase64, r.Raw = base64.StdEncoding.EncodeToString([]byte(r.Raw)), ""
	}
	if err := rw.enc.Encode(r); err != nil {
		return fmt.Errorf("write reject %d (%s line %d): %w", rw.n+1, r.Source, r.Line, err)
	}
	rw.n++
	return nil
}

// Count returns the number of rejects written.
func (rw *RejectWriter) Count() int { return rw.n }

// Flush writes buffered rejects to the underlying writer.
func (rw *RejectWriter) Flush() error {
	if err := rw.w.Flush(); err != nil {
		return fmt.Errorf("flush rejects: %w", err)
	}
	return nil
}
