package scoring

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// benchReasonsSends is the plan size of BenchmarkReasons: the first sends
// of BenchmarkScore1M's plan (TreeSHAP of every send of 1M takes minutes).
const benchReasonsSends = 20_000

// BenchmarkReasons scores the same plan (the first 20k sends of
// BenchmarkScore1M's world, its 100-round depth-6 model) with --reasons
// off, flagged and all, one after the other in every iteration, and
// reports each mode's seconds per 1M sends and its ratio to off measured
// in the same iteration (machine load cancels out of the ratios).
//
//	go test -run '^$' -bench BenchmarkReasons -benchtime 1x ./scoring/
func BenchmarkReasons(b *testing.B) {
	if testing.Short() {
		b.Skip("builds the 1M-send benchmark world and a full-size model")
	}
	w := buildBenchWorld(b)
	plan := filepath.Join(filepath.Dir(w.plan), "plan-reasons.parquet")
	if _, err := os.Stat(plan); err != nil {
		if err := pipeline.WritePlan(plan, benchPlan()[:benchReasonsSends]); err != nil {
			b.Fatal(err)
		}
	}
	modes := []Reasons{ReasonsOff, ReasonsFlagged, ReasonsAll}
	var secs [3]time.Duration
	flagged := 0
	b.ResetTimer()
	for range b.N {
		for k, mode := range modes {
			cfg := scoreConfig(w.testWorld, filepath.Join(b.TempDir(), "score"), plan)
			cfg.Reasons = mode
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			t0 := time.Now()
			res, err := Run(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			secs[k] += time.Since(t0)
			if res.Sends != benchReasonsSends {
				b.Fatalf("scored %d sends, want %d", res.Sends, benchReasonsSends)
			}
			flagged = res.Totals.ByRisk[RiskHigh] + res.Totals.ByRisk[RiskMedium]
		}
	}
	per1M := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) * 1e6 / benchReasonsSends }
	b.ReportMetric(per1M(secs[0]), "off-s/1M")
	b.ReportMetric(per1M(secs[1]), "flagged-s/1M")
	b.ReportMetric(per1M(secs[2]), "all-s/1M")
	b.ReportMetric(secs[1].Seconds()/secs[0].Seconds(), "flagged/off")
	b.ReportMetric(secs[2].Seconds()/secs[0].Seconds(), "all/off")
	b.ReportMetric(float64(flagged)/benchReasonsSends, "flagged-share")
}
