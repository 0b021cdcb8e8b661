package features

import (
	"fmt"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/parquet-go/parquet-go"

	"github.com/failcast/failcast/internal/atomicfile"
	"github.com/failcast/failcast/pipeline"
)

// Identity and label columns of a table in its columnar forms (Record and
// WriteParquet), next to the feature columns.
const (
	ColSendTime      = "send_time"
	ColID            = "id"
	ColCampaignID    = "campaign_id"
	ColPhoneNumberID = "phone_number_id"
	ColRecipient     = "recipient"
	ColFailed        = "failed"
	ColErrorFamily   = "error_family"
	ColErrorCode     = "error_code"
	ColExploration   = "exploration"
	ColStale         = "stale"
)

// Record returns the table in Arrow columnar form: the identity and label
// columns (send_time as a UTC µs timestamp, id, campaign_id,
// phone_number_id, recipient, failed, error_family as the family name,
// error_code null when none, exploration, stale) followed by one float32
// column per feature. The caller releases the record.
func (t *Table) Record(mem memory.Allocator) arrow.Record {
	fields := []arrow.Field{
		{Name: ColSendTime, Type: arrow.FixedWidthTypes.Timestamp_us},
		{Name: ColID, Type: arrow.BinaryTypes.String},
		{Name: ColCampaignID, Type: arrow.BinaryTypes.String},
		{Name: ColPhoneNumberID, Type: arrow.BinaryTypes.String},
		{Name: ColRecipient, Type: arrow.BinaryTypes.String},
		{Name: ColFailed, Type: arrow.FixedWidthTypes.Boolean},
		{Name: ColErrorFamily, Type: arrow.BinaryTypes.String},
		{Name: ColErrorCode, Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: ColExploration, Type: arrow.FixedWidthTypes.Boolean},
		{Name: ColStale, Type: arrow.FixedWidthTypes.Boolean},
	}
	for _, n := range t.Names {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float32})
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Reserve(t.Rows)
	ts := b.Field(0).(*array.TimestampBuilder)
	for i := range t.Rows {
		ts.Append(arrow.Timestamp(t.Time[i]))
	}
	for k, col := range [][]string{t.ID, t.CampaignID, t.PhoneNumberID, t.Recipient} {
		sb := b.Field(1 + k).(*array.StringBuilder)
		sb.AppendValues(col, nil)
	}
	b.Field(5).(*array.BooleanBuilder).AppendValues(t.Failed, nil)
	fam := b.Field(6).(*array.StringBuilder)
	code := b.Field(7).(*array.Int32Builder)
	for i := range t.Rows {
		fam.Append(pipeline.Family(t.Family[i]).String())
		if t.Code[i] == pipeline.NoErrorCode {
			code.AppendNull()
		} else {
			code.Append(t.Code[i])
		}
	}
	b.Field(8).(*array.BooleanBuilder).AppendValues(t.Exploration, nil)
	b.Field(9).(*array.BooleanBuilder).AppendValues(t.Stale, nil)
	nf := len(t.Names)
	for j := range t.Names {
		fb := b.Field(10 + j).(*array.Float32Builder)
		for i := range t.Rows {
			fb.Append(t.X[i*nf+j])
		}
	}
	return b.NewRecord()
}

// parquetSchema returns the Parquet schema of a table with these feature
// names and the leaf column index of each table column.
func parquetSchema(names []string) (*parquet.Schema, error) {
	g := parquet.Group{
		ColSendTime:      parquet.Timestamp(parquet.Microsecond),
		ColID:            parquet.String(),
		ColCampaignID:    parquet.Encoded(parquet.String(), &parquet.RLEDictionary),
		ColPhoneNumberID: parquet.Encoded(parquet.String(), &parquet.RLEDictionary),
		ColRecipient:     parquet.String(),
		ColFailed:        parquet.Leaf(parquet.BooleanType),
		ColErrorFamily:   parquet.Encoded(parquet.String(), &parquet.RLEDictionary),
		ColErrorCode:     parquet.Optional(parquet.Int(32)),
		ColExploration:   parquet.Leaf(parquet.BooleanType),
		ColStale:         parquet.Leaf(parquet.BooleanType),
	}
	for _, n := range names {
		if _, dup := g[n]; dup {
			return nil, fmt.Errorf("features: feature name %q clashes with a table column", n)
		}
		g[n] = parquet.Leaf(parquet.FloatType)
	}
	return parquet.NewSchema("features", g), nil
}

// WriteParquet writes the table as a Parquet file (zstd) for pandas or
// DuckDB, with the columns of Record. The file is written under a
// temporary name in the same directory and renamed into place, so a
// failed write leaves an earlier file untouched.
func WriteParquet(path string, t *Table) error {
	w, err := NewParquetWriter(path, t.Names)
	if err != nil {
		return err
	}
	if err := w.Write(t); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// ParquetWriter writes feature tables one after the other into one
// Parquet file with the columns of Record, in row groups of at most
// ParquetRowGroupRows rows, so that memory stays bounded however many
// rows pass (the chunks of BuildTrainingChunks, say). The file appears
// under its name on Close; until then it is a temporary file beside it,
// which Abort removes, leaving any earlier file untouched.
type ParquetWriter struct {
	path  string
	names []string
	file  *atomicfile.File
	w     *parquet.Writer
	rows  []parquet.Row
	spare []parquet.Row // reused rows
	cols  parquetColumns
	n     int64
}

// ParquetRowGroupRows is the most rows a ParquetWriter puts in one row
// group.
const ParquetRowGroupRows = 1 << 16

// parquetColumns are the leaf column indexes of a table's columns.
type parquetColumns struct {
	time, id, camp, phone, recip, failed, fam, code, expl, stale int
	feat                                                         []int
}

// NewParquetWriter creates the temporary file of path (and its
// directory) for tables with these feature names.
func NewParquetWriter(path string, names []string) (*ParquetWriter, error) {
	schema, err := parquetSchema(names)
	if err != nil {
		return nil, err
	}
	col := func(name string) int {
		leaf, _ := schema.Lookup(name)
		return leaf.ColumnIndex
	}
	cols := parquetColumns{
		time: col(ColSendTime), id: col(ColID), camp: col(ColCampaignID), phone: col(ColPhoneNumberID), recip: col(ColRecipient),
		failed: col(ColFailed), fam: col(ColErrorFamily), code: col(ColErrorCode), expl: col(ColExploration), stale: col(ColStale),
		feat: make([]int, len(names)),
	}
	for j, n := range names {
		cols.feat[j] = col(n)
	}
	file, err := atomicfile.Create(path)
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	return &ParquetWriter{
		path: path, names: names, file: file, cols: cols,
		w:    parquet.NewWriter(file, schema, parquet.Compression(&parquet.Zstd), parquet.MaxRowsPerRowGroup(ParquetRowGroupRows)),
		rows: make([]parquet.Row, 0, 256),
	}, nil
}

// Rows returns the number of rows written so far.
func (pw *ParquetWriter) Rows() int64 { return pw.n }

// Write appends the rows of t, whose feature names must be the
// writer's.
func (pw *ParquetWriter) Write(t *Table) error {
	if pw.w == nil {
		return fmt.Errorf("features: write %s: writer closed", pw.path)
	}
	if !slices.Equal(t.Names, pw.names) {
		return fmt.Errorf("features: write %s: table has %d features (%s...), the file %d", pw.path, len(t.Names), t.Names[:min(3, len(t.Names))], len(pw.names))
	}
	c := &pw.cols
	nf := len(t.Names)
	flush := func() error {
		if _, err := pw.w.WriteRows(pw.rows); err != nil {
			return fmt.Errorf("features: write %s: %w", pw.path, err)
		}
		pw.rows = pw.rows[:0]
		return nil
	}
	for i := range t.Rows {
		k := len(pw.rows)
		if k == len(pw.spare) {
			pw.spare = append(pw.spare, make(parquet.Row, 10+nf))
		}
		row := pw.spare[k] // the writer copies the values
		row[c.time] = parquet.Int64Value(t.Time[i]).Level(0, 0, c.time)
		row[c.id] = parquet.ByteArrayValue([]byte(t.ID[i])).Level(0, 0, c.id)
		row[c.camp] = parquet.ByteArrayValue([]byte(t.CampaignID[i])).Level(0, 0, c.camp)
		row[c.phone] = parquet.ByteArrayValue([]byte(t.PhoneNumberID[i])).Level(0, 0, c.phone)
		row[c.recip] = parquet.ByteArrayValue([]byte(t.Recipient[i])).Level(0, 0, c.recip)
		row[c.failed] = parquet.BooleanValue(t.Failed[i]).Level(0, 0, c.failed)
		row[c.fam] = parquet.ByteArrayValue([]byte(pipeline.Family(t.Family[i]).String())).Level(0, 0, c.fam)
		if t.Code[i] == pipeline.NoErrorCode {
			row[c.code] = parquet.NullValue().Level(0, 0, c.code)
		} else {
			row[c.code] = parquet.Int32Value(t.Code[i]).Level(0, 1, c.code)
		}
		row[c.expl] = parquet.BooleanValue(t.Exploration[i]).Level(0, 0, c.expl)
		row[c.stale] = parquet.BooleanValue(t.Stale[i]).Level(0, 0, c.stale)
		for j := range nf {
			row[c.feat[j]] = parquet.FloatValue(t.X[i*nf+j]).Level(0, 0, c.feat[j])
		}
		pw.rows = append(pw.rows, row)
		if len(pw.rows) == cap(pw.rows) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	pw.n += int64(t.Rows)
	return nil
}

// Close finishes the file and renames it into place.
func (pw *ParquetWriter) Close() (err error) {
	if pw.w == nil {
		return fmt.Errorf("features: write %s: writer closed", pw.path)
	}
	defer func() {
		if err != nil {
			pw.Abort()
		}
	}()
	w := pw.w
	pw.w = nil
	if err := w.Close(); err != nil {
		return fmt.Errorf("features: write %s: %w", pw.path, err)
	}
	if err := pw.file.Commit(); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	return nil
}

// Abort discards the temporary file; an earlier file at the path stays.
// It does nothing after a successful Close.
func (pw *ParquetWriter) Abort() {
	pw.w = nil
	pw.file.Abort()
}
