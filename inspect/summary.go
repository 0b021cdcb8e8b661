package inspect

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/pipeline"
)

// Options say what to read.
type Options struct {
	// History is the dataset: a Parquet file, a directory tree, a glob or
	// hive partitions (pipeline.OpenDataset).
	History string
	// From and To bound the event times read (To excluded); zero means
	// the beginning or the end.
	From, To time.Time
	// Columns are history columns to read besides StatColumns; nil reads
	// every contract column.
	Columns []string
}

// StatColumns are the columns the statistics need; they are always read.
var StatColumns = []string{pipeline.ColTimestamp, pipeline.ColMessageID, pipeline.ColStatus, pipeline.ColErrorCode}

// columns returns the projection: nil (all columns) or StatColumns plus
// o.Columns. A name that is not a history column is a usage error.
func (o Options) columns() ([]string, error) {
	if o.Columns == nil {
		return nil, nil
	}
	cols := slices.Clone(StatColumns)
	for _, c := range o.Columns {
		c = strings.TrimSpace(c)
		if !slices.Contains(pipeline.HistoryColumns, c) {
			return nil, exitcode.Usagef("--columns: %q is not a history column (want one of %s)", c, strings.Join(pipeline.HistoryColumns, ", "))
		}
		if !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	return cols, nil
}

// Summary is what inspect reports about a dataset.
type Summary struct {
	Dataset        string           `json:"dataset"`
	Files          int              `json:"files"`
	Rows           int64            `json:"rows"`
	From           string           `json:"from,omitempty"`
	To             string           `json:"to,omitempty"`
	ByStatus       map[string]int64 `json:"by_status"`
	Sends          int64            `json:"sends"`
	Failures       int64            `json:"failures"`
	FailureRate    float64          `json:"failure_rate"`
	ByFamily       map[string]int64 `json:"failures_by_family"`
	TopCodes       []CodeCount      `json:"top_codes"`
	Seconds        float64          `json:"scan_seconds"`
	RowsPerSecond  float64          `json:"scan_rows_per_second"`
	ColumnsScanned int              `json:"columns_scanned"`
}

// CodeCount is one error code with its count and Meta's meaning.
type CodeCount struct {
	Code   int32  `json:"code"`
	Count  int64  `json:"count"`
	Family string `json:"family"`
	Title  string `json:"title"`
}

// wamidPrefix starts every message id the Cloud API issues; a failed event
// whose message id lacks it carries the sender's request id, so the API
// refused the request synchronously (docs/schema.md).
const wamidPrefix = "wamid."

// Summarize opens the dataset and scans it once. A send is an accepted
// event (or, in webhook-only data, a sent event), or a failed event of a
// refused request; the failure rate is failed events over sends.
//
// Errors carry their exit class: a bad column name is a usage error, a
// missing or unreadable dataset bad input; an interrupted scan returns the
// context's error.
func Summarize(ctx context.Context, o Options) (*Summary, error) {
	cols, err := o.columns()
	if err != nil {
		return nil, err
	}
	ds, err := pipeline.OpenDataset(o.History)
	if err != nil {
		return nil, exitcode.AsInput(err)
	}
	s := &Summary{Dataset: o.History, Files: len(ds.Files()), ByStatus: map[string]int64{}, ByFamily: map[string]int64{}}
	opts := pipeline.ScanOptions{Columns: cols}
	if !o.From.IsZero() {
		opts.From = o.From.UnixMicro()
	}
	if !o.To.IsZero() {
		opts.To = o.To.UnixMicro()
	}
	s.ColumnsScanned = len(cols)
	if cols == nil {
		s.ColumnsScanned = len(pipeline.HistoryColumns)
	}
	var byStatus [pipeline.StatusInbound + 1]int64
	codes := map[int32]int64{}
	var first, last, refused int64
	start := time.Now()
	err = ds.Scan(ctx, opts, func(batch []pipeline.Event) error {
		if len(batch) == 0 {
			return nil
		}
		if s.Rows == 0 {
			first = batch[0].Timestamp
		}
		last = batch[len(batch)-1].Timestamp
		s.Rows += int64(len(batch))
		for i := range batch {
			e := &batch[i]
			if int(e.Status) < len(byStatus) {
				byStatus[e.Status]++
			}
			if e.Status != pipeline.StatusFailed {
				continue
			}
			if e.ErrorCode != pipeline.NoErrorCode {
				codes[e.ErrorCode]++
			}
			if !strings.HasPrefix(e.MessageID, wamidPrefix) {
				refused++ // the API refused the request: its failed event is the send
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, err // interrupted: not the data's fault
		}
		return nil, exitcode.AsInput(err)
	}
	s.Seconds = time.Since(start).Seconds()
	if s.Seconds > 0 {
		s.RowsPerSecond = float64(s.Rows) / s.Seconds
	}
	if s.Rows > 0 {
		s.From = time.UnixMicro(first).UTC().Format(time.RFC3339)
		s.To = time.UnixMicro(last).UTC().Format(time.RFC3339)
	}
	for st, n := range byStatus {
		if n > 0 {
			s.ByStatus[pipeline.Status(st).String()] = n
		}
	}
	s.Failures = byStatus[pipeline.StatusFailed]
	s.Sends = byStatus[pipeline.StatusAccepted] + refused
	if s.Sends == 0 { // webhook-only data: every message has a sent or failed event
		s.Sends = byStatus[pipeline.StatusSent] + refused
	}
	if s.Sends > 0 {
		s.FailureRate = float64(s.Failures) / float64(s.Sends)
	}
	for code, n := range codes {
		info, _ := pipeline.LookupCode(code)
		s.ByFamily[info.Family.String()] += n
		s.TopCodes = append(s.TopCodes, CodeCount{Code: code, Count: n, Family: info.Family.String(), Title: info.Title})
	}
	slices.SortFunc(s.TopCodes, func(a, b CodeCount) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		return int(a.Code - b.Code)
	})
	if len(s.TopCodes) > 12 {
		s.TopCodes = s.TopCodes[:12]
	}
	return s, nil
}

// WriteJSON writes s as indented JSON.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteText prints s for a person.
func (s *Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "dataset\t%s (%d files)\n", s.Dataset, s.Files)
	fmt.Fprintf(tw, "events\t%d, %s to %s\n", s.Rows, s.From, s.To)
	fmt.Fprintf(tw, "sends\t%d, %d failed (%.2f%%)\n", s.Sends, s.Failures, 100*s.FailureRate)
	statuses := make([]string, 0, len(s.ByStatus))
	for st := pipeline.StatusAccepted; st <= pipeline.StatusInbound; st++ {
		if n, ok := s.ByStatus[st.String()]; ok {
			statuses = append(statuses, fmt.Sprintf("%s %d", st, n))
		}
	}
	fmt.Fprintf(tw, "by status\t%s\n", joinComma(statuses))
	var fams []string
	for f := pipeline.FamilyAuth; f <= pipeline.FamilyUnknown; f++ {
		if n, ok := s.ByFamily[f.String()]; ok {
			fams = append(fams, fmt.Sprintf("%s %d", f, n))
		}
	}
	fmt.Fprintf(tw, "failures by family\t%s\n", joinComma(fams))
	fmt.Fprintf(tw, "scan\t%.2f s, %.0f rows/s, %d columns\n", s.Seconds, s.RowsPerSecond, s.ColumnsScanned)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.TopCodes) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\ntop error codes:")
	for _, c := range s.TopCodes {
		if _, err := fmt.Fprintf(w, "  %7d %9d  %-15s %s\n", c.Code, c.Count, c.Family, c.Title); err != nil {
			return err
		}
	}
	return nil
}

func joinComma(parts []string) string {
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
