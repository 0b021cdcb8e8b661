package pipeline

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/failcast/failcast/internal/atomicfile"
	"github.com/parquet-go/parquet-go"
)

// Outcome file column names.
const (
	ColFailed      = "failed"
	ColErrorFamily = "error_family"
)

// OutcomeColumns lists the columns of a plan outcome file, in order.
var OutcomeColumns = []string{ColSendID, ColFailed, ColErrorCode, ColErrorFamily}

// outcomeRecord is the Parquet schema of an outcome file.
type outcomeRecord struct {
	SendID      string `parquet:"send_id,plain"`
	Failed      bool   `parquet:"failed"`
	ErrorCode   *int32 `parquet:"error_code,optional"`
	ErrorFamily string `parquet:"error_family,dict"`
}

// WriteOutcomes writes plan outcomes (.csv or .parquet by extension)
// atomically. Columns: send_id, failed, error_code (null, or empty in CSV,
// when none) and error_family (the taxonomy family of the code, "none"
// when there is no error; informative, ignored when read).
func WriteOutcomes(path string, outcomes []PlanOutcome) error {
	kind, err := fileFormat(path)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, func(f *atomicfile.File) error {
		if kind == "parquet" {
			return writeParquetRecords(f, path, len(outcomes), func(i int) outcomeRecord {
				o := outcomes[i]
				r := outcomeRecord{SendID: o.SendID, Failed: o.Failed, ErrorFamily: FamilyOf(o.ErrorCode).String()}
				if o.ErrorCode != NoErrorCode {
					c := o.ErrorCode
					r.ErrorCode = &c
				}
				return r
			})
		}
		cw := csv.NewWriter(f)
		cw.Write(OutcomeColumns)
		for _, o := range outcomes {
			code := ""
			if o.ErrorCode != NoErrorCode {
				code = strconv.FormatInt(int64(o.ErrorCode), 10)
			}
			cw.Write([]string{o.SendID, strconv.FormatBool(o.Failed), code, FamilyOf(o.ErrorCode).String()})
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	})
}

// ReadOutcomes reads a plan outcome file written by WriteOutcomes (or any
// file with send_id, failed and error_code columns, in any order; other
// columns are ignored). In CSV, failed is true or false (also True, TRUE,
// 1 or 0, as pandas and spreadsheets write them) and error_code an integer
// (a whole decimal such as pandas's "131026.0" is accepted) or empty for
// none. The first invalid row stops the read with a RowError.
func ReadOutcomes(path string) ([]PlanOutcome, error) {
	kind, err := fileFormat(path)
	if err != nil {
		return nil, err
	}
	f, err := openRegular(path)
	if err != nil {
		return nil, fmt.Errorf("read outcomes: %w", err)
	}
	defer f.Close()
	if kind == "csv" {
		return readOutcomesCSV(path, f)
	}
	return readOutcomesParquet(path, f)
}

// parseWholeNumber parses an integer written as digits ("131026") or as a
// whole decimal number ("131026.0", "1.31026e5"), as pandas writes an
// integer column that holds a missing value. ok is false for anything
// else, including numbers beyond 2^53 written as decimals.
func parseWholeNumber(s string) (n int64, ok bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// parseErrorCode parses an error code; empty means none.
func parseErrorCode(s string) (int32, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return NoErrorCode, nil
	}
	n, ok := parseWholeNumber(s)
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, fmt.Errorf("want an integer error code or empty for none, got %q", s)
	}
	return int32(n), nil
}

func readOutcomesCSV(path string, r io.Reader) ([]PlanOutcome, error) {
	var out []PlanOutcome
	err := readCSVRecords(path, r, []string{ColSendID, ColFailed, ColErrorCode}, func(row int, h csvHeader, rec []string) error {
		o := PlanOutcome{SendID: strings.TrimSpace(h.get(rec, ColSendID))}
		if o.SendID == "" {
			return RowError{File: path, Row: row, Column: ColSendID, Err: errors.New("missing send id")}
		}
		var err error
		if o.Failed, err = strconv.ParseBool(strings.TrimSpace(h.get(rec, ColFailed))); err != nil {
			return RowError{File: path, Row: row, Column: ColFailed, Err: fmt.Errorf("want true or false, got %q", h.get(rec, ColFailed))}
		}
		if o.ErrorCode, err = parseErrorCode(h.get(rec, ColErrorCode)); err != nil {
			return RowError{File: path, Row: row, Column: ColErrorCode, Err: err}
		}
		out = append(out, o)
		return nil
	})
	return out, err
}

// readCSVRecords reads a CSV file whose header must name the required
// columns, calling fn with each record and its row number (blank lines
// skipped). A record with another number of fields than the header
// fails the read with a RowError, as does any error of fn.
func readCSVRecords(path string, r io.Reader, required []string, fn func(row int, h csvHeader, rec []string) error) error {
	cr := newCSVReader(r)
	h, err := readCSVHeader(path, cr, required)
	if err != nil {
		return err
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		row, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) != len(h) {
			return RowError{File: path, Row: row, Err: fmt.Errorf("want %d fields as in the header, got %d", len(h), len(rec))}
		}
		if err := fn(row, h, rec); err != nil {
			return err
		}
	}
}

func readOutcomesParquet(path string, f *os.File) ([]PlanOutcome, error) {
	pf, err := openParquet(f)
	if err != nil {
		return nil, err
	}
	want := map[string][]parquet.Kind{ColSendID: kindsString, ColFailed: kindsBool, ColErrorCode: kindsInt}
	cols, err := flatColumns(path, pf, want, []string{ColSendID, ColFailed, ColErrorCode})
	if err != nil {
		return nil, err
	}
	si, fi, ci := cols[ColSendID].Index(), cols[ColFailed].Index(), cols[ColErrorCode].Index()
	out := make([]PlanOutcome, 0, pf.NumRows())
	err = readRows(context.Background(), path, pf, func(n int, row parquet.Row) error {
		o := PlanOutcome{SendID: valueString(row[si]), ErrorCode: NoErrorCode}
		if o.SendID == "" {
			return RowError{File: path, Row: n, Column: ColSendID, Err: errors.New("missing send id")}
		}
		if row[fi].IsNull() {
			return RowError{File: path, Row: n, Column: ColFailed, Err: errors.New("want true or false, got null")}
		}
		o.Failed = row[fi].Boolean()
		c, ok, err := valueInt(row[ci])
		if err == nil && ok && (c < math.MinInt32 || c > math.MaxInt32) {
			err = fmt.Errorf("error code %d out of int32 range", c)
		}
		if err != nil {
			return RowError{File: path, Row: n, Column: ColErrorCode, Err: err}
		}
		if ok {
			o.ErrorCode = int32(c)
		}
		out = append(out, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// writeParquetRecords writes the n records that record makes as one zstd Parquet
// file to w, in batches; path names the file in errors.
func writeParquetRecords[T any](w io.Writer, path string, n int, record func(i int) T) error {
	pw := parquet.NewGenericWriter[T](w, parquet.Compression(&parquet.Zstd))
	recs := make([]T, 0, 4096)
	for i := 0; i < n; i += cap(recs) {
		recs = recs[:0]
		for j := i; j < min(n, i+cap(recs)); j++ {
			recs = append(recs, record(j))
		}
		if _, err := pw.Write(recs); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
