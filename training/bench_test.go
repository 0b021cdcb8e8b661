package training

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkTrainRun measures a whole run (features, GBDT fail and family
// models, champion comparison, bundle and report) on the synthetic history,
// without baselines. Every iteration after the first compares with a
// champion.
func BenchmarkTrainRun(b *testing.B) {
	hist, err := sharedHistory()
	if err != nil {
		b.Fatal(err)
	}
	cfg := noBaselines(hist, filepath.Join(b.TempDir(), "registry"))
	cfg.Keep = 2
	rows := 0
	i := 0
	for b.Loop() {
		i++
		// Distinct version names without sleeping: a clock one minute apart per run.
		at := time.Date(2026, 11, 1, 2, i, 0, 0, time.UTC)
		cfg.Now = func() time.Time { return at }
		res, err := Run(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		rows = res.TrainRows + res.ValidRows
	}
	b.ReportMetric(float64(rows), "rows/run")
}
