package pipeline

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/failcast/failcast/internal/atomicfile"
	"github.com/failcast/failcast/internal/boundedread"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// RowError reports one invalid row of a plan or outcome file. Row is the
// row as a spreadsheet shows it: for CSV the line of the record, the header
// being row 1; for Parquet the 1-based row number.
type RowError struct {
	File   string
	Row    int
	Column string // "" when the row as a whole is invalid
	Err    error
}

func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s: row %d: %v", e.File, e.Row, e.Err)
	}
	return fmt.Sprintf("%s: row %d: column %s: %v", e.File, e.Row, e.Column, e.Err)
}

func (e RowError) Unwrap() error { return e.Err }

// ErrNotRegularFile is matched by the error for a plan, outcome or token
// file that is not a regular file (a FIFO, a device, a directory): such
// inputs are refused before anything is read, since a FIFO would block
// the open and could not be read twice (plans are read in two passes).
var ErrNotRegularFile = boundedread.ErrNotRegular

// openRegular opens an input file that must be a regular file.
func openRegular(path string) (*os.File, error) {
	f, _, err := boundedread.OpenRegular(path)
	return f, err
}

// planBatchSize is the number of plan rows per ReadPlan callback.
const planBatchSize = 8192

// planRequired are the plan columns a plan file must have; the others may
// be absent (empty, or none for media_bytes and 0 for campaign_rate_mps).
var planRequired = []string{ColSendID, ColRecipient, ColScheduledAt, ColCategory, ColMessageType}

// fileFormat returns "csv" or "parquet" from a path's extension.
func fileFormat(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return "csv", nil
	case ".parquet":
		return "parquet", nil
	}
	return "", fmt.Errorf("%s: unknown file format (want a .csv or .parquet file)", path)
}

// ReadPlan streams a plan file (.csv or .parquet) written as the plan
// contract says; ReadPlanWith reads one with other column names or
// zone-less times.
func ReadPlan(ctx context.Context, path string, onBadRow func(RowError) error, fn func(batch []PlannedSend) error) error {
	return ReadPlanWith(ctx, path, PlanOptions{}, onBadRow, fn)
}

// ReadPlanWith streams a plan file (.csv or .parquet). A CSV plan has a
// header row; its columns are found by opts.Mapping, then by contract
// name, then by alias, in any order. Columns nothing uses are passed to
// opts.OnWarning with the closest contract column; send_id, recipient,
// scheduled_at, category and message_type are required, and all missing
// ones are named in one *PlanColumnsError. scheduled_at is a time as
// ParseTime reads it (RFC 3339, a space for the T, zone-less times in
// opts.Location) or a Unix time in seconds, milliseconds, microseconds or
// nanoseconds; an empty media_bytes means no media. An invalid row
// (missing send_id or scheduled_at, unknown category or message_type,
// unparseable media_bytes or rate, empty recipient) is passed to onBadRow
// and skipped; if onBadRow returns an error (or is nil) the read stops
// with that error (or the RowError). Valid rows are passed to fn in
// batches; the batch is reused after fn returns. The file must be a
// regular file (ErrNotRegularFile).
func ReadPlanWith(ctx context.Context, path string, opts PlanOptions, onBadRow func(RowError) error, fn func(batch []PlannedSend) error) error {
	kind, err := fileFormat(path)
	if err != nil {
		return err
	}
	if onBadRow == nil {
		onBadRow = func(e RowError) error { return e }
	}
	f, err := openRegular(path)
	if err != nil {
		return fmt.Errorf("read plan: %w", err)
	}
	defer f.Close()
	pr := &planReader{ctx: ctx, path: path, opts: opts, onBadRow: onBadRow, fn: fn, batch: make([]PlannedSend, 0, planBatchSize)}
	if kind == "csv" {
		err = pr.readCSV(f)
	} else {
		err = pr.readParquet(f)
	}
	if err != nil {
		return err
	}
	return pr.flush()
}

// planReader validates plan rows and batches them.
type planReader struct {
	ctx      context.Context
	path     string
	opts     PlanOptions
	onBadRow func(RowError) error
	fn       func([]PlannedSend) error
	batch    []PlannedSend
}

func (pr *planReader) flush() error {
	if len(pr.batch) == 0 {
		return nil
	}
	if err := pr.ctx.Err(); err != nil {
		return err
	}
	err := pr.fn(pr.batch)
	pr.batch = pr.batch[:0]
	return err
}

// add appends a valid row, calling fn when the batch is full.
func (pr *planReader) add(p PlannedSend) error {
	pr.batch = append(pr.batch, p)
	if len(pr.batch) == cap(pr.batch) {
		return pr.flush()
	}
	return nil
}

// bad reports an invalid row.
func (pr *planReader) bad(row int, column string, err error) error {
	return pr.onBadRow(RowError{File: pr.path, Row: row, Column: column, Err: err})
}

// planFields holds a row's raw values by contract column, for validation.
type planFields struct {
	sendID, campaignID, wabaID, phoneNumberID, recipient, country string
	template, language, category, messageType                     string
}

// columnErr is a validation failure of one column.
type columnErr struct {
	column string
	err    error
}

// validate checks the string fields of a row and fills p.
func (f *planFields) validate(p *PlannedSend) *columnErr {
	p.SendID = strings.TrimSpace(f.sendID)
	if p.SendID == "" {
		return &columnErr{ColSendID, errors.New("missing send id")}
	}
	p.Recipient = strings.TrimSpace(f.recipient)
	if p.Recipient == "" {
		return &columnErr{ColRecipient, errors.New("empty recipient")}
	}
	cat := strings.ToLower(strings.TrimSpace(f.category))
	if !containsString(Categories, cat) {
		return &columnErr{ColCategory, fmt.Errorf("want one of %s, got %q", strings.Join(Categories, ", "), f.category)}
	}
	p.Category = canonical(Categories, cat)
	mt := strings.ToLower(strings.TrimSpace(f.messageType))
	if !containsString(MessageTypes, mt) {
		return &columnErr{ColMessageType, fmt.Errorf("want one of %s, got %q", strings.Join(MessageTypes, ", "), f.messageType)}
	}
	p.MessageType = canonical(MessageTypes, mt)
	p.CampaignID = strings.TrimSpace(f.campaignID)
	p.WABAID = strings.TrimSpace(f.wabaID)
	p.PhoneNumberID = strings.TrimSpace(f.phoneNumberID)
	p.Country = strings.ToUpper(strings.TrimSpace(f.country))
	p.Template = strings.TrimSpace(f.template)
	p.Language = strings.TrimSpace(f.language)
	return nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// canonical returns the list's own copy of s, so rows share memory.
func canonical(list []string, s string) string {
	for _, v := range list {
		if v == s {
			return v
		}
	}
	return s
}

// parseScheduledAt parses a Unix time in seconds, milliseconds,
// microseconds or nanoseconds (told apart by magnitude) or a time as
// ParseTime reads it (zone-less ones in loc) into Unix micros.
func parseScheduledAt(s string, loc *time.Location) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("missing scheduled time")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < -1e18 || n > 1e18 {
			return 0, fmt.Errorf("want a Unix time in seconds, ms or us, got %s (out of range)", s)
		}
		return unixToMicros(n), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) < 1e11 {
		return int64(math.Round(f * 1e6)), nil // fractional Unix seconds
	}
	return ParseTime([]byte(s), loc)
}

// unixToMicros converts a Unix time whose unit is told by its magnitude:
// below 1e11 seconds (until year 5138), below 1e14 milliseconds, below
// 1e17 microseconds, else nanoseconds.
func unixToMicros(n int64) int64 {
	a := n
	if a < 0 {
		a = -a
	}
	switch {
	case a < 1e11:
		return n * 1e6
	case a < 1e14:
		return n * 1e3
	case a < 1e17:
		return n
	}
	return n / 1e3
}

// parseMediaBytes parses a media size; empty means none.
func parseMediaBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return NoMediaBytes, nil
	}
	n, ok := parseWholeNumber(s) // pandas writes 7340032.0 when the column has gaps
	if !ok || n < 0 {
		return 0, fmt.Errorf("want a size in bytes (a whole number >= 0, or empty for none), got %q", s)
	}
	return n, nil
}

// parseRate parses a campaign rate; empty means unknown (0).
func parseRate(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, fmt.Errorf("want messages per second (a number >= 0, or empty for unknown), got %q", s)
	}
	return f, nil
}

// csvHeader maps column names of a CSV header to field indexes.
type csvHeader map[string]int

// readCSVHeader reads and checks a CSV header. A UTF-8 byte order mark and
// spaces around names are ignored.
func readCSVHeader(path string, r *csv.Reader, required []string) (csvHeader, error) {
	rec, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file (want a header row)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	h := make(csvHeader, len(rec))
	for i, name := range rec {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		name = strings.TrimSpace(name)
		if _, dup := h[name]; dup && name != "" {
			return nil, fmt.Errorf("%s: header: column %s appears twice", path, name)
		}
		h[name] = i
	}
	for _, c := range required {
		if _, ok := h[c]; !ok {
			return nil, fmt.Errorf("%s: header: missing column %s (the header has %s)", path, c, strings.Join(rec, ","))
		}
	}
	return h, nil
}

// get returns the field of a column, "" when the column is absent.
func (h csvHeader) get(rec []string, column string) string {
	if i, ok := h[column]; ok && i < len(rec) {
		return rec[i]
	}
	return ""
}

func newCSVReader(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return cr
}

func (pr *planReader) readCSV(f io.Reader) error {
	cr := newCSVReader(f)
	header, err := cr.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: empty file (want a header row)", pr.path)
	}
	if err != nil {
		return fmt.Errorf("%s: header: %w", pr.path, err)
	}
	width := len(header)
	idx, err := resolvePlanColumns(pr.path, header, pr.opts)
	if err != nil {
		return err
	}
	h := csvHeader(idx)
	for {
		if err := pr.ctx.Err(); err != nil {
			return err
		}
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", pr.path, err)
		}
		row, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) != width {
			if err := pr.bad(row, "", fmt.Errorf("want %d fields as in the header, got %d", width, len(rec))); err != nil {
				return err
			}
			continue
		}
		fields := planFields{
			sendID: h.get(rec, ColSendID), campaignID: h.get(rec, ColCampaignID), wabaID: h.get(rec, ColWABAID),
			phoneNumberID: h.get(rec, ColPhoneNumberID), recipient: h.get(rec, ColRecipient), country: h.get(rec, ColCountry),
			template: h.get(rec, ColTemplate), language: h.get(rec, ColLanguage), category: h.get(rec, ColCategory),
			messageType: h.get(rec, ColMessageType),
		}
		var p PlannedSend
		if ce := fields.validate(&p); ce != nil {
			if err := pr.bad(row, ce.column, ce.err); err != nil {
				return err
			}
			continue
		}
		if p.ScheduledAt, err = parseScheduledAt(h.get(rec, ColScheduledAt), pr.opts.Location); err != nil {
			if err := pr.bad(row, ColScheduledAt, err); err != nil {
				return err
			}
			continue
		}
		if p.MediaBytes, err = parseMediaBytes(h.get(rec, ColMediaBytes)); err != nil {
			if err := pr.bad(row, ColMediaBytes, err); err != nil {
				return err
			}
			continue
		}
		if p.CampaignRateMPS, err = parseRate(h.get(rec, ColCampaignRateMPS)); err != nil {
			if err := pr.bad(row, ColCampaignRateMPS, err); err != nil {
				return err
			}
			continue
		}
		if err := pr.add(p); err != nil {
			return err
		}
	}
}

// openParquet opens a Parquet file, turning parquet-go panics into errors.
func openParquet(f *os.File) (pf *parquet.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			pf, err = nil, fmt.Errorf("%s: not a readable Parquet file: %v", f.Name(), r)
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err = parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable Parquet file: %w", f.Name(), err)
	}
	return pf, nil
}

// flatColumns maps the names of a Parquet file's top-level leaf columns to
// their leaf indexes and checks that the wanted columns exist with an
// accepted kind.
func flatColumns(path string, pf *parquet.File, want map[string][]parquet.Kind, required []string) (map[string]*parquet.Column, error) {
	cols := make(map[string]*parquet.Column)
	for _, c := range pf.Root().Columns() {
		kinds, ok := want[c.Name()]
		if !ok {
			continue
		}
		got := describeColumn(c)
		if !c.Leaf() || c.Repeated() || c.MaxDefinitionLevel() > 1 || !containsKind(kinds, c.Type().Kind()) {
			return nil, &SchemaError{File: path, Column: c.Name(), Want: kindList(kinds), Got: got}
		}
		cols[c.Name()] = c
	}
	for _, name := range required {
		if _, ok := cols[name]; !ok {
			return nil, &SchemaError{File: path, Column: name, Want: kindList(want[name]), Got: "missing"}
		}
	}
	return cols, nil
}

func containsKind(list []parquet.Kind, k parquet.Kind) bool {
	for _, v := range list {
		if v == k {
			return true
		}
	}
	return false
}

func kindList(kinds []parquet.Kind) string {
	var s []string
	for _, k := range kinds {
		s = append(s, k.String())
	}
	return strings.Join(s, " or ")
}

var (
	kindsString = []parquet.Kind{parquet.ByteArray}
	kindsInt    = []parquet.Kind{parquet.Int32, parquet.Int64, parquet.Double, parquet.Float}
	kindsTime   = []parquet.Kind{parquet.Int64, parquet.Int96, parquet.ByteArray}
	kindsBool   = []parquet.Kind{parquet.Boolean}
)

// readRows reads every row of a Parquet file, turning panics into errors.
// fn gets the 1-based row number and the row's values by leaf index.
func readRows(ctx context.Context, path string, pf *parquet.File, fn func(row int, values parquet.Row) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: corrupt file: %v", path, r)
		}
	}()
	rows := make([]parquet.Row, 256)
	n := 0
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		for {
			if err := ctx.Err(); err != nil {
				rr.Close()
				return err
			}
			k, rerr := rr.ReadRows(rows)
			for i := 0; i < k; i++ {
				n++
				if err := fn(n, rows[i]); err != nil {
					rr.Close()
					return err
				}
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				rr.Close()
				return fmt.Errorf("%s: row %d: %w", path, n+1, rerr)
			}
		}
		rr.Close()
	}
	return nil
}

// stringColumn reads one string column of Parquet rows (index -1: the
// file has no such column), sharing the string of a value equal to the
// previous one.
type stringColumn struct {
	index int
	last  string
}

func (c *stringColumn) value(row parquet.Row) string {
	if c.index < 0 || c.index >= len(row) || row[c.index].IsNull() {
		return ""
	}
	b := row[c.index].ByteArray()
	if string(b) != c.last {
		c.last = string(b)
	}
	return c.last
}

// valueString returns a string value ("" when null).
func valueString(v parquet.Value) string {
	if v.IsNull() {
		return ""
	}
	return string(v.ByteArray())
}

// valueInt returns a whole-number value; ok is false when null or NaN.
func valueInt(v parquet.Value) (n int64, ok bool, err error) {
	if v.IsNull() {
		return 0, false, nil
	}
	switch v.Kind() {
	case parquet.Int32:
		return int64(v.Int32()), true, nil
	case parquet.Int64:
		return v.Int64(), true, nil
	case parquet.Double, parquet.Float:
		f := v.Double()
		if v.Kind() == parquet.Float {
			f = float64(v.Float())
		}
		if math.IsNaN(f) {
			return 0, false, nil
		}
		n, ok := wholeNumber(f)
		if !ok {
			return 0, false, fmt.Errorf("want a whole number, got %v", f)
		}
		return n, true, nil
	}
	return 0, false, fmt.Errorf("want a number, got %s", v.Kind())
}

// timeColumnUnit returns how to read a Parquet time column as micros.
func timeColumnUnit(c *parquet.Column) (unit tsUnit, isTimestamp bool) {
	if c.Type().Kind() == parquet.Int96 {
		return tsInt96, true
	}
	if lt := c.Type().LogicalType(); lt != nil {
		if ts, ok := lt.Value.(*format.TimestampType); ok {
			switch ts.Unit.Value.(type) {
			case *format.MilliSeconds:
				return tsMillis, true
			case *format.NanoSeconds:
				return tsNanos, true
			}
			return tsMicros, true
		}
	}
	return tsMicros, false
}

func (pr *planReader) readParquet(f *os.File) error {
	pf, err := openParquet(f)
	if err != nil {
		return err
	}
	kinds := map[string][]parquet.Kind{
		ColScheduledAt: kindsTime, ColMediaBytes: kindsInt,
		ColCampaignRateMPS: {parquet.Double, parquet.Float, parquet.Int32, parquet.Int64},
	}
	var names []string
	for _, c := range pf.Root().Columns() {
		names = append(names, c.Name())
	}
	found, err := resolvePlanColumns(pr.path, names, pr.opts)
	if err != nil {
		return err
	}
	// The file's columns by their own names, checked for their kinds.
	want := map[string][]parquet.Kind{}
	for col, i := range found {
		k := kinds[col]
		if k == nil {
			k = kindsString
		}
		want[names[i]] = k
	}
	byName, err := flatColumns(pr.path, pf, want, nil)
	if err != nil {
		return err
	}
	cols := make(map[string]*parquet.Column, len(found))
	for col, i := range found {
		cols[col] = byName[names[i]]
	}
	idx := func(name string) int {
		if c, ok := cols[name]; ok {
			return c.Index()
		}
		return -1
	}
	// One reader per string column, resolved once; a value equal to the
	// column's previous one shares its string, so the repeated values of
	// dictionary columns (campaign, template, category...) cost no
	// allocation.
	strCol := func(name string) *stringColumn { return &stringColumn{index: idx(name)} }
	sendID, campaignID, wabaID, phoneNumberID := strCol(ColSendID), strCol(ColCampaignID), strCol(ColWABAID), strCol(ColPhoneNumberID)
	recipient, country, template, language := strCol(ColRecipient), strCol(ColCountry), strCol(ColTemplate), strCol(ColLanguage)
	category, messageType := strCol(ColCategory), strCol(ColMessageType)
	sched := cols[ColScheduledAt]
	unit, isTS := timeColumnUnit(sched)
	schedIdx, mediaIdx, rateIdx := idx(ColScheduledAt), idx(ColMediaBytes), idx(ColCampaignRateMPS)
	return readRows(pr.ctx, pr.path, pf, func(n int, row parquet.Row) error {
		fields := planFields{
			sendID: sendID.value(row), campaignID: campaignID.value(row), wabaID: wabaID.value(row),
			phoneNumberID: phoneNumberID.value(row), recipient: recipient.value(row), country: country.value(row),
			template: template.value(row), language: language.value(row), category: category.value(row),
			messageType: messageType.value(row),
		}
		var p PlannedSend
		if ce := fields.validate(&p); ce != nil {
			return pr.bad(n, ce.column, ce.err)
		}
		v := row[schedIdx]
		switch {
		case v.IsNull():
			return pr.bad(n, ColScheduledAt, errors.New("missing scheduled time"))
		case v.Kind() == parquet.Int96:
			p.ScheduledAt = int96Micros(v.Int96())
		case v.Kind() == parquet.ByteArray:
			t, err := parseScheduledAt(string(v.ByteArray()), pr.opts.Location)
			if err != nil {
				return pr.bad(n, ColScheduledAt, err)
			}
			p.ScheduledAt = t
		case isTS:
			p.ScheduledAt = unit.toMicros(v.Int64())
		default:
			p.ScheduledAt = unixToMicros(v.Int64())
		}
		p.MediaBytes = NoMediaBytes
		if mediaIdx >= 0 {
			m, ok, err := valueInt(row[mediaIdx])
			if err == nil && ok && m < 0 {
				err = fmt.Errorf("want a size in bytes >= 0, got %d", m)
			}
			if err != nil {
				return pr.bad(n, ColMediaBytes, err)
			}
			if ok {
				p.MediaBytes = m
			}
		}
		if rateIdx >= 0 && !row[rateIdx].IsNull() {
			v := row[rateIdx]
			var f float64
			switch v.Kind() {
			case parquet.Double:
				f = v.Double()
			case parquet.Float:
				f = float64(v.Float())
			case parquet.Int32:
				f = float64(v.Int32())
			case parquet.Int64:
				f = float64(v.Int64())
			}
			if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
				return pr.bad(n, ColCampaignRateMPS, fmt.Errorf("want messages per second >= 0, got %v", f))
			}
			p.CampaignRateMPS = f
		}
		return pr.add(p)
	})
}

// planRecord is the Parquet schema of a plan file as failcast writes it.
type planRecord struct {
	SendID          string  `parquet:"send_id,plain"`
	CampaignID      string  `parquet:"campaign_id,dict"`
	WABAID          string  `parquet:"waba_id,dict"`
	PhoneNumberID   string  `parquet:"phone_number_id,dict"`
	Recipient       string  `parquet:"recipient,plain"`
	Country         string  `parquet:"country,dict"`
	Template        string  `parquet:"template_name,dict"`
	Language        string  `parquet:"template_language,dict"`
	Category        string  `parquet:"category,dict"`
	MessageType     string  `parquet:"message_type,dict"`
	MediaBytes      *int64  `parquet:"media_bytes,optional"`
	ScheduledAt     int64   `parquet:"scheduled_at,timestamp(microsecond:utc)"`
	CampaignRateMPS float64 `parquet:"campaign_rate_mps"`
}

// formatMicros renders Unix micros as RFC 3339 UTC.
func formatMicros(us int64) string {
	return time.UnixMicro(us).UTC().Format(time.RFC3339Nano)
}

// WritePlan writes a plan file (.csv or .parquet by extension)
// atomically: on error an earlier file at path is left untouched.
func WritePlan(path string, sends []PlannedSend) error {
	kind, err := fileFormat(path)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, func(f *atomicfile.File) error {
		if kind == "parquet" {
			return writeParquetRecords(f, path, len(sends), func(j int) planRecord {
				s := &sends[j]
				r := planRecord{
					SendID: s.SendID, CampaignID: s.CampaignID, WABAID: s.WABAID, PhoneNumberID: s.PhoneNumberID,
					Recipient: s.Recipient, Country: s.Country, Template: s.Template, Language: s.Language,
					Category: s.Category, MessageType: s.MessageType, ScheduledAt: s.ScheduledAt, CampaignRateMPS: s.CampaignRateMPS,
				}
				if s.MediaBytes != NoMediaBytes {
					m := s.MediaBytes
					r.MediaBytes = &m
				}
				return r
			})
		}
		cw := csv.NewWriter(f)
		cw.Write(PlanColumns)
		rec := make([]string, len(PlanColumns))
		for i := range sends {
			s := &sends[i]
			media := ""
			if s.MediaBytes != NoMediaBytes {
				media = strconv.FormatInt(s.MediaBytes, 10)
			}
			rec = append(rec[:0], s.SendID, s.CampaignID, s.WABAID, s.PhoneNumberID, s.Recipient, s.Country,
				s.Template, s.Language, s.Category, s.MessageType, media, formatMicros(s.ScheduledAt),
				strconv.FormatFloat(s.CampaignRateMPS, 'g', -1, 64))
			cw.Write(rec)
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	})
}

// PlanRowsHint returns the number of rows of a Parquet plan file from its
// footer, or 0 when it cannot tell cheaply (a CSV file, a file it cannot
// read): a size hint for the caller's tables, never a count to trust.
func PlanRowsHint(path string) (rows int) {
	if kind, err := fileFormat(path); err != nil || kind != "parquet" {
		return 0
	}
	f, err := openRegular(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	pf, err := openParquet(f)
	if err != nil {
		return 0
	}
	return int(max(pf.NumRows(), 0))
}
