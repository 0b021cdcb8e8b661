package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
)

// partitioned writes events spanning several days as a partitioned
// dataset and returns its directory.
func partitioned(t *testing.T, events []Event) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "history")
	w, err := NewPartitionedHistoryWriter(dir, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(events); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func dayPath(dir string, dayOffset int, name string) string {
	return filepath.Join(dir, "dt="+time.UnixMicro(day0).UTC().AddDate(0, 0, dayOffset).Format(time.DateOnly), name)
}

// Issue 12 item 8: a copy of a partition file in its directory used to be
// read twice (15,636 -> 19,869 rows). Copies are now an input error
// naming both files, whether byte copies or rewrites of the same events.
func TestFaultDuplicatePartitionFile(t *testing.T) {
	events := genEvents(3000, 5, day0, 100_000_000, 200) // ~3.5 days
	tests := []struct {
		name string
		copy func(t *testing.T, dir string)
		how  string
	}{
		{"byte copy", func(t *testing.T, dir string) {
			b, err := os.ReadFile(dayPath(dir, 1, "part-0.parquet"))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(dayPath(dir, 1, "part-0 (copy).parquet"), b, 0o644)
		}, "same size and row groups"},
		{"same events written again", func(t *testing.T, dir string) {
			var day []Event
			for _, e := range events {
				if dayOf(e.Timestamp) == dayOf(day0)+1 {
					day = append(day, e)
				}
			}
			writeHistory(t, dayPath(dir, 1, "part-1.parquet"), day, WriteOptions{RowGroupRows: 100})
		}, "same event ids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := partitioned(t, events)
			tt.copy(t, dir)
			_, err := scanAll(t, dir, ScanOptions{})
			var de *DuplicateFileError
			if !errors.As(err, &de) || exitcode.Of(err) != exitcode.Input || de.How != tt.how ||
				!strings.Contains(err.Error(), "part-0.parquet") {
				t.Fatalf("scan: %v, want a duplicate file error (%s)", err, tt.how)
			}
			d, _ := OpenDataset(dir)
			if _, _, _, err := d.TimeRange(t.Context()); !errors.As(err, &de) {
				t.Errorf("TimeRange: %v", err)
			}
		})
	}
	// Two different files with the same row count and range are fine.
	dir := partitioned(t, events)
	day := []Event{}
	for _, e := range events {
		if dayOf(e.Timestamp) == dayOf(day0)+1 {
			day = append(day, e)
		}
	}
	for i := range day {
		day[i].EventID += "x"
	}
	writeHistory(t, dayPath(dir, 1, "part-1.parquet"), day, WriteOptions{})
	if got, err := scanAll(t, dir, ScanOptions{}); err != nil || len(got) != len(events)+len(day) {
		t.Errorf("distinct files: %d events, %v", len(got), err)
	}
}

// Issue 12 item 8: rows under the wrong dt= directory used to be dropped
// by a time range that pruned their directory. They are now read, and the
// file is named as misfiled.
func TestFaultMisfiledRowsNotDropped(t *testing.T) {
	events := genEvents(2000, 6, day0, 100_000_000, 100)
	dir := partitioned(t, events)
	// Day 3's rows, filed under day 0.
	var late []Event
	for _, e := range events {
		if dayOf(e.Timestamp) == dayOf(day0)+1 {
			e.EventID += "-late"
			e.Timestamp += 2 * microsPerDay
			late = append(late, e)
		}
	}
	misfiled := dayPath(dir, 0, "part-9.parquet")
	writeHistory(t, misfiled, late, WriteOptions{})
	from := day0 + 3*microsPerDay
	got, err := scanAll(t, dir, ScanOptions{From: from})
	if err != nil {
		t.Fatal(err)
	}
	want := len(late)
	for _, e := range events {
		if e.Timestamp >= from {
			want++
		}
	}
	if len(got) != want {
		t.Errorf("scan from day 3: %d events, want %d (the misfiled rows included)", len(got), want)
	}
	d, _ := OpenDataset(dir)
	if err := d.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	if m := d.Misfiled(); len(m) != 1 || m[0].File != misfiled || m[0].Day != "2026-09-21" {
		t.Errorf("misfiled %+v", m)
	}
}
