package features

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/parquet-go/parquet-go"

	"github.com/failcast/failcast/pipeline"
)

// ReadParquet reads a feature table written by WriteParquet or a
// ParquetWriter (train --features-out, or a table built elsewhere, such
// as scale/beam's training-table pipeline) back into memory, in its row
// order. Its feature columns must be exactly this build's (Names(), in
// registry order, checked by name); a missing or extra column, or a value
// of the wrong type, is an error naming the file, column and row.
func ReadParquet(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("features: read %s: %w", path, err)
	}
	names := Names()
	want, err := parquetSchema(names)
	if err != nil {
		return nil, err
	}
	got := pf.Schema()
	if !parquet.EqualNodes(got, want) {
		var have []string
		for _, c := range got.Columns() {
			have = append(have, c[0])
		}
		return nil, fmt.Errorf("features: read %s: its columns (%d: %v) are not the feature table of this build (%d features, schema %s)",
			path, len(have), have[:min(len(have), 12)], len(names), SchemaHash())
	}
	col := func(name string) int {
		leaf, _ := want.Lookup(name)
		return leaf.ColumnIndex
	}
	c := parquetColumns{
		time: col(ColSendTime), id: col(ColID), camp: col(ColCampaignID), phone: col(ColPhoneNumberID), recip: col(ColRecipient),
		failed: col(ColFailed), fam: col(ColErrorFamily), code: col(ColErrorCode), expl: col(ColExploration), stale: col(ColStale),
		feat: make([]int, len(names)),
	}
	for j, n := range names {
		c.feat[j] = col(n)
	}
	n := int(pf.NumRows())
	nf := len(names)
	t := &Table{Names: names, Rows: n, X: make([]float32, 0, n*nf),
		Time: make([]int64, 0, n), ID: make([]string, 0, n), CampaignID: make([]string, 0, n), PhoneNumberID: make([]string, 0, n),
		Recipient: make([]string, 0, n), Failed: make([]bool, 0, n), Family: make([]uint8, 0, n), Code: make([]int32, 0, n),
		Exploration: make([]bool, 0, n), Stale: make([]bool, 0, n)}
	r := parquet.NewReader(pf)
	defer r.Close()
	buf := make([]parquet.Row, 512)
	row := 0
	for {
		k, err := r.ReadRows(buf)
		for _, v := range buf[:k] {
			fam, ferr := pipeline.ParseFamily(v[c.fam].String())
			if ferr != nil {
				return nil, fmt.Errorf("features: read %s: row %d: column %s: %w", path, row+1, ColErrorFamily, ferr)
			}
			t.Time = append(t.Time, v[c.time].Int64())
			t.ID = append(t.ID, v[c.id].String())
			t.CampaignID = append(t.CampaignID, v[c.camp].String())
			t.PhoneNumberID = append(t.PhoneNumberID, v[c.phone].String())
			t.Recipient = append(t.Recipient, v[c.recip].String())
			t.Failed = append(t.Failed, v[c.failed].Boolean())
			t.Family = append(t.Family, uint8(fam))
			code := pipeline.NoErrorCode
			if !v[c.code].IsNull() {
				code = v[c.code].Int32()
			}
			t.Code = append(t.Code, code)
			t.Exploration = append(t.Exploration, v[c.expl].Boolean())
			t.Stale = append(t.Stale, v[c.stale].Boolean())
			for _, j := range c.feat {
				t.X = append(t.X, v[j].Float())
			}
			row++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("features: read %s: row %d: %w", path, row+1, err)
		}
	}
	if row != n {
		return nil, fmt.Errorf("features: read %s: %d rows read, the footer says %d", path, row, n)
	}
	if !slices.IsSorted(t.Time) {
		return nil, fmt.Errorf("features: read %s: rows are not in send_time order", path)
	}
	return t, nil
}
