package features

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/parquet-go/parquet-go"

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
func WriteParquet(path string, t *Table) (err error) {
	schema, err := parquetSchema(t.Names)
	if err != nil {
		return err
	}
	col := func(name string) int {
		leaf, _ := schema.Lookup(name)
		return leaf.ColumnIndex
	}
	cTime, cID, cCamp, cPhone, cRecip := col(ColSendTime), col(ColID), col(ColCampaignID), col(ColPhoneNumberID), col(ColRecipient)
	cFailed, cFam, cCode, cExpl, cStale := col(ColFailed), col(ColErrorFamily), col(ColErrorCode), col(ColExploration), col(ColStale)
	feat := make([]int, len(t.Names))
	for j, n := range t.Names {
		feat[j] = col(n)
	}

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("features: write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("features: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	buf := bufio.NewWriterSize(tmp, 1<<20)
	w := parquet.NewWriter(buf, schema, parquet.Compression(&parquet.Zstd))
	nf := len(t.Names)
	rows := make([]parquet.Row, 0, 256)
	flush := func() error {
		if _, err := w.WriteRows(rows); err != nil {
			return fmt.Errorf("features: write %s: %w", path, err)
		}
		rows = rows[:0]
		return nil
	}
	for i := range t.Rows {
		row := make(parquet.Row, 10+nf)
		row[cTime] = parquet.Int64Value(t.Time[i]).Level(0, 0, cTime)
		row[cID] = parquet.ByteArrayValue([]byte(t.ID[i])).Level(0, 0, cID)
		row[cCamp] = parquet.ByteArrayValue([]byte(t.CampaignID[i])).Level(0, 0, cCamp)
		row[cPhone] = parquet.ByteArrayValue([]byte(t.PhoneNumberID[i])).Level(0, 0, cPhone)
		row[cRecip] = parquet.ByteArrayValue([]byte(t.Recipient[i])).Level(0, 0, cRecip)
		row[cFailed] = parquet.BooleanValue(t.Failed[i]).Level(0, 0, cFailed)
		row[cFam] = parquet.ByteArrayValue([]byte(pipeline.Family(t.Family[i]).String())).Level(0, 0, cFam)
		if t.Code[i] == pipeline.NoErrorCode {
			row[cCode] = parquet.NullValue().Level(0, 0, cCode)
		} else {
			row[cCode] = parquet.Int32Value(t.Code[i]).Level(0, 1, cCode)
		}
		row[cExpl] = parquet.BooleanValue(t.Exploration[i]).Level(0, 0, cExpl)
		row[cStale] = parquet.BooleanValue(t.Stale[i]).Level(0, 0, cStale)
		for j := range nf {
			row[feat[j]] = parquet.FloatValue(t.X[i*nf+j]).Level(0, 0, feat[j])
		}
		rows = append(rows, row)
		if len(rows) == cap(rows) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("features: write %s: %w", path, err)
	}
	if err := buf.Flush(); err != nil {
		return fmt.Errorf("features: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("features: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("features: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("features: write %s: %w", path, err)
	}
	return nil
}
