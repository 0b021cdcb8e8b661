package pipeline

import (
	"context"
	"path/filepath"
	"testing"
)

// A string column whose every value is empty is written as a page of nulls
// with no values at all; reading it back must give empty strings, not a
// "corrupt page" error.
func TestScanNullOnlyStringColumns(t *testing.T) {
	events := genEvents(100, 7, 1_790_000_000_000_000, 1_000_000, 10)
	for i := range events {
		events[i].ErrorTitle, events[i].ErrorDetails, events[i].Template = "", "", ""
	}
	path := filepath.Join(t.TempDir(), "h.parquet")
	w, err := NewHistoryWriter(path, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(events); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ds, err := OpenDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = ds.Scan(context.Background(), ScanOptions{}, func(b []Event) error {
		for i := range b {
			if b[i].ErrorTitle != "" || b[i].Template != "" {
				t.Fatalf("row %d: got %q, %q; want empty strings", n+i, b[i].ErrorTitle, b[i].Template)
			}
		}
		n += len(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(events) {
		t.Fatalf("read %d rows, want %d", n, len(events))
	}
}
