package scoring

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/failcast/failcast/scoring/predictions"
)

// Rejected is a plan row that could not be scored and why.
type Rejected struct {
	File   string // plan file (base name or the path as given)
	Row    int    // 1-based data row number in the file (the header is row 0)
	Column string // offending column, "" when the row as a whole is bad
	Reason string
}

// RejectedWriter writes rejected_rows.csv: one row per rejected plan row.
type RejectedWriter struct {
	w *csv.Writer
	n int
}

// NewRejectedWriter writes the header to w and returns the writer.
func NewRejectedWriter(w io.Writer) (*RejectedWriter, error) {
	rw := &RejectedWriter{w: csv.NewWriter(w)}
	if err := rw.w.Write(predictions.RejectedColumns()); err != nil {
		return nil, fmt.Errorf("write rejected rows header: %w", err)
	}
	return rw, nil
}

// Write writes one rejected row.
func (rw *RejectedWriter) Write(r Rejected) error {
	rw.n++
	if err := rw.w.Write([]string{SafeCell(r.File), strconv.Itoa(r.Row), SafeCell(r.Column), SafeCell(r.Reason)}); err != nil {
		return fmt.Errorf("write rejected row %d of %s: %w", r.Row, r.File, err)
	}
	return nil
}

// Count returns the number of rows written.
func (rw *RejectedWriter) Count() int { return rw.n }

// Flush flushes buffered rows and returns any write error.
func (rw *RejectedWriter) Flush() error {
	rw.w.Flush()
	if err := rw.w.Error(); err != nil {
		return fmt.Errorf("write rejected rows: %w", err)
	}
	return nil
}
