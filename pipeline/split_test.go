package pipeline

import (
	"cmp"
	"context"
	"path/filepath"
	"slices"
	"testing"
)

// TestScanSplitsRestoreScanOrder checks the contract of Splits and
// ScanSplit: events of all splits ordered by (Timestamp, Rank, position)
// are exactly Scan's events, in Scan's order, also when files overlap in
// time, share timestamps and are cut into many row groups.
func TestScanSplitsRestoreScanOrder(t *testing.T) {
	dir := t.TempDir()
	// Coarse steps make equal timestamps across files; the three files
	// overlap in time, and one starts after the others.
	writeHistory(t, filepath.Join(dir, "a.parquet"), genEvents(3000, 1, day0, 1, 200), WriteOptions{RowGroupRows: 500})
	writeHistory(t, filepath.Join(dir, "b.parquet"), genEvents(2000, 2, day0, 2, 200), WriteOptions{RowGroupRows: 300})
	writeHistory(t, filepath.Join(dir, "c.parquet"), genEvents(1000, 3, day0+1000, 1, 200), WriteOptions{RowGroupRows: 700})
	cases := []struct {
		name string
		opts ScanOptions
	}{
		{"all", ScanOptions{}},
		{"time range and projection", ScanOptions{From: day0 + 500, To: day0 + 3000, Columns: []string{ColTimestamp, ColMessageID, ColWABAID}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, err := scanAll(t, dir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			d, err := OpenDataset(dir)
			if err != nil {
				t.Fatal(err)
			}
			splits, err := d.Splits(context.Background(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(splits) < 3 {
				t.Fatalf("%d splits, want one per row group", len(splits))
			}
			type keyed struct {
				e         Event
				rank, pos int
			}
			var got []keyed
			for _, s := range splits {
				pos := 0
				err := ScanSplit(context.Background(), s, tc.opts, func(b []Event) error {
					for _, e := range b {
						got = append(got, keyed{e, s.Rank, pos})
						pos++
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			slices.SortFunc(got, func(a, b keyed) int {
				return cmp.Or(cmp.Compare(a.e.Timestamp, b.e.Timestamp), cmp.Compare(a.rank, b.rank), cmp.Compare(a.pos, b.pos))
			})
			events := make([]Event, len(got))
			for i := range got {
				events[i] = got[i].e
			}
			diffEvents(t, events, want)
		})
	}
}

// TestScanSplitChangedFile: a split planned on a file that has changed
// since is refused, not read as if it were the planned row group.
func TestScanSplitChangedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.parquet")
	writeHistory(t, path, genEvents(1000, 1, day0, 1000, 50), WriteOptions{RowGroupRows: 400})
	d, err := OpenDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	splits, err := d.Splits(context.Background(), ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeHistory(t, path, genEvents(1000, 1, day0, 1000, 50), WriteOptions{RowGroupRows: 300})
	err = ScanSplit(context.Background(), splits[0], ScanOptions{}, func([]Event) error { return nil })
	if err == nil {
		t.Fatal("a split of a rewritten file was scanned without error")
	}
}
