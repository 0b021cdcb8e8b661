package main

import (
	"context"
	"io"
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
	reg := filepath.Join(b.TempDir(), "registry")
	cfg, err := parseConfig(fastArgs(hist, reg, "--baselines=false", "--keep", "2"), io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	rows := 0
	i := 0
	for b.Loop() {
		i++
		// Distinct version names without sleeping: a clock one minute apart per run.
		at := time.Date(2026, 11, 1, 2, i, 0, 0, time.UTC)
		tr := &trainer{cfg: cfg, log: newLogger("text", io.Discard), console: &console{w: io.Discard}, now: func() time.Time { return at }}
		res, err := tr.run(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		rows = res.TrainRows + res.ValidRows
	}
	b.ReportMetric(float64(rows), "rows/run")
}
