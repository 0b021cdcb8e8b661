package pipeline

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/failcast/failcast/internal/cputime"
)

// writeDays writes about perDay synthetic events on each of days UTC days
// through w, generating them in small batches so the generator holds
// little memory. It returns the number of events written.
func writeDays(tb testing.TB, w *PartitionedHistoryWriter, seed uint64, days, perDay int, afterBatch func()) int64 {
	tb.Helper()
	end := day0 + int64(days)*microsPerDay
	g := newEventGen(seed, day0, microsPerDay/int64(perDay), 1000)
	batch := make([]Event, 4096)
	var n int64
	for {
		g.next(batch)
		k := len(batch)
		for k > 0 && batch[k-1].Timestamp >= end {
			k--
		}
		if err := w.Write(batch[:k]); err != nil {
			w.Abort()
			tb.Fatal(err)
		}
		n += int64(k)
		if afterBatch != nil {
			afterBatch()
		}
		if k < len(batch) {
			return n
		}
	}
}

// BenchmarkPartitionedWriteDays writes 3 and 30 days of history through
// one PartitionedHistoryWriter and reports the peak heap in use while
// writing and the live heap just before Close. Both should not grow with
// the number of days. FAILCAST_BENCH_EVENTS_PER_DAY sets the events per
// day (default 50000).
func BenchmarkPartitionedWriteDays(b *testing.B) {
	perDay := 50_000
	if s := os.Getenv("FAILCAST_BENCH_EVENTS_PER_DAY"); s != "" {
		perDay, _ = strconv.Atoi(s)
	}
	for _, days := range []int{3, 30} {
		b.Run("days="+strconv.Itoa(days), func(b *testing.B) {
			var peak, live uint64
			var rows int64
			cpu0 := cputime.Seconds()
			for i := 0; i < b.N; i++ {
				runtime.GC()
				stop, done := make(chan struct{}), make(chan uint64)
				go func() { // sample the heap while writing
					var p uint64
					var ms runtime.MemStats
					tick := time.NewTicker(20 * time.Millisecond)
					defer tick.Stop()
					for {
						select {
						case <-stop:
							done <- p
							return
						case <-tick.C:
							runtime.ReadMemStats(&ms)
							p = max(p, ms.HeapInuse)
						}
					}
				}()
				w, err := NewPartitionedHistoryWriter(b.TempDir(), WriteOptions{})
				if err != nil {
					b.Fatal(err)
				}
				rows += writeDays(b, w, 44, days, perDay, nil)
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				live = max(live, ms.HeapAlloc)
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				close(stop)
				peak = max(peak, <-done, ms.HeapInuse)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-inuse-MB")
			b.ReportMetric(float64(live)/(1<<20), "live-heap-before-close-MB")
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(rows)/(cputime.Seconds()-cpu0), "rows/cpu_s")
		})
	}
}

func TestPartitionedWriterOneOpenFile(t *testing.T) {
	events := genEvents(3000, 11, day0-5000, 400_000_000, 100) // ~14 days
	days := int(dayOf(events[len(events)-1].Timestamp)-dayOf(events[0].Timestamp)) + 1
	tests := []struct {
		name  string
		batch int
		opts  WriteOptions
	}{
		{"one row per write", 1, WriteOptions{}},
		{"batches across days", 700, WriteOptions{RowGroupRows: 64}},
		{"one write", len(events), WriteOptions{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "history")
			w, err := NewPartitionedHistoryWriter(dir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			first := dayOf(events[0].Timestamp)
			for rest := events; len(rest) > 0; {
				n := min(tc.batch, len(rest))
				if err := w.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				last := rest[n-1].Timestamp
				rest = rest[n:]
				if got := w.openFiles(); got != 1 {
					t.Fatalf("after row %d: %d partition files open, want 1", len(events)-len(rest), got)
				}
				if got, want := len(w.pending), int(dayOf(last)-first); got != want {
					t.Fatalf("after row %d: %d finished partitions, want %d", len(events)-len(rest), got, want)
				}
				for _, f := range w.pending { // finished, on disk, not yet in place
					if _, err := os.Stat(f.TempName()); err != nil {
						t.Fatalf("finished partition: %v", err)
					}
					if _, err := os.Stat(f.Name()); !errors.Is(err, fs.ErrNotExist) {
						t.Fatalf("%s visible before Close (stat err %v)", f.Name(), err)
					}
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := w.openFiles(); got != 0 {
				t.Fatalf("after Close: %d partition files open, want 0", got)
			}
			d, err := OpenDataset(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Files()) != days {
				t.Fatalf("%d partition files, want %d", len(d.Files()), days)
			}
			got, err := scanAll(t, dir, ScanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			diffEvents(t, got, events)
		})
	}
}

// liveHeapAfterDays writes days days of history and returns the live heap
// just before Close.
func liveHeapAfterDays(t *testing.T, days int) uint64 {
	t.Helper()
	w, err := NewPartitionedHistoryWriter(t.TempDir(), WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeDays(t, w, 45, days, 2000, nil)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return ms.HeapAlloc
}

func TestPartitionedWriterMemoryFlat(t *testing.T) {
	few, many := liveHeapAfterDays(t, 3), liveHeapAfterDays(t, 30)
	t.Logf("live heap before Close: 3 days %.1f MiB, 30 days %.1f MiB", float64(few)/(1<<20), float64(many)/(1<<20))
	// Each finished day kept in memory costs well over 1 MiB (the file
	// buffer alone is 1 MiB); 27 more days must cost far less than that.
	if many > few+8<<20 {
		t.Fatalf("live heap grows with days: 3 days %d bytes, 30 days %d bytes", few, many)
	}
}

// A writer that shares the columns among goroutines writes the same file,
// byte for byte, as one that writes them all itself: small batches
// (written by the caller alone) and large ones, several row groups, and
// account events (their optional columns set).
func TestHistoryWriterWorkersSameFile(t *testing.T) {
	g := newEventGen(7, day0, 1000, 500)
	events := make([]Event, 30_000)
	g.next(events)
	for i := 0; i < len(events); i += 97 {
		e := &events[i]
		e.Status, e.AccountValue, e.AccountNumber, e.AccountUntil = StatusTemplateStatus, "PAUSED", int64(i%3), e.Timestamp+1
		e.ErrorCode, e.ErrorTitle, e.ErrorDetails = NoErrorCode, "", ""
	}
	batches := []int{10, 3000, 500, 12_000, 1, 4096}
	write := func(workers int) []byte {
		path := filepath.Join(t.TempDir(), "h.parquet")
		w, err := NewHistoryWriter(path, WriteOptions{RowGroupRows: 7000, Workers: workers, HashKeyFingerprint: "k"})
		if err != nil {
			t.Fatal(err)
		}
		rest := events
		for i := 0; len(rest) > 0; i++ {
			n := min(len(rest), batches[i%len(batches)])
			if err := w.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	one := write(1)
	for _, workers := range []int{2, 5} {
		if got := write(workers); !bytes.Equal(got, one) {
			t.Errorf("Workers %d: file differs from Workers 1 (%d vs %d bytes)", workers, len(got), len(one))
		}
	}
}
