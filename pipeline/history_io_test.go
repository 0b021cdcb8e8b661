package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// day0 is 2026-09-21T00:00:00Z in micros.
var day0 = time.Date(2026, 9, 21, 0, 0, 0, 0, time.UTC).UnixMicro()

// writeHistory writes events to one file and fails the test on error.
func writeHistory(t testing.TB, path string, events []Event, opts WriteOptions) {
	t.Helper()
	w, err := NewHistoryWriter(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Write in uneven batches to cross row-group boundaries mid-batch.
	for len(events) > 0 {
		n := min(len(events), 333)
		if err := w.Write(events[:n]); err != nil {
			w.Abort()
			t.Fatal(err)
		}
		events = events[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// scanAll scans a dataset and returns copies of all events.
func scanAll(t testing.TB, spec string, opts ScanOptions) ([]Event, error) {
	t.Helper()
	d, err := OpenDataset(spec)
	if err != nil {
		return nil, err
	}
	var got []Event
	err = d.Scan(context.Background(), opts, func(b []Event) error {
		got = append(got, b...)
		return nil
	})
	return got, err
}

// diffEvents reports the first difference between two event lists.
func diffEvents(t *testing.T, got, want []Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestHistoryRoundTrip(t *testing.T) {
	events := genEvents(5000, 1, day0, 200_000_000, 300) // ~11 days
	// Edge values: empty strings, zero error code, exploration.
	events[10].ErrorCode, events[10].Status, events[10].ErrorTitle = 0, StatusFailed, ""
	events[11].MediaBytes = 0
	events[12].Exploration = true
	tests := []struct {
		name        string
		partitioned bool
		opts        WriteOptions
		batch       int
	}{
		{"single file, default row groups", false, WriteOptions{}, 0},
		{"single file, small row groups", false, WriteOptions{RowGroupRows: 700}, 100},
		{"partitioned", true, WriteOptions{RowGroupRows: 256}, 999},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			spec := filepath.Join(dir, "h.parquet")
			if tc.partitioned {
				spec = filepath.Join(dir, "history")
				w, err := NewPartitionedHistoryWriter(spec, tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				if err := w.Write(events); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				writeHistory(t, spec, events, tc.opts)
			}
			got, err := scanAll(t, spec, ScanOptions{BatchSize: tc.batch})
			if err != nil {
				t.Fatal(err)
			}
			diffEvents(t, got, events)
		})
	}
}

func TestPartitionLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "history")
	events := genEvents(300, 2, day0-1000, 1_000_000_000, 50) // spans 4 days
	w, err := NewPartitionedHistoryWriter(dir, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(events); err != nil {
		t.Fatal(err)
	}
	// Nothing is visible before Close.
	if m, _ := filepath.Glob(filepath.Join(dir, "dt=*", "*.parquet")); len(m) != 0 {
		t.Fatalf("partition files visible before Close: %v", m)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for day := dayOf(events[0].Timestamp); day <= dayOf(events[len(events)-1].Timestamp); day++ {
		want = append(want, PartitionPath(dir, time.UnixMicro(day*microsPerDay)))
	}
	if !slices.Equal(d.Files(), want) {
		t.Fatalf("files %v, want %v", d.Files(), want)
	}
	if p := PartitionPath(dir, time.Date(2026, 9, 20, 23, 59, 0, 0, time.UTC)); p != filepath.Join(dir, "dt=2026-09-20", "part-0.parquet") {
		t.Fatalf("PartitionPath = %s, want dt=2026-09-20/part-0.parquet", p)
	}
	// Every file holds only its own day.
	for _, f := range want {
		got, err := scanAll(t, f, ScanOptions{Columns: []string{ColTimestamp}})
		if err != nil {
			t.Fatal(err)
		}
		day, _ := partitionDay(f)
		for _, e := range got {
			if dayOf(e.Timestamp) != day {
				t.Fatalf("%s holds timestamp %d of another day", f, e.Timestamp)
			}
		}
	}
}

func TestScanProjection(t *testing.T) {
	events := genEvents(2000, 3, day0, 1_000_000, 100)
	path := filepath.Join(t.TempDir(), "h.parquet")
	writeHistory(t, path, events, WriteOptions{RowGroupRows: 500})
	tests := []struct {
		name    string
		columns []string
		project func(e Event) Event
	}{
		{"hot four", []string{ColTimestamp, ColRecipient, ColStatus, ColErrorCode}, func(e Event) Event {
			return Event{Timestamp: e.Timestamp, Recipient: e.Recipient, Status: e.Status, ErrorCode: e.ErrorCode, MediaBytes: NoMediaBytes}
		}},
		{"without timestamp", []string{ColEventID, ColMediaBytes, ColExploration}, func(e Event) Event {
			return Event{EventID: e.EventID, MediaBytes: e.MediaBytes, Exploration: e.Exploration, ErrorCode: NoErrorCode}
		}},
		{"strings", []string{ColTemplate, ColLanguage, ColErrorTitle, ColErrorDetails, ColCountry}, func(e Event) Event {
			return Event{Template: e.Template, Language: e.Language, ErrorTitle: e.ErrorTitle, ErrorDetails: e.ErrorDetails,
				Country: e.Country, ErrorCode: NoErrorCode, MediaBytes: NoMediaBytes}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scanAll(t, path, ScanOptions{Columns: tc.columns})
			if err != nil {
				t.Fatal(err)
			}
			want := make([]Event, len(events))
			for i, e := range events {
				want[i] = tc.project(e)
			}
			diffEvents(t, got, want)
		})
	}
	if _, err := scanAll(t, path, ScanOptions{Columns: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("unknown column: err = %v, want it named", err)
	}
}

func TestScanTimeRangePruning(t *testing.T) {
	events := genEvents(4000, 4, day0, 100_000_000, 200) // ~4.6 days
	dir := t.TempDir()
	part := filepath.Join(dir, "history")
	w, err := NewPartitionedHistoryWriter(part, WriteOptions{RowGroupRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(events); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	single := filepath.Join(dir, "single.parquet")
	writeHistory(t, single, events, WriteOptions{RowGroupRows: 100})

	from := day0 + microsPerDay + 3*3600e6
	to := day0 + 2*microsPerDay
	var want []Event
	for _, e := range events {
		if e.Timestamp >= from && e.Timestamp < to {
			want = append(want, e)
		}
	}
	tests := []struct {
		name            string
		spec            string
		from, to        int64
		wantFilesPruned int64
		maxGroupsRead   int64
		want            []Event
	}{
		{"partitions and row groups", part, from, to, 4, 10, want},
		{"row groups of one file", single, from, to, 0, 10, want},
		{"open end", single, events[3900].Timestamp, 0, 0, 2, events[3900:]},
		{"open start", single, 0, events[150].Timestamp, 0, 2, events[:150]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var st ScanStats
			got, err := scanAll(t, tc.spec, ScanOptions{From: tc.from, To: tc.to, Stats: &st})
			if err != nil {
				t.Fatal(err)
			}
			// Equal timestamps at the boundary make the expected slices exact
			// only when cut at a timestamp change; filter again to be exact.
			var want []Event
			for _, e := range events {
				if e.Timestamp >= tc.from && (tc.to == 0 || e.Timestamp < tc.to) {
					want = append(want, e)
				}
			}
			diffEvents(t, got, want)
			if st.FilesPruned.Load() != tc.wantFilesPruned {
				t.Errorf("files pruned %d, want %d", st.FilesPruned.Load(), tc.wantFilesPruned)
			}
			if r := st.RowGroupsRead.Load(); r > tc.maxGroupsRead || r == 0 {
				t.Errorf("row groups read %d, want 1..%d", r, tc.maxGroupsRead)
			}
			if st.RowGroupsPruned.Load() == 0 {
				t.Errorf("no row group pruned")
			}
			if st.RowsEmitted.Load() != int64(len(want)) {
				t.Errorf("rows emitted %d, want %d", st.RowsEmitted.Load(), len(want))
			}
		})
	}
}

func TestTimeRange(t *testing.T) {
	events := genEvents(1000, 5, day0, 10_000_000, 100)
	path := filepath.Join(t.TempDir(), "h.parquet")
	writeHistory(t, path, events, WriteOptions{RowGroupRows: 300})
	d, err := OpenDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi, rows, err := d.TimeRange(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if lo != events[0].Timestamp || hi != events[len(events)-1].Timestamp || rows != int64(len(events)) {
		t.Fatalf("TimeRange = %d, %d, %d; want %d, %d, %d", lo, hi, rows, events[0].Timestamp, events[len(events)-1].Timestamp, len(events))
	}
}

func TestHistoryWriterOrder(t *testing.T) {
	events := genEvents(10, 6, day0, 1000, 5)
	events[7].Timestamp = events[6].Timestamp - 1
	tests := []struct {
		name  string
		write func(dir string) error
	}{
		{"single", func(dir string) error {
			w, err := NewHistoryWriter(filepath.Join(dir, "h.parquet"), WriteOptions{})
			if err != nil {
				return err
			}
			defer w.Abort()
			if err := w.Write(events[:5]); err != nil {
				return err
			}
			return w.Write(events[5:])
		}},
		{"partitioned", func(dir string) error {
			w, err := NewPartitionedHistoryWriter(filepath.Join(dir, "p"), WriteOptions{})
			if err != nil {
				return err
			}
			defer w.Abort()
			if err := w.Write(events[:5]); err != nil {
				return err
			}
			return w.Write(events[5:])
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			err := tc.write(dir)
			if err == nil || !strings.Contains(err.Error(), "row 7 ") {
				t.Fatalf("err = %v, want it to name row 7", err)
			}
			assertNoFiles(t, dir)
		})
	}
}

// assertNoFiles fails if any regular file exists below dir.
func assertNoFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			t.Errorf("file left behind: %s", p)
		}
		return nil
	})
}

func TestHistoryWriterAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h.parquet")
	first := genEvents(100, 7, day0, 1000, 10)
	writeHistory(t, path, first, WriteOptions{})
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// Abort leaves the earlier file and no temporary file.
	w, err := NewHistoryWriter(path, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(genEvents(50, 8, day0, 1000, 10)); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	// A failed write: Close reports the error and keeps the earlier file.
	w, err = NewHistoryWriter(path, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bad := genEvents(5, 9, day0, 1000, 10)
	bad[3].Status = StatusUnknown
	if err := w.Write(bad); err == nil || !strings.Contains(err.Error(), "row 3") {
		t.Fatalf("Write with unknown status: err = %v, want row 3 named", err)
	}
	w.Abort()
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, after) {
		t.Fatal("earlier file changed")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only h.parquet", len(entries))
	}
	got, err := scanAll(t, path, ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	diffEvents(t, got, first)

	// Abort of a partitioned writer leaves nothing.
	pdir := filepath.Join(t.TempDir(), "p")
	pw, err := NewPartitionedHistoryWriter(pdir, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pw.Write(genEvents(200, 10, day0, 3_000_000_000, 10)); err != nil {
		t.Fatal(err)
	}
	if err := pw.Abort(); err != nil {
		t.Fatal(err)
	}
	assertNoFiles(t, pdir)
}

func TestOpenDatasetSpecs(t *testing.T) {
	dir := t.TempDir()
	events := genEvents(30, 11, day0, 1000, 10)
	for _, p := range []string{"a/x.parquet", "a/y.parquet", "b/z.parquet", "a/.hidden.parquet", "a/_tmp/q.parquet"} {
		writeHistory(t, filepath.Join(dir, p), events, WriteOptions{})
	}
	os.WriteFile(filepath.Join(dir, "a", "notes.txt"), []byte("x"), 0o644)
	tests := []struct {
		spec string
		want []string
	}{
		{filepath.Join(dir, "a", "x.parquet"), []string{"a/x.parquet"}},
		{filepath.Join(dir, "a"), []string{"a/x.parquet", "a/y.parquet"}},
		{dir, []string{"a/x.parquet", "a/y.parquet", "b/z.parquet"}},
		{filepath.Join(dir, "*", "*.parquet"), []string{"a/x.parquet", "a/y.parquet", "b/z.parquet"}},
		{filepath.Join(dir, "[ab]"), []string{"a/x.parquet", "a/y.parquet", "b/z.parquet"}},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			d, err := OpenDataset(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, filepath.Join(dir, w))
			}
			if !slices.Equal(d.Files(), want) {
				t.Fatalf("Files() = %v, want %v", d.Files(), want)
			}
		})
	}
	for _, spec := range []string{filepath.Join(dir, "missing"), filepath.Join(dir, "*.csv"), filepath.Join(dir, "a", "_tmp", "none")} {
		if _, err := OpenDataset(spec); err == nil || !strings.Contains(err.Error(), spec) {
			t.Errorf("OpenDataset(%s): err = %v, want an error naming the spec", spec, err)
		}
	}
}

func TestScanCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.parquet")
	writeHistory(t, path, genEvents(3000, 12, day0, 1000, 10), WriteOptions{RowGroupRows: 500})
	d, err := OpenDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err = d.Scan(ctx, ScanOptions{BatchSize: 100}, func(b []Event) error {
		calls++
		if calls == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 3 {
		t.Fatalf("err = %v after %d calls, want context.Canceled after 3", err, calls)
	}
	stop := errors.New("stop")
	err = d.Scan(context.Background(), ScanOptions{BatchSize: 100}, func(b []Event) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the callback's error", err)
	}
}

func TestScanConcurrent(t *testing.T) {
	dir := t.TempDir()
	events := genEvents(3000, 13, day0, 1_000_000, 100)
	writeHistory(t, filepath.Join(dir, "a.parquet"), events[:2000], WriteOptions{RowGroupRows: 300})
	writeHistory(t, filepath.Join(dir, "b.parquet"), events[1500:], WriteOptions{RowGroupRows: 300})
	d, err := OpenDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 4)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.Scan(context.Background(), ScanOptions{BatchSize: 128}, func(b []Event) error {
				counts[i] += len(b)
				return nil
			})
		}()
	}
	wg.Wait()
	for i := range counts {
		if errs[i] != nil || counts[i] != 3500 {
			t.Errorf("scan %d: %d rows, err %v; want 3500 rows", i, counts[i], errs[i])
		}
	}
}
