package simulate

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/failcast/failcast/internal/atomicfile"
	"github.com/failcast/failcast/pipeline"
)

// Written is what WriteOutputs wrote.
type Written struct {
	Stats           Stats   // of the history
	PlanSends       int     // sends in the plan
	PlanFailureRate float64 // share of the plan's sends that fail as planned
	Seconds         float64 // wall time of the whole run
	// AccountEventsLeftOut counts the account events not written to
	// history/ because the history contract has no account columns yet
	// (raw/webhooks.ndjson has them).
	AccountEventsLeftOut int64
}

// WriteOutputs runs the world of cfg and writes its outputs under out:
// history/ (hive-partitioned Parquet, one file per UTC day), plan.parquet
// and plan.csv, outcomes.parquet and outcomes.csv, tokens.csv (each WABA's
// token expiry as the sender knows it at as-of) and, with raw,
// raw/send-log.ndjson and raw/webhooks.ndjson. It logs the run's settings
// and a summary to log.
func WriteOutputs(ctx context.Context, cfg Config, out string, raw bool, log *slog.Logger) (*Written, error) {
	began := time.Now()
	log.Info("simulating", "seed", cfg.Seed, "as_of", cfg.AsOf.Format(time.RFC3339), "days", cfg.Days, "plan_days", cfg.PlanDays,
		"wabas", cfg.WABAs, "numbers", cfg.PhoneNumbers, "recipients", cfg.Recipients, "campaigns_per_day", cfg.CampaignsPerDay)
	res, err := simulateTo(ctx, cfg, out, raw)
	if err != nil {
		return nil, err
	}
	res.Seconds = time.Since(began).Seconds()
	st := res.Stats
	attrs := []any{
		"out", out, "events", st.Events, "sends", st.Sends, "inbound", st.Inbound,
		"failure_rate", fmt.Sprintf("%.2f%%", 100*st.FailureRate()),
	}
	for f := 1; f < pipeline.NumFamilies; f++ {
		if n := st.ByFamily[f]; n > 0 {
			attrs = append(attrs, "fail_"+pipeline.Family(f).String(), fmt.Sprintf("%.2f%%", 100*float64(n)/float64(st.Sends)))
		}
	}
	attrs = append(attrs, "campaigns_called_off", st.Cancelled, "campaigns_stopped", st.Stopped, "plan_sends", res.PlanSends, "plan_failure_rate", fmt.Sprintf("%.2f%%", 100*res.PlanFailureRate),
		"seconds", fmt.Sprintf("%.2f", res.Seconds), "events_per_second", fmt.Sprintf("%.0f", float64(st.Events)/res.Seconds))
	log.Info("simulated", attrs...)
	if res.AccountEventsLeftOut > 0 {
		log.Warn("account events left out of history/: the history contract has no account columns yet (the raw webhooks carry them)",
			"events", res.AccountEventsLeftOut)
	}
	return res, nil
}

// simulateTo runs the world and writes its outputs under out. Everything is
// written to a staging directory next to the outputs and moved into place
// at the end; on error the staging directory is removed and earlier
// outputs are left as they were.
func simulateTo(ctx context.Context, cfg Config, out string, raw bool) (res *Written, err error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	stage, err := os.MkdirTemp(out, ".staging-*")
	if err != nil {
		return nil, fmt.Errorf("create staging directory: %w", err)
	}
	defer os.RemoveAll(stage)

	hw := &dailyWriter{dir: filepath.Join(stage, "history")}
	sink := Sink(SinkFunc(hw.Write))
	var rw *RawWriter
	var rawFiles []*os.File
	if raw {
		if err := os.MkdirAll(filepath.Join(stage, "raw"), 0o755); err != nil {
			hw.Abort()
			return nil, fmt.Errorf("create raw directory: %w", err)
		}
		for _, name := range []string{"send-log.ndjson", "webhooks.ndjson"} {
			f, err := os.Create(filepath.Join(stage, "raw", name))
			if err != nil {
				hw.Abort()
				return nil, fmt.Errorf("create raw file: %w", err)
			}
			defer f.Close()
			// Readable by others whatever the umask, like pipeline's outputs.
			if err := f.Chmod(atomicfile.Mode); err != nil {
				hw.Abort()
				return nil, fmt.Errorf("create raw file: %w", err)
			}
			rawFiles = append(rawFiles, f)
		}
		if rw, err = NewRawWriter(cfg, rawFiles[0], rawFiles[1]); err != nil {
			hw.Abort()
			return nil, err
		}
		sink = teeSink{sink, rw}
	}
	async := newAsyncSink(sink)
	world, err := Run(ctx, cfg, async)
	if werr := async.Close(); err == nil {
		err = werr
	}
	if err != nil {
		hw.Abort()
		return nil, err
	}
	if err := hw.Close(); err != nil {
		return nil, err
	}
	if rw != nil {
		if err := rw.Close(); err != nil {
			return nil, err
		}
		for _, f := range rawFiles {
			if err := f.Sync(); err != nil {
				return nil, fmt.Errorf("write %s: %w", f.Name(), err)
			}
			if err := f.Close(); err != nil {
				return nil, fmt.Errorf("write %s: %w", f.Name(), err)
			}
		}
	}
	plan := world.Plan()
	var outcomes []pipeline.PlanOutcome
	if raw {
		outcomes, err = writePlanRaw(ctx, world, plan, filepath.Join(stage, "raw", "plan"))
	} else {
		outcomes, err = world.Outcomes(ctx, plan)
	}
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"plan.parquet", "plan.csv"} {
		if err := pipeline.WritePlan(filepath.Join(stage, name), plan); err != nil {
			return nil, err
		}
	}
	// Outcomes also as CSV: pandas reads it without a Parquet engine.
	for _, name := range []string{"outcomes.parquet", "outcomes.csv"} {
		if err := pipeline.WriteOutcomes(filepath.Join(stage, name), outcomes); err != nil {
			return nil, err
		}
	}
	// The token inventory the sender holds at as-of, for score --tokens.
	if err := pipeline.WriteTokenExpiries(filepath.Join(stage, "tokens.csv"), world.TokenExpiries()); err != nil {
		return nil, fmt.Errorf("write token file: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Move the outputs into place.
	moves := []string{"history", "plan.parquet", "plan.csv", "outcomes.parquet", "outcomes.csv", "tokens.csv"}
	if raw {
		moves = append(moves, "raw")
	}
	for _, name := range moves {
		if err := replace(filepath.Join(stage, name), filepath.Join(out, name)); err != nil {
			return nil, err
		}
	}
	res = &Written{Stats: world.Stats(), PlanSends: len(plan), AccountEventsLeftOut: hw.accountDropped}
	failed := 0
	for _, o := range outcomes {
		if o.Failed {
			failed++
		}
	}
	if len(plan) > 0 {
		res.PlanFailureRate = float64(failed) / float64(len(plan))
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
type teeSink []Sink

func (t teeSink) History(batch []pipeline.Event) error {
	for _, s := range t {
		if err := s.History(batch); err != nil {
			return err
		}
	}
	return nil
}
