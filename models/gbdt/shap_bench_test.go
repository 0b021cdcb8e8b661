package gbdt

import (
	"context"
	"flag"
	"sync"
	"testing"
	"time"

	"github.com/failcast/failcast/internal/cputime"
	"github.com/failcast/failcast/models"
)

var benchShapRows = flag.Int("gbdt.shaprows", 2000, "rows explained per op of BenchmarkContributions")

var benchShap struct {
	once sync.Once
	m    *Model
	X    models.Matrix
	err  error
}

// BenchmarkContributions explains rows of a 200-round depth-6 binary model
// over 80 features (fitted on 50k synthetic rows, cover from them) and, in
// the same op, predicts the raw scores of all 50k rows, so the ratio of
// the two holds whatever the machine's load. Figures are seconds (wall
// and CPU) per 1M rows; -gbdt.workers sets the workers of both.
func BenchmarkContributions(b *testing.B) {
	benchShap.once.Do(func() {
		d := benchDataset(50_000)
		p := DefaultParams()
		p.NumRounds, p.MaxDepth, p.Workers = 200, 6, *benchWorkers
		m, err := Fit(context.Background(), p, d, nil)
		if err == nil {
			err = m.SetCover(context.Background(), d.X)
		}
		benchShap.m, benchShap.X, benchShap.err = m, d.X, err
	})
	if benchShap.err != nil {
		b.Fatal(benchShap.err)
	}
	m, X := benchShap.m, benchShap.X
	m.SetWorkers(*benchWorkers)
	explain := X.Slice(0, min(*benchShapRows, X.Rows))
	var c Contributions
	b.ResetTimer()
	var shapWall, shapCPU, predWall, predCPU float64
	for range b.N {
		start, cpu := time.Now(), cputime.Seconds()
		if err := m.Contributions(context.Background(), explain, &c); err != nil {
			b.Fatal(err)
		}
		shapWall += time.Since(start).Seconds()
		shapCPU += cputime.Seconds() - cpu
		start, cpu = time.Now(), cputime.Seconds()
		m.PredictRaw(X)
		predWall += time.Since(start).Seconds()
		predCPU += cputime.Seconds() - cpu
	}
	perM := func(sec float64, rows int) float64 { return sec / float64(b.N*rows) * 1e6 }
	b.ReportMetric(perM(shapWall, explain.Rows), "shap-s/1M-rows")
	b.ReportMetric(perM(shapCPU, explain.Rows), "shap-cpu-s/1M-rows")
	b.ReportMetric(perM(predWall, X.Rows), "predict-s/1M-rows")
	b.ReportMetric(perM(predCPU, X.Rows), "predict-cpu-s/1M-rows")
	b.ReportMetric(perM(shapCPU, explain.Rows)/perM(predCPU, X.Rows), "shap/predict-cpu")
	leaves := 0
	for i := range m.trees {
		for _, l := range m.trees[i].left {
			if l < 0 {
				leaves++
			}
		}
	}
	b.ReportMetric(float64(leaves)/float64(len(m.trees)), "leaves/tree")
}
