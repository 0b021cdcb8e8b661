package training

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models/gbdt"
	"github.com/failcast/failcast/pipeline"
)

// BenchmarkTrainingSet measures the failure model's training set from a
// history: "whole" builds every row into one float table and bins it
// (what Run did before), "streamed" bins chunk by chunk through Arrow
// records (Run's path). The history is FAILCAST_BENCH_HISTORY (e.g.
// out/sim/history of `make demo`, with FAILCAST_BENCH_AS_OF), else the
// synthetic one. MaxTrainRows is FAILCAST_BENCH_MAX_TRAIN_ROWS (default
// the default). Both report rows/s of training rows.
func BenchmarkTrainingSet(b *testing.B) {
	path := os.Getenv("FAILCAST_BENCH_HISTORY")
	cfg := fastConfig("", "unused")
	if path == "" {
		p, err := sharedHistory()
		if err != nil {
			b.Fatal(err)
		}
		path = p
	} else {
		cfg = DefaultConfig()
		at, err := time.Parse(time.RFC3339, os.Getenv("FAILCAST_BENCH_AS_OF"))
		if err != nil {
			b.Fatalf("FAILCAST_BENCH_AS_OF: %v", err)
		}
		cfg.AsOf = at
	}
	if v := os.Getenv("FAILCAST_BENCH_MAX_TRAIN_ROWS"); v != "" {
		if _, err := fmt.Sscan(v, &cfg.MaxTrainRows); err != nil {
			b.Fatal(err)
		}
	}
	ds, err := pipeline.OpenDataset(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	tr := newTrainer(cfg)
	w := cfg.Windows()
	b.Run("whole", func(b *testing.B) {
		rows := 0
		for b.Loop() {
			s, err := BuildTables(ctx, ds, cfg)
			if err != nil {
				b.Fatal(err)
			}
			p := tr.gbdtParams()
			// Binning is the first thing Fit does: one round shows it.
			p.NumRounds, p.EarlyStoppingRounds = 1, 0
			if _, err := gbdt.Fit(ctx, p, gbdt.Dataset{X: s.TrainX, Y: boolsToY(s.TrainLabels)}, nil); err != nil {
				b.Fatal(err)
			}
			rows = s.TrainRows
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("streamed", func(b *testing.B) {
		rows := 0
		for b.Loop() {
			set, err := tr.newStreamSet(w)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tr.buildFeatures(ctx, ds, w, nil, func(p *features.Table) error { return set.add(ctx, p, nil) }); err != nil {
				b.Fatal(err)
			}
			s, err := set.finish(ctx)
			if err != nil {
				b.Fatal(err)
			}
			p := tr.gbdtParams()
			p.NumRounds, p.EarlyStoppingRounds = 1, 0
			if _, err := gbdt.Fit(ctx, p, *s.Binned, nil); err != nil {
				b.Fatal(err)
			}
			rows = s.TrainRows
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
