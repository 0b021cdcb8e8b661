package ingest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// Kinds of reject: the class of a reason, used to count rejects.
const (
	KindBadJSON       = "bad json"       // the line is not valid JSON
	KindNull          = "null line"      // the line is JSON null
	KindNotObject     = "not an object"  // the line is JSON but not an object
	KindBadCSV        = "bad csv"        // quoting error or wrong number of fields
	KindInvalidUTF8   = "invalid utf-8"  // the line is not valid UTF-8
	KindMissingField  = "missing field"  // a required field is absent or empty
	KindWrongType     = "wrong type"     // a field has the wrong JSON type
	KindBadTimestamp  = "bad timestamp"  // a timestamp is not RFC 3339 / Unix time, or out of range
	KindUnknownStatus = "unknown status" // a webhook status other than sent, delivered, read, failed
	KindBadValue      = "bad value"      // a value outside its domain (category, message type, code, ...)
)

// Reject is an input line that produced no events, with the reason.
type Reject struct {
	Source string `json:"source"` // the input's name (file name)
	Line   int    `json:"line"`   // 1-based line number (for CSV, the record's first line)
	Kind   string `json:"kind"`   // one of the Kind* constants
	Reason string `json:"reason"` // what was wrong, naming the field
	Raw    string `json:"raw"`    // the line as read, without its line break
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

// Write appends one reject.
func (rw *RejectWriter) Write(r Reject) error {
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
