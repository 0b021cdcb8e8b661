package gbdt

import (
	"context"
	"flag"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/failcast/failcast/internal/cputime"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/gbdt/synth"
)

var (
	benchRows     = flag.Int("gbdt.rows", 1_000_000, "training rows of BenchmarkFit1M")
	benchRounds   = flag.Int("gbdt.rounds", 100, "boosting rounds of BenchmarkFit1M")
	benchWorkers  = flag.Int("gbdt.workers", 0, "workers of the fit benchmarks (0: GOMAXPROCS)")
	benchRowShare = flag.Int("gbdt.rowshare", -1, "nodes with at most 1/rowshare of the rows get row-wise histograms (0: none; -1: the default)")
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
	if *benchRowShare >= 0 {
		defer func(v int) { rowWiseShare = v }(rowWiseShare)
		rowWiseShare = *benchRowShare
	}
	b.ResetTimer()
	start, cpu := time.Now(), cputime.Seconds()
	for range b.N {
		if _, err := Fit(context.Background(), p, d, nil); err != nil {
			b.Fatal(err)
		}
	}
	sec := time.Since(start).Seconds() / float64(b.N)
	b.ReportMetric(sec, "fit-s")
	b.ReportMetric((cputime.Seconds()-cpu)/float64(b.N), "fit-cpu-s")
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

// BenchmarkFitLayouts fits 30 rounds on 1M rows (-gbdt.rows) with
// histograms of small nodes built row-wise (the default) and with every
// histogram built column-wise, interleaved. Skipped with -short.
func BenchmarkFitLayouts(b *testing.B) {
	if testing.Short() {
		b.Skip("1M-row fits skipped with -short")
	}
	for _, tc := range []struct {
		name  string
		share int
	}{{"row-wise-small-nodes", rowWiseShare}, {"column-wise", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			defer func(v int) { rowWiseShare = v }(rowWiseShare)
			rowWiseShare = tc.share
			benchFit(b, *benchRows, 30)
		})
	}
}

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
	start, cpu := time.Now(), cputime.Seconds()
	for range b.N {
		benchModel.m.PredictProba(benchModel.X)
	}
	rows := float64(benchModel.X.Rows * b.N)
	b.ReportMetric(rows/time.Since(start).Seconds(), "rows/s")
	b.ReportMetric(rows/(cputime.Seconds()-cpu), "rows/cpu-s")
}

var benchHist struct {
	once  sync.Once
	hb    *histBuilder
	grads []int64
	rows  []int32
}

// BenchmarkHistogram builds one node histogram over 80 features on
// -gbdt.workers goroutines (default one), column-wise and row-wise (see
// rowhist.go): the root (all 1M rows, or -gbdt.rows), a node holding a
// random third of them and one holding a random 32nd (gathered access).
// It reports wall and CPU ns per row and feature. Skipped with -short.
func BenchmarkHistogram(b *testing.B) {
	if testing.Short() {
		b.Skip("1M-row histogram skipped with -short")
	}
	setupBenchHist(b)
	hb := benchHist.hb
	hist := make([]int64, hb.layout.size)
	features := 0
	for _, g := range hb.groups {
		features += len(g)
	}
	for _, tc := range []struct {
		name string
		rows []int32
	}{
		{"root", benchHist.rows},
		{"random-third", randomShare(benchHist.rows, 3)},
		{"random-32nd", randomShare(benchHist.rows, 32)},
	} {
		for _, layout := range []struct {
			name    string
			rowWise int
		}{{"col", 0}, {"row", len(benchHist.rows)}} {
			b.Run(tc.name+"/"+layout.name, func(b *testing.B) {
				hb.rowWise = layout.rowWise
				start, cpu := time.Now(), cputime.Seconds()
				for range b.N {
					hb.build(hist, tc.rows, benchHist.grads, sumPacked(tc.rows, benchHist.grads))
				}
				n := float64(b.N * len(tc.rows) * features)
				b.ReportMetric(float64(time.Since(start).Nanoseconds())/n, "ns/row-feature")
				b.ReportMetric((cputime.Seconds()-cpu)*1e9/n, "cpu-ns/row-feature")
			})
		}
	}
}

// setupBenchHist bins -gbdt.rows synthetic rows once for the histogram
// benchmarks.
func setupBenchHist(b *testing.B) {
	benchHist.once.Do(func() {
		d := benchDataset(*benchRows)
		bm, err := newBinMapper(context.Background(), d.X, sampleRows(d.X.Rows, 200_000, 1), MaxBinsLimit, 2)
		if err != nil {
			b.Fatal(err)
		}
		bins, err := binAll(context.Background(), d.X, bm, 2)
		if err != nil {
			b.Fatal(err)
		}
		hb := &histBuilder{layout: newHistLayout(bm), bins: bins, workers: *benchWorkers}
		var features []int
		for f, nb := range hb.layout.nbins {
			if nb > 1 {
				features = append(features, f)
			}
		}
		hb.groups = featureGroups(nil, features, max(*benchWorkers, 1))
		hb.byRow = newRowBins(bins, features, nil, 0, 2)
		benchHist.hb = hb
		grads := make([]gradPair, d.X.Rows)
		for i := range grads {
			grads[i] = gradPair{float32(i%7) - 3, 0.25}
		}
		benchHist.grads = make([]int64, d.X.Rows)
		packGrads(benchHist.grads, grads, 2)
		benchHist.rows = make([]int32, d.X.Rows)
		for i := range benchHist.rows {
			benchHist.rows[i] = int32(i)
		}
	})
}

// sumPacked is the packed sum of rows' gradients.
func sumPacked(rows []int32, grads []int64) int64 {
	var s int64
	for _, r := range rows {
		s += grads[r]
	}
	return s
}

// randomShare keeps each row with probability 1/k, like a node a few
// splits below the root.
func randomShare(rows []int32, k int) []int32 {
	rng := rand.New(rand.NewPCG(5, uint64(k)))
	var out []int32
	for _, r := range rows {
		if rng.IntN(k) == 0 {
			out = append(out, r)
		}
	}
	return out
}

// BenchmarkBinning maps -gbdt.rows x 80 synthetic values to their bins
// (edges from a 200k-row sample, as Fit does): the fixed cost of every
// fit. Skipped with -short.
func BenchmarkBinning(b *testing.B) {
	if testing.Short() {
		b.Skip("1M-row binning skipped with -short")
	}
	d := benchDataset(*benchRows)
	workers := max(*benchWorkers, 1)
	bm, err := newBinMapper(context.Background(), d.X, sampleRows(d.X.Rows, 200_000, 1), MaxBinsLimit, workers)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start, cpu := time.Now(), cputime.Seconds()
	for range b.N {
		if _, err := binAll(context.Background(), d.X, bm, workers); err != nil {
			b.Fatal(err)
		}
	}
	n := float64(b.N * len(d.X.Data))
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/n, "ns/value")
	b.ReportMetric((cputime.Seconds()-cpu)*1e9/n, "cpu-ns/value")
}
