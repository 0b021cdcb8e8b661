package gbdt

import (
	"context"
	"testing"
	"time"

	"github.com/failcast/failcast/internal/cputime"
	"github.com/failcast/failcast/models/gbdt/synth"
)

// BenchmarkFitValidCover is the failure model's fit as training runs it,
// scaled down: 300k x 80 training rows, 40 rounds scored every round on
// 150k validation rows with the shifted loss, then the model's node cover
// over the training rows. It reports the CPU seconds of the whole.
func BenchmarkFitValidCover(b *testing.B) {
	ctx := context.Background()
	d := benchDataset(300_000)
	VX, vy := synth.Binary(150_000, benchCols, 3)
	valid := Dataset{X: VX, Y: vy}
	p := DefaultParams()
	p.NumRounds, p.StopOnShiftedLoss, p.Workers = 40, true, *benchWorkers
	b.ResetTimer()
	start, cpu := time.Now(), cputime.Seconds()
	for range b.N {
		m, err := Fit(ctx, p, d, &valid)
		if err != nil {
			b.Fatal(err)
		}
		if err := fitCoverOf(ctx, m, d); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "fit-s")
	b.ReportMetric((cputime.Seconds()-cpu)/float64(b.N), "fit-cpu-s")
}

// fitCoverOf gives m its node cover over its training set d as training
// does.
func fitCoverOf(_ context.Context, m *Model, _ Dataset) error { return m.SetFitCover() }
