package features

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/parquet-go/parquet-go"

	"github.com/failcast/failcast/pipeline"
)

func smallTable(t *testing.T) *Table {
	t.Helper()
	g := smallGen(31)
	g.Messages = 400
	return buildAll(t, generateAll(g), DefaultConfig())
}

func firstFailed(t *testing.T, tab *Table) int {
	t.Helper()
	for i := range tab.Rows {
		if tab.Failed[i] {
			return i
		}
	}
	t.Fatal("no failed row")
	return -1
}

func TestRecord(t *testing.T) {
	tab := smallTable(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := tab.Record(mem)
	defer rec.Release()
	if int(rec.NumRows()) != tab.Rows || int(rec.NumCols()) != 10+len(tab.Names) {
		t.Fatalf("record %dx%d, want %dx%d", rec.NumRows(), rec.NumCols(), tab.Rows, 10+len(tab.Names))
	}
	i := firstFailed(t, tab)
	if got := rec.Column(1).(*array.String).Value(i); got != tab.ID[i] {
		t.Errorf("id %q, want %q", got, tab.ID[i])
	}
	if got := rec.Column(6).(*array.String).Value(i); got != pipeline.Family(tab.Family[i]).String() {
		t.Errorf("error_family %q", got)
	}
	if got := rec.Column(7).(*array.Int32).Value(i); got != tab.Code[i] {
		t.Errorf("error_code %d, want %d", got, tab.Code[i])
	}
	j := tab.Col("recipient_failed_30d")
	if got := rec.Column(10 + j).(*array.Float32).Value(i); got != tab.X[i*len(tab.Names)+j] {
		t.Errorf("recipient_failed_30d %v", got)
	}
	if rec.Schema().Field(10+j).Name != "recipient_failed_30d" {
		t.Errorf("field name %s", rec.Schema().Field(10+j).Name)
	}
}

func TestWriteParquet(t *testing.T) {
	tab := smallTable(t)
	path := filepath.Join(t.TempDir(), "out", "features.parquet")
	if err := WriteParquet(path, tab); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if int(pf.NumRows()) != tab.Rows {
		t.Fatalf("%d rows in file, want %d", pf.NumRows(), tab.Rows)
	}
	r := parquet.NewReader(pf)
	rows := make([]map[string]any, 0, tab.Rows)
	for {
		m := map[string]any{}
		if err := r.Read(&m); err != nil {
			break
		}
		rows = append(rows, m)
	}
	if len(rows) != tab.Rows {
		t.Fatalf("read %d rows, want %d", len(rows), tab.Rows)
	}
	i := firstFailed(t, tab)
	if rows[i][ColID] != tab.ID[i] || rows[i][ColFailed] != true {
		t.Errorf("row %d: %v %v", i, rows[i][ColID], rows[i][ColFailed])
	}
	if got := rows[i]["recipient_failed_30d"]; got != tab.At(i, "recipient_failed_30d") {
		t.Errorf("recipient_failed_30d = %v (%T), want %v", got, got, tab.At(i, "recipient_failed_30d"))
	}
	if got, ok := rows[i][ColErrorCode].(int32); !ok || got != tab.Code[i] {
		t.Errorf("error_code = %v (%T), want %d", rows[i][ColErrorCode], rows[i][ColErrorCode], tab.Code[i])
	}
}

func TestWriteParquetFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "features.parquet")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := smallTable(t)
	bad.Names = append([]string{ColID}, bad.Names[1:]...) // clashes with an identity column
	if err := WriteParquet(path, bad); err == nil {
		t.Fatal("no error for a clashing column name")
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("earlier file changed to %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

// TestParquetWriterChunks streams the chunks of a build into one file and
// reads every value back.
func TestParquetWriterChunks(t *testing.T) {
	g := smallGen(32)
	g.Messages, g.MeanGapUS, g.Recipients = 20000, 30e6, 3000
	events := generateAll(g)
	cfg := DefaultConfig()
	want := buildAll(t, events, cfg)
	path := filepath.Join(t.TempDir(), "features.parquet")
	pw, err := NewParquetWriter(path, Names())
	if err != nil {
		t.Fatal(err)
	}
	chunks := 0
	err = BuildTrainingChunks(context.Background(), &memSource{events: events}, cfg, 0, 0, func(c *Table) error {
		chunks++
		return pw.Write(c)
	})
	if err != nil {
		pw.Abort()
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if chunks < 2 || pw.Rows() != int64(want.Rows) {
		t.Fatalf("%d chunks, %d rows written, want >= 2 chunks and %d rows", chunks, pw.Rows(), want.Rows)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	r := parquet.NewReader(pf)
	for i := 0; ; i++ {
		m := map[string]any{}
		if err := r.Read(&m); err != nil {
			if i != want.Rows {
				t.Fatalf("read %d rows, want %d (%v)", i, want.Rows, err)
			}
			break
		}
		if m[ColID] != want.ID[i] || m[ColRecipient] != want.Recipient[i] || m[ColCampaignID] != want.CampaignID[i] || m[ColFailed] != want.Failed[i] {
			t.Fatalf("row %d: %v %v %v %v, want %s %s %s %v", i, m[ColID], m[ColRecipient], m[ColCampaignID], m[ColFailed], want.ID[i], want.Recipient[i], want.CampaignID[i], want.Failed[i])
		}
		for j, n := range want.Names {
			if m[n] != want.X[i*len(want.Names)+j] {
				t.Fatalf("row %d %s = %v, want %v", i, n, m[n], want.X[i*len(want.Names)+j])
			}
		}
	}
	if err := pw.Write(want); err == nil {
		t.Error("Write after Close: no error")
	}
}
