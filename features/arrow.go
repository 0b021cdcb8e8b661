package features

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// TrainingSchema is the Arrow schema of TrainingRecord for these
// feature names: send_time (UTC µs timestamp), failed, error_family (the
// pipeline.Family number), error_code (pipeline.NoErrorCode when none),
// then one float32 column per feature, in order.
func TrainingSchema(names []string) *arrow.Schema {
	fields := []arrow.Field{
		{Name: ColSendTime, Type: arrow.FixedWidthTypes.Timestamp_us},
		{Name: ColFailed, Type: arrow.FixedWidthTypes.Boolean},
		{Name: ColErrorFamily, Type: arrow.PrimitiveTypes.Uint8},
		{Name: ColErrorCode, Type: arrow.PrimitiveTypes.Int32},
	}
	for _, n := range names {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float32})
	}
	return arrow.NewSchema(fields, nil)
}

// TrainingFeatureCol is the column of the first feature in a
// TrainingRecord; feature j is column TrainingFeatureCol+j.
const TrainingFeatureCol = 4

// TrainingRecord returns the given rows of t (nil: all, else ascending
// or not, each at most once) as one Arrow record batch of
// TrainingSchema(t.Names): the columns a model is trained on, feature
// values column by column (the layout binning reads). The caller
// releases the record.
func (t *Table) TrainingRecord(mem memory.Allocator, schema *arrow.Schema, rows []int32) (arrow.Record, error) {
	nf := len(t.Names)
	if schema.NumFields() != TrainingFeatureCol+nf {
		return nil, fmt.Errorf("features: training record: schema has %d fields, want %d for %d features", schema.NumFields(), TrainingFeatureCol+nf, nf)
	}
	n := len(rows)
	if rows == nil {
		n = t.Rows
	}
	row := func(k int) int {
		if rows == nil {
			return k
		}
		return int(rows[k])
	}
	times := make([]int64, n)
	failed := make([]bool, n)
	family := make([]uint8, n)
	code := make([]int32, n)
	for k := range n {
		i := row(k)
		times[k], failed[k], family[k], code[k] = t.Time[i], t.Failed[i], t.Family[i], t.Code[i]
	}
	cols := make([]arrow.Array, 0, TrainingFeatureCol+nf)
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	cols = append(cols, fixedArray(arrow.FixedWidthTypes.Timestamp_us, n, arrow.TimestampTraits.CastToBytes(asTimestamps(times))))
	fb := array.NewBooleanBuilder(mem)
	fb.AppendValues(failed, nil)
	cols = append(cols, fb.NewArray())
	fb.Release()
	cols = append(cols, fixedArray(arrow.PrimitiveTypes.Uint8, n, family))
	cols = append(cols, fixedArray(arrow.PrimitiveTypes.Int32, n, arrow.Int32Traits.CastToBytes(code)))
	// Feature values: a transpose of the row-major X, block by block so
	// that the rows read stay in cache while every column is written.
	vals := make([][]float32, nf)
	for j := range vals {
		vals[j] = make([]float32, n)
	}
	const block = 256
	for lo := 0; lo < n; lo += block {
		hi := min(lo+block, n)
		for j := range nf {
			dst := vals[j]
			for k := lo; k < hi; k++ {
				dst[k] = t.X[row(k)*nf+j]
			}
		}
	}
	for j := range nf {
		cols = append(cols, fixedArray(arrow.PrimitiveTypes.Float32, n, arrow.Float32Traits.CastToBytes(vals[j])))
	}
	return array.NewRecord(schema, cols, int64(n)), nil
}

// fixedArray is an array of n fixed-width values without nulls, over
// buf (Go memory, no copy).
func fixedArray(dt arrow.DataType, n int, buf []byte) arrow.Array {
	d := array.NewData(dt, n, []*memory.Buffer{nil, memory.NewBufferBytes(buf)}, nil, 0, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

func asTimestamps(v []int64) []arrow.Timestamp {
	out := make([]arrow.Timestamp, len(v))
	for i, x := range v {
		out[i] = arrow.Timestamp(x)
	}
	return out
}
