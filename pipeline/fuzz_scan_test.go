package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzScanHistory feeds arbitrary bytes to the history reader: it must
// return an error naming the file or valid events, and never panic.
func FuzzScanHistory(f *testing.F) {
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed.parquet")
	writeHistory(f, seed, genEvents(50, 31, day0, 1000, 10), WriteOptions{RowGroupRows: 20})
	valid, err := os.ReadFile(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(append(bytes.Clone(valid[:4]), valid[len(valid)-64:]...))
	f.Add([]byte("PAR1"))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := scanAll(t, path, ScanOptions{})
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for i := 1; i < len(got); i++ {
			if got[i].Timestamp < got[i-1].Timestamp {
				t.Fatalf("rows out of order at %d", i)
			}
		}
		for _, e := range got {
			if e.Status == StatusUnknown {
				t.Fatalf("row with unknown status accepted: %+v", e)
			}
		}
	})
}
