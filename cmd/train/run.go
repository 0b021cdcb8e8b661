package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"time"
)

// run is the whole command: parse, train, report, write the metrics file.
// It returns the exit code.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	start := time.Now()
	cfg, err := parseConfig(args, stderr)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		if cfg.MetricsFile != "" {
			writeMetricsFile(cfg.MetricsFile, runMetrics{Duration: time.Since(start), ValidPRAUC: math.NaN(), ExitCode: exitUsage, Finished: time.Now()})
		}
		return exitUsage
	}
	con := &console{w: stderr}
	log := newLogger(cfg.LogFormat, con)
	t := &trainer{cfg: cfg, log: log, console: con, progress: progressEnabled(cfg.Progress, stderr), now: time.Now}
	res, err := t.run(ctx)
	code := exitCode(err)
	logOutcome(log, res, err, code, time.Since(start))
	if cfg.MetricsFile != "" {
		m := runMetrics{Duration: time.Since(start), ValidPRAUC: math.NaN(), ExitCode: code, Finished: time.Now()}
		if res != nil {
			m.Rows, m.ValidPRAUC, m.Promoted = res.TrainRows, res.ValidPRAUC, res.Promoted
		}
		if err := writeMetricsFile(cfg.MetricsFile, m); err != nil {
			log.Warn("metrics file", "err", err)
		}
	}
	return code
}

// logOutcome logs the run's final line.
func logOutcome(log *slog.Logger, res *result, err error, code int, took time.Duration) {
	secs := math.Round(took.Seconds()*10) / 10
	switch {
	case err != nil && code == exitLocked:
		log.Error("another training run holds the registry; nothing done", "err", err, "exit_code", code)
	case err != nil && errors.Is(err, context.Canceled):
		log.Error("interrupted; the champion is untouched", "err", err, "exit_code", code)
	case err != nil && code == exitData:
		log.Error("bad or missing input data; nothing published", "err", err, "exit_code", code)
	case err != nil:
		log.Error("training failed; the champion is untouched", "err", err, "exit_code", code)
	case res.Promoted:
		log.Info("published: the new model is the champion", "version", res.Version, "valid_pr_auc", round4(res.ValidPRAUC),
			"previous", res.ChampionVersion, "reason", res.Reason, "seconds", secs, "exit_code", code)
	default:
		log.Info("kept out: the challenger is worse than the champion, which stays", "version", res.Version,
			"valid_pr_auc", round4(res.ValidPRAUC), "champion", res.ChampionVersion, "champion_pr_auc", round4(res.ChampionPRAUC),
			"reason", res.Reason, "seconds", secs, "exit_code", code)
	}
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
