package scoring

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

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
// predictions.Columns): RFC 4180 (encoding/csv), UTF-8,
// a header row, '.' decimal point, probabilities with four decimals.
type PredictionWriter struct {
	w       *csv.Writer
	rec     []string
	version string
	codes   map[int32]string
	lastSec int64  // second of the last formatted time
	lastFmt string // its formatted prefix, "2006-01-02T15:04:05"
}

// NewPredictionWriter writes the header to w and returns the writer. Every
// row gets modelVersion.
func NewPredictionWriter(w io.Writer, modelVersion string) (*PredictionWriter, error) {
	pw := &PredictionWriter{
		w:       csv.NewWriter(w),
		rec:     make([]string, len(predictionColumns)),
		version: SafeCell(modelVersion),
		codes:   make(map[int32]string),
		lastSec: math.MinInt64,
	}
	if err := pw.w.Write(predictionColumns); err != nil {
		return nil, fmt.Errorf("write predictions header: %w", err)
	}
	return pw, nil
}

// Write writes one row per prediction.
func (pw *PredictionWriter) Write(ps []Prediction) error {
	for i := range ps {
		p := &ps[i]
		r := pw.rec[:0]
		r = append(r,
			SafeCell(p.Send.SendID),
			SafeCell(p.Send.CampaignID),
			SafeCell(p.Send.PhoneNumberID),
			SafeCell(OutputRecipient(p.Send.Recipient)),
			pw.time(p.Send.ScheduledAt),
			FormatProb(p.PFail),
			p.Risk.String(),
			familyCell(p.Family),
			pw.code(p.Code),
		)
		for _, f := range predictions.ReportedFamilies {
			r = append(r, FormatProb(p.PFamily[f]))
		}
		r = append(r, SafeCell(p.Warning), string(p.Action), boolCell(p.Exploration), boolCell(p.Stale), pw.version, SafeCell(p.Reasons))
		if err := pw.w.Write(r); err != nil {
			return fmt.Errorf("write prediction of send %q: %w", p.Send.SendID, err)
		}
	}
	return nil
}

// Flush flushes buffered rows and returns any write error.
func (pw *PredictionWriter) Flush() error {
	pw.w.Flush()
	if err := pw.w.Error(); err != nil {
		return fmt.Errorf("write predictions: %w", err)
	}
	return nil
}

func (pw *PredictionWriter) time(us int64) string {
	sec := us / 1e6
	if us < 0 && us%1e6 != 0 {
		sec--
	}
	if sec != pw.lastSec {
		pw.lastSec = sec
		pw.lastFmt = time.Unix(sec, 0).UTC().Format("2006-01-02T15:04:05")
	}
	ms := (us - sec*1e6) / 1000
	var b [32]byte
	out := append(b[:0], pw.lastFmt...)
	out = append(out, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
	return string(out)
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
