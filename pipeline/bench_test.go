package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/failcast/failcast/internal/cputime"
)

// Benchmark dataset: benchRows events over ~1M hashed recipients, written
// once per test binary run into a temporary directory.
const (
	benchRows       = 4 << 20
	benchRecipients = 1 << 20
)

var benchData struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchData.dir != "" {
		os.RemoveAll(benchData.dir)
	}
	os.Exit(code)
}

// benchDataset returns the path of the benchmark history file.
func benchDataset(b *testing.B) string {
	b.Helper()
	benchData.once.Do(func() {
		benchData.dir, benchData.err = os.MkdirTemp("", "failcast-bench-")
		if benchData.err != nil {
			return
		}
		benchData.path = filepath.Join(benchData.dir, "history.parquet")
		w, err := NewHistoryWriter(benchData.path, WriteOptions{})
		if err != nil {
			benchData.err = err
			return
		}
		g := newEventGen(42, day0, 50_000, benchRecipients)
		batch := make([]Event, 1<<16)
		for n := 0; n < benchRows; n += len(batch) {
			g.next(batch)
			if err := w.Write(batch); err != nil {
				w.Abort()
				benchData.err = err
				return
			}
		}
		benchData.err = w.Close()
	})
	if benchData.err != nil {
		b.Fatal(benchData.err)
	}
	return benchData.path
}

func benchScan(b *testing.B, columns []string) {
	path := benchDataset(b)
	d, err := OpenDataset(path)
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cputime.Seconds()
	var rows int64
	for i := 0; i < b.N; i++ {
		err := d.Scan(context.Background(), ScanOptions{Columns: columns}, func(batch []Event) error {
			rows += int64(len(batch))
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if rows != int64(b.N)*benchRows {
		b.Fatalf("scanned %d rows, want %d", rows, int64(b.N)*benchRows)
	}
	b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
	b.ReportMetric(float64(rows)/(cputime.Seconds()-cpu0), "rows/cpu_s")
	b.ReportMetric(float64(st.Size())/benchRows, "file_bytes/row")
}

// BenchmarkScanProjection4 scans the four hot columns of feature building.
func BenchmarkScanProjection4(b *testing.B) {
	benchScan(b, []string{ColTimestamp, ColRecipient, ColStatus, ColErrorCode})
}

// BenchmarkScanFull scans every contract column.
func BenchmarkScanFull(b *testing.B) {
	benchScan(b, nil)
}

// BenchmarkWrite writes 1M events per iteration.
func BenchmarkWrite(b *testing.B) {
	const n = 1 << 20
	events := make([]Event, n)
	newEventGen(43, day0, 50_000, benchRecipients).next(events)
	dir := b.TempDir()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Seconds()
	var size int64
	for i := 0; i < b.N; i++ {
		path := filepath.Join(dir, "h.parquet")
		w, err := NewHistoryWriter(path, WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < n; j += 1 << 16 {
			if err := w.Write(events[j : j+1<<16]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		st, _ := os.Stat(path)
		size = st.Size()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(n)*float64(b.N)/(cputime.Seconds()-cpu0), "rows/cpu_s")
	b.ReportMetric(float64(size)/n, "file_bytes/row")
}

// BenchmarkCountryOf measures CountryOf per number: a calling code of one
// country (no parse), and new numbers of the shared +1 code (a full
// libphonenumber parse each, the cache missing), and cached ones.
func BenchmarkCountryOf(b *testing.B) {
	b.Run("single-country code", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			CountryOf("55119" + strconv.Itoa(10_000_000+i%80_000_000))
		}
	})
	b.Run("shared code, new number", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			CountryOf("1415" + strconv.Itoa(2_000_000+i%7_000_000))
		}
	})
	b.Run("shared code, cached", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			CountryOf("1415" + strconv.Itoa(2_000_000+i%1000))
		}
	})
}
