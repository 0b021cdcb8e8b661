package scoring

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/predictions"
)

// SafeCell protects a CSV cell against formula injection: a cell that
// starts with '=', '+', '-' or '@' (or a tab or carriage return, which
// some spreadsheets strip before evaluating) is prefixed with a single
// quote, so spreadsheets show it as text instead of running it. Numbers
// failcast writes are never negative, so no numeric cell is changed.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// FormatTime formats Unix microseconds as predictions.TimeLayout, the
// layout of times in the CSVs.
func FormatTime(us int64) string { return time.UnixMicro(us).UTC().Format(predictions.TimeLayout) }

// probStrings holds "0.0000" ... "1.0000": every probability rounded to
// four decimals, so writing one allocates nothing.
var probStrings = func() []string {
	s := make([]string, 10001)
	for i := range s {
		s[i] = strconv.FormatFloat(float64(i)/10000, 'f', 4, 64)
	}
	return s
}()

// FormatProb formats a probability with four decimals ("0.0420"). Values
// outside [0, 1] are clamped.
func FormatProb(p float64) string {
	switch {
	case !(p > 0): // also NaN
		return probStrings[0]
	case p >= 1:
		return probStrings[10000]
	}
	return probStrings[int(math.Round(p*10000))]
}

// predictionColumns are the columns of predictions.csv (the predictions
// contract); PredictionWriter writes its cells in their order.
var predictionColumns = predictions.Columns()

// OutputRecipient returns the recipient as predictions.csv shows it: a
// hashed recipient ("h:...") unchanged, anything else masked to its last
// four digits (pipeline.MaskNumber), so a plan that carries raw numbers
// never puts them into an output.
func OutputRecipient(r string) string {
	if len(r) >= len(pipeline.HashedPrefix) && r[:len(pipeline.HashedPrefix)] == pipeline.HashedPrefix {
		return r
	}
	if isMasked(r) {
		return r
	}
	return pipeline.MaskNumber(r)
}

// isMasked reports whether r already looks like MaskNumber output.
func isMasked(r string) bool {
	if r == "" || r[0] != '*' {
		return false
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; c != '*' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// PredictionWriter writes predictions.csv (the columns of
// predictions.Columns): RFC 4180 exactly as encoding/csv writes it
// (appendCSVField), UTF-8, a header row, '.' decimal point,
// probabilities with four decimals. Each Write formats its rows into one
// buffer with strconv-style appends (no per-cell allocation) and hands it
// to the underlying writer in one call.
type PredictionWriter struct {
	w       io.Writer
	buf     []byte
	version string
	codes   map[int32]string
	lastSec int64  // second of the last formatted time
	lastFmt string // its formatted prefix, "2006-01-02T15:04:05"
	// lastWarning is the last warning written and lastCell its cell:
	// consecutive sends (a campaign's) often share one warning sentence.
	lastWarning string
	lastCell    []byte
	err         error // the first write error; every later Write and Flush returns it
}

// NewPredictionWriter writes the header to w and returns the writer. Every
// row gets modelVersion.
func NewPredictionWriter(w io.Writer, modelVersion string) (*PredictionWriter, error) {
	pw := &PredictionWriter{
		w:       w,
		version: SafeCell(modelVersion),
		codes:   make(map[int32]string),
		lastSec: math.MinInt64,
	}
	pw.buf = appendCSVRecord(pw.buf[:0], predictionColumns)
	if err := pw.flushBuf(); err != nil {
		return nil, fmt.Errorf("write predictions header: %w", err)
	}
	return pw, nil
}

// appendCSVRecord appends fields as one CSV record ending in '\n'.
func appendCSVRecord(dst []byte, fields []string) []byte {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendCSVField(dst, f)
	}
	return append(dst, '\n')
}

// appendCSVField appends one field as encoding/csv's Writer (comma ',',
// UseCRLF false) writes it: quoted when it holds a comma, a quote, CR or
// LF, starts with a Unicode space, or is `\.`; quotes doubled inside.
func appendCSVField(dst []byte, f string) []byte {
	if !csvNeedsQuotes(f) {
		return append(dst, f...)
	}
	dst = append(dst, '"')
	for {
		i := strings.IndexByte(f, '"')
		if i < 0 {
			dst = append(dst, f...)
			break
		}
		dst = append(dst, f[:i+1]...)
		dst = append(dst, '"')
		f = f[i+1:]
	}
	return append(dst, '"')
}

// csvSpecial marks the bytes that make a field quoted wherever they are.
var csvSpecial = [256]bool{'\n': true, '\r': true, '"': true, ',': true}

// csvNeedsQuotes is encoding/csv's Writer.fieldNeedsQuotes for comma ','.
func csvNeedsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f == `\.` {
		return true
	}
	for i := 0; i < len(f); i++ {
		if csvSpecial[f[i]] {
			return true
		}
	}
	if c := f[0]; c < utf8.RuneSelf {
		// unicode.IsSpace of an ASCII byte, without the rune decoding.
		return c == ' ' || c == '\t' || c == '\v' || c == '\f'
	}
	r, _ := utf8.DecodeRuneInString(f)
	return unicode.IsSpace(r)
}

// Write writes one row per prediction.
func (pw *PredictionWriter) Write(ps []Prediction) error {
	if pw.err != nil {
		return pw.err
	}
	b := pw.buf[:0]
	for i := range ps {
		p := &ps[i]
		b = appendCSVField(b, SafeCell(p.Send.SendID))
		b = append(b, ',')
		b = appendCSVField(b, SafeCell(p.Send.CampaignID))
		b = append(b, ',')
		b = appendCSVField(b, SafeCell(p.Send.PhoneNumberID))
		b = append(b, ',')
		b = appendCSVField(b, SafeCell(OutputRecipient(p.Send.Recipient)))
		b = append(b, ',')
		b = pw.appendTime(b, p.Send.ScheduledAt)
		b = append(b, ',')
		b = append(b, FormatProb(p.PFail)...)
		b = append(b, ',')
		b = append(b, p.Risk.String()...)
		b = append(b, ',')
		b = append(b, familyCell(p.Family)...)
		b = append(b, ',')
		b = append(b, pw.code(p.Code)...)
		for _, f := range predictions.ReportedFamilies {
			b = append(b, ',')
			b = append(b, FormatProb(p.PFamily[f])...)
		}
		b = append(b, ',')
		b = pw.appendWarning(b, p.Warning)
		b = append(b, ',')
		b = appendCSVField(b, string(p.Action))
		b = append(b, ',')
		b = append(b, boolCell(p.Exploration)...)
		b = append(b, ',')
		b = append(b, boolCell(p.Stale)...)
		b = append(b, ',')
		b = appendCSVField(b, pw.version)
		b = append(b, ',')
		b = appendCSVField(b, SafeCell(p.Reasons))
		b = append(b, '\n')
	}
	pw.buf = b
	if err := pw.flushBuf(); err != nil {
		return fmt.Errorf("write predictions: %w", err)
	}
	return nil
}

// appendWarning appends the warning cell w: SafeCell and
// appendCSVField, formatted once for a run of sends with one warning.
func (pw *PredictionWriter) appendWarning(b []byte, w string) []byte {
	if w == "" {
		return b
	}
	if w != pw.lastWarning || len(pw.lastCell) == 0 {
		pw.lastWarning = w
		pw.lastCell = appendCSVField(pw.lastCell[:0], SafeCell(w))
	}
	return append(b, pw.lastCell...)
}

// flushBuf writes the buffered rows and empties the buffer.
func (pw *PredictionWriter) flushBuf() error {
	if len(pw.buf) == 0 {
		return nil
	}
	_, err := pw.w.Write(pw.buf)
	pw.buf = pw.buf[:0]
	if err != nil && pw.err == nil {
		pw.err = err
	}
	return pw.err
}

// Flush returns any write error. (Write hands its rows on at once; the
// underlying writer keeps its own buffer.)
func (pw *PredictionWriter) Flush() error {
	if err := pw.flushBuf(); err != nil {
		return fmt.Errorf("write predictions: %w", err)
	}
	return nil
}

// appendTime appends Unix µs as predictions.TimeLayout (milliseconds).
func (pw *PredictionWriter) appendTime(b []byte, us int64) []byte {
	sec := us / 1e6
	if us < 0 && us%1e6 != 0 {
		sec--
	}
	if sec != pw.lastSec {
		pw.lastSec = sec
		pw.lastFmt = time.Unix(sec, 0).UTC().Format("2006-01-02T15:04:05")
	}
	ms := (us - sec*1e6) / 1000
	b = append(b, pw.lastFmt...)
	return append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

func (pw *PredictionWriter) code(c int32) string {
	if c == pipeline.NoErrorCode {
		return ""
	}
	s, ok := pw.codes[c]
	if !ok {
		s = strconv.FormatInt(int64(c), 10)
		pw.codes[c] = s
	}
	return s
}

func familyCell(f pipeline.Family) string {
	if f == pipeline.FamilyNone {
		return ""
	}
	return f.String()
}

func boolCell(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
