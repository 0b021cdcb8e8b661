package gbdt

import (
	"context"
	"flag"
	"sync"
	"testing"
	"time"

	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/gbdt/synth"
)

var (
	benchRows    = flag.Int("gbdt.rows", 1_000_000, "training rows of BenchmarkFit1M")
	benchRounds  = flag.Int("gbdt.rounds", 100, "boosting rounds of BenchmarkFit1M")
	benchWorkers = flag.Int("gbdt.workers", 0, "workers of the fit benchmarks (0: GOMAXPROCS)")
)

// benchCols is the feature count of failcast's feature layer.
const benchCols = 80

var benchData = struct {
	sync.Mutex
	byRows map[int]Dataset
}{byRows: map[int]Dataset{}}

// benchDataset returns (and caches) rows of the synthetic binary data.
func benchDataset(rows int) Dataset {
	benchData.Lock()
	defer benchData.Unlock()
	if d, ok := benchData.byRows[rows]; ok {
		return d
	}
	X, y := synth.Binary(rows, benchCols, 1)
	d := Dataset{X: X, Y: y}
	benchData.byRows[rows] = d
	return d
}

func benchFit(b *testing.B, rows, rounds int) {
	d := benchDataset(rows)
	p := DefaultParams()
	p.NumRounds, p.Workers = rounds, *benchWorkers
	b.ResetTimer()
	start, cpu := time.Now(), cpuSeconds()
	for range b.N {
		if _, err := Fit(context.Background(), p, d, nil); err != nil {
			b.Fatal(err)
		}
	}
	sec := time.Since(start).Seconds() / float64(b.N)
	b.ReportMetric(sec, "fit-s")
	b.ReportMetric((cpuSeconds()-cpu)/float64(b.N), "fit-cpu-s")
	b.ReportMetric(sec/float64(rounds)*1000, "ms/round")
}

// BenchmarkFit1M fits depth-6 trees on 1M x 80 synthetic rows (5%
// positives); -gbdt.rows and -gbdt.rounds change the size. Skipped with
// -short.
func BenchmarkFit1M(b *testing.B) {
	if testing.Short() {
		b.Skip("1M-row fit skipped with -short")
	}
	benchFit(b, *benchRows, *benchRounds)
}

// BenchmarkFit100k is the quick fit benchmark for development.
func BenchmarkFit100k(b *testing.B) { benchFit(b, 100_000, 50) }

var benchModel struct {
	once sync.Once
	m    *Model
	X    models.Matrix
}

// BenchmarkPredict scores 100k rows with a 200-round depth-6 model.
func BenchmarkPredict(b *testing.B) {
	benchModel.once.Do(func() {
		d := benchDataset(100_000)
		p := DefaultParams()
		p.NumRounds = 200
		m, err := Fit(context.Background(), p, d, nil)
		if err != nil {
			b.Fatal(err)
		}
		benchModel.m, benchModel.X = m, d.X
	})
	b.ResetTimer()
	start, cpu := time.Now(), cpuSeconds()
	for range b.N {
		benchModel.m.PredictProba(benchModel.X)
	}
	rows := float64(benchModel.X.Rows * b.N)
	b.ReportMetric(rows/time.Since(start).Seconds(), "rows/s")
	b.ReportMetric(rows/(cpuSeconds()-cpu), "rows/cpu-s")
}
