package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/training"
)

// run is the whole command: parse the flags, then training.Run (which
// logs the outcome and writes the metrics file). It returns the exit code.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	start := time.Now()
	opts, err := parseConfig(args, stderr)
	if errors.Is(err, errHelp) {
		return exitcode.OK
	}
	if err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		if opts.MetricsFile != "" {
			training.WriteMetricsFile(opts.MetricsFile, training.RunMetrics{Duration: time.Since(start), ValidPRAUC: math.NaN(),
				ExitCode: exitcode.Usage, Finished: time.Now()})
		}
		return exitcode.Usage
	}
	cfg := opts.config()
	con := training.NewConsole(stderr)
	cfg.Log = newLogger(opts.LogFormat, con)
	if progressEnabled(opts.Progress, stderr) {
		cfg.Progress = con
	}
	_, err = training.Run(ctx, cfg)
	return exitcode.Of(err)
}

// newLogger returns the run's logger: text or JSON lines on w.
func newLogger(format string, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// progressEnabled decides whether to draw progress bars: "auto" draws them
// only when stderr is a terminal, so logs of scheduled runs stay clean.
func progressEnabled(mode string, stderr io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	f, ok := stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
