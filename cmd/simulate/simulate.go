package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/failcast/failcast/internal/atomicfile"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/simulate"
)

func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	world := addWorldFlags(fs)
	out := fs.String("out", filepath.Join("out", "sim"), "output directory")
	raw := fs.Bool("raw", false, "also write raw/send-log.ndjson and raw/webhooks.ndjson")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: simulate [flags]\n       simulate replay --plan FILE --predictions FILE [--campaigns FILE] [--json] [world flags]\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	cfg, err := world.config()
	if err != nil {
		return err
	}
	log, err := newLogger(world.logFormat, stderr)
	if err != nil {
		return err
	}
	began := time.Now()
	res, err := simulateTo(ctx, cfg, *out, *raw, log)
	if err != nil {
		return err
	}
	secs := time.Since(began).Seconds()
	st := res.stats
	attrs := []any{
		"out", *out, "events", st.Events, "sends", st.Sends, "inbound", st.Inbound,
		"failure_rate", fmt.Sprintf("%.2f%%", 100*st.FailureRate()),
	}
	for f := 1; f < pipeline.NumFamilies; f++ {
		if n := st.ByFamily[f]; n > 0 {
			attrs = append(attrs, "fail_"+pipeline.Family(f).String(), fmt.Sprintf("%.2f%%", 100*float64(n)/float64(st.Sends)))
		}
	}
	attrs = append(attrs, "campaigns_called_off", st.Cancelled, "campaigns_stopped", st.Stopped, "plan_sends", res.planSends, "plan_failure_rate", fmt.Sprintf("%.2f%%", 100*res.planFailureRate),
		"seconds", fmt.Sprintf("%.2f", secs), "events_per_second", fmt.Sprintf("%.0f", float64(st.Events)/secs))
	log.Info("simulated", attrs...)
	return nil
}

type simulateResult struct {
	stats           simulate.Stats
	planSends       int
	planFailureRate float64
}

// simulateTo runs the world and writes its outputs under out. Everything is
// written to a staging directory next to the outputs and moved into place
// at the end; on error the staging directory is removed and earlier
// outputs are left as they were.
func simulateTo(ctx context.Context, cfg simulate.Config, out string, raw bool, log *slog.Logger) (res simulateResult, err error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return res, fmt.Errorf("create output directory: %w", err)
	}
	stage, err := os.MkdirTemp(out, ".staging-*")
	if err != nil {
		return res, fmt.Errorf("create staging directory: %w", err)
	}
	defer os.RemoveAll(stage)

	hw := &dailyWriter{dir: filepath.Join(stage, "history")}
	sink := simulate.Sink(simulate.SinkFunc(hw.Write))
	var rw *simulate.RawWriter
	var rawFiles []*os.File
	if raw {
		if err := os.MkdirAll(filepath.Join(stage, "raw"), 0o755); err != nil {
			hw.Abort()
			return res, fmt.Errorf("create raw directory: %w", err)
		}
		for _, name := range []string{"send-log.ndjson", "webhooks.ndjson"} {
			f, err := os.Create(filepath.Join(stage, "raw", name))
			if err != nil {
				hw.Abort()
				return res, fmt.Errorf("create raw file: %w", err)
			}
			defer f.Close()
			// Readable by others whatever the umask, like pipeline's outputs.
			if err := f.Chmod(atomicfile.Mode); err != nil {
				hw.Abort()
				return res, fmt.Errorf("create raw file: %w", err)
			}
			rawFiles = append(rawFiles, f)
		}
		if rw, err = simulate.NewRawWriter(cfg, rawFiles[0], rawFiles[1]); err != nil {
			hw.Abort()
			return res, err
		}
		sink = teeSink{sink, rw}
	}
	log.Info("simulating", "seed", cfg.Seed, "as_of", cfg.AsOf.Format(time.RFC3339), "days", cfg.Days, "plan_days", cfg.PlanDays,
		"wabas", cfg.WABAs, "numbers", cfg.PhoneNumbers, "recipients", cfg.Recipients, "campaigns_per_day", cfg.CampaignsPerDay)
	async := newAsyncSink(sink)
	world, err := simulate.Run(ctx, cfg, async)
	if werr := async.Close(); err == nil {
		err = werr
	}
	if err != nil {
		hw.Abort()
		return res, err
	}
	if err := hw.Close(); err != nil {
		return res, err
	}
	if rw != nil {
		if err := rw.Close(); err != nil {
			return res, err
		}
		for _, f := range rawFiles {
			if err := f.Sync(); err != nil {
				return res, fmt.Errorf("write %s: %w", f.Name(), err)
			}
			if err := f.Close(); err != nil {
				return res, fmt.Errorf("write %s: %w", f.Name(), err)
			}
		}
	}
	plan := world.Plan()
	outcomes, err := world.Outcomes(ctx, plan)
	if err != nil {
		return res, err
	}
	for _, name := range []string{"plan.parquet", "plan.csv"} {
		if err := pipeline.WritePlan(filepath.Join(stage, name), plan); err != nil {
			return res, err
		}
	}
	// Outcomes also as CSV: pandas reads it without a Parquet engine.
	for _, name := range []string{"outcomes.parquet", "outcomes.csv"} {
		if err := pipeline.WriteOutcomes(filepath.Join(stage, name), outcomes); err != nil {
			return res, err
		}
	}
	// The token inventory the sender holds at as-of, for score --tokens.
	if err := pipeline.WriteTokenExpiries(filepath.Join(stage, "tokens.csv"), world.TokenExpiries()); err != nil {
		return res, fmt.Errorf("write token file: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	// Move the outputs into place.
	moves := []string{"history", "plan.parquet", "plan.csv", "outcomes.parquet", "outcomes.csv", "tokens.csv"}
	if raw {
		moves = append(moves, "raw")
	}
	for _, name := range moves {
		if err := replace(filepath.Join(stage, name), filepath.Join(out, name)); err != nil {
			return res, err
		}
	}
	res.stats = world.Stats()
	res.planSends = len(plan)
	failed := 0
	for _, o := range outcomes {
		if o.Failed {
			failed++
		}
	}
	if len(plan) > 0 {
		res.planFailureRate = float64(failed) / float64(len(plan))
	}
	return res, nil
}

// replace moves src to dst. A directory at dst is first moved aside and
// removed once src is in place.
func replace(src, dst string) error {
	st, err := os.Stat(dst)
	if err == nil && st.IsDir() {
		old := dst + ".old-" + fmt.Sprint(time.Now().UnixNano())
		if err := os.Rename(dst, old); err != nil {
			return fmt.Errorf("move %s aside: %w", dst, err)
		}
		if err := os.Rename(src, dst); err != nil {
			os.Rename(old, dst)
			return fmt.Errorf("move %s into place: %w", dst, err)
		}
		return os.RemoveAll(old)
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("move %s into place: %w", dst, err)
	}
	return nil
}

// teeSink passes history to several sinks.
type teeSink []simulate.Sink

func (t teeSink) History(batch []pipeline.Event) error {
	for _, s := range t {
		if err := s.History(batch); err != nil {
			return err
		}
	}
	return nil
}
