package scoring

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/pipeline"
)

// benchWorld is the world of BenchmarkScore1M: a larger history, a model
// a little larger than cmd/train keeps on the simulator's default world
// (which early-stops at about 84 rounds for P(fail) and 12 per family
// class): depth 6, 100 rounds for P(fail), 20 per family class; and a
// 1M-send plan over two days.
type benchWorld struct {
	testWorld
	plan string
}

const (
	benchRecipients = 200_000
	benchPlanSends  = 1_000_000
)

// buildBenchWorld writes the benchmark world to dir. Set
// FAILCAST_BENCH_DIR to keep it (e.g. to time the command with
// /usr/bin/time -v on the same files).
func buildBenchWorld(tb testing.TB) benchWorld {
	dir := os.Getenv("FAILCAST_BENCH_DIR")
	if dir == "" {
		dir = tb.TempDir()
	}
	w := benchWorld{testWorld: testWorld{dir: dir, history: filepath.Join(dir, "history.parquet"), registry: filepath.Join(dir, "registry")},
		plan: filepath.Join(dir, "plan-1m.parquet")}
	w.model = filepath.Join(w.registry, "versions", "bench")
	if _, err := os.Stat(w.plan); err == nil {
		return w // kept from an earlier run
	}
	hw, err := pipeline.NewHistoryWriter(w.history, pipeline.WriteOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := hw.Write(worldHistory(7, 30_000)); err != nil {
		tb.Fatal(err)
	}
	if err := hw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(w.model), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := trainBenchBundle(w.history, w.model); err != nil {
		tb.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("versions", "bench"), filepath.Join(w.registry, "current")); err != nil {
		tb.Fatal(err)
	}
	if err := pipeline.WritePlan(w.plan, benchPlan()); err != nil {
		tb.Fatal(err)
	}
	return w
}

// benchPlan is 1M sends in 40 campaigns of 25k sends over two days, at 50
// to 150 mps, to 200k recipients.
func benchPlan() []pipeline.PlannedSend {
	sends := make([]pipeline.PlannedSend, 0, benchPlanSends)
	for c := 0; c < 40; c++ {
		start := worldAsOf.Add(time.Duration(c) * 70 * time.Minute)
		rate := 50 + float64(c%3)*50
		cat := pipeline.CategoryMarketing
		if c%4 == 1 {
			cat = pipeline.CategoryUtility
		}
		for i := 0; i < benchPlanSends/40; i++ {
			r := (c*7919 + i*31) % benchRecipients
			sends = append(sends, pipeline.PlannedSend{
				SendID: fmt.Sprintf("b%02d-%06d", c, i), CampaignID: fmt.Sprintf("bench-%02d", c), WABAID: "waba-1",
				PhoneNumberID: fmt.Sprintf("pn-%d", c%4), Recipient: recipientID(r), Country: "BR", Template: "promo", Language: "pt_BR",
				Category: cat, MessageType: "template", MediaBytes: pipeline.NoMediaBytes,
				ScheduledAt: start.UnixMicro() + int64(float64(i)*1e6/rate), CampaignRateMPS: rate,
			})
		}
	}
	// Campaigns overlap: sort by time as a sender's scheduler would.
	sortByTime(sends)
	return sends
}

func sortByTime(s []pipeline.PlannedSend) {
	slices.SortStableFunc(s, func(a, b pipeline.PlannedSend) int { return cmp.Compare(a.ScheduledAt, b.ScheduledAt) })
}

func trainBenchBundle(history, dir string) error {
	return trainBundleWith(history, dir, "bench", features.SchemaHash(), 100, 20, 6, 3)
}

// benchScoreConfig is the score configuration of the 1M-send benchmarks:
// the bench world's plan, one number's throughput, 8192-send batches.
func benchScoreConfig(b *testing.B) Config {
	w := buildBenchWorld(b)
	cfg := scoreConfig(w.testWorld, filepath.Join(b.TempDir(), "score"), w.plan)
	cfg.ThroughputMPS, cfg.ThrottleSafety, cfg.BatchSize = 80, 0.9, 8192
	return cfg
}

// BenchmarkScore1M scores a 1M-send plan end to end (plan reading,
// features, both models, CSV writing, campaign aggregation) and reports
// sends/s and the heap in use at the end.
func BenchmarkScore1M(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a 1M-send plan and a full-size model")
	}
	cfg := benchScoreConfig(b)
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	b.ResetTimer()
	var peak uint64
	for range b.N {
		res, err := Run(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if res.Sends != benchPlanSends {
			b.Fatalf("scored %d sends, want %d", res.Sends, benchPlanSends)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	b.ReportMetric(float64(benchPlanSends)*float64(b.N)/b.Elapsed().Seconds(), "sends/s")
	b.ReportMetric(float64(peak)/(1<<20), "heap-MB")
}

// BenchmarkScore1MWarm is BenchmarkScore1M with a warm state cache
// (--state-cache): the history's feature state is read back, not folded,
// as in a nightly run scoring several plans against one history. It
// reports sends/s of the whole run and of the plan part alone.
func BenchmarkScore1MWarm(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a 1M-send plan and a full-size model")
	}
	cfg := benchScoreConfig(b)
	cfg.StateCache = filepath.Join(b.TempDir(), "state")
	var plan planTimer
	cfg.Logger = slog.New(&plan)
	if _, err := Run(context.Background(), cfg); err != nil { // folds and saves the state
		b.Fatal(err)
	}
	plan.seconds = 0
	b.ResetTimer()
	for range b.N {
		res, err := Run(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if res.Sends != benchPlanSends {
			b.Fatalf("scored %d sends, want %d", res.Sends, benchPlanSends)
		}
	}
	b.ReportMetric(float64(benchPlanSends)*float64(b.N)/b.Elapsed().Seconds(), "sends/s")
	b.ReportMetric(float64(benchPlanSends)*float64(b.N)/plan.seconds, "plan-sends/s")
}

// planTimer is a slog handler that adds up the seconds of Run's "plan
// scored" records (the featurize + predict + write part) and drops
// everything else.
type planTimer struct{ seconds float64 }

func (h *planTimer) Enabled(context.Context, slog.Level) bool { return true }
func (h *planTimer) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *planTimer) WithGroup(string) slog.Handler            { return h }
func (h *planTimer) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "plan scored" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "seconds" {
				h.seconds += a.Value.Float64()
			}
			return true
		})
	}
	return nil
}
