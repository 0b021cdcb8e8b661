package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/failcast/failcast/pipeline"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		slog.Error("bigplan failed", "err", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	history, plan, out string
	asOf               time.Time
	sends              int
	seed               uint64
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bigplan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.history, "history", "", "history dataset the recipients are drawn from (required)")
	fs.StringVar(&o.plan, "plan", "", "the simulator's plan, .parquet or .csv (required)")
	fs.StringVar(&o.out, "out", "", "plan file to write, .parquet or .csv (required)")
	asOf := fs.String("as-of", "", "as-of time of the history and plan, RFC 3339 (required)")
	fs.IntVar(&o.sends, "sends", 1_000_000, "sends in the written plan")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the recipient draw")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.history == "" || o.plan == "" || o.out == "" || *asOf == "":
		return o, errors.New("--history, --plan, --out and --as-of are required")
	case o.sends < 1:
		return o, fmt.Errorf("--sends is %d, want at least 1", o.sends)
	}
	t, err := time.Parse(time.RFC3339, *asOf)
	if err != nil {
		return o, fmt.Errorf("--as-of: want an RFC 3339 time such as 2026-11-01T00:00:00Z, got %q", *asOf)
	}
	o.asOf = t
	return o, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	began := time.Now()
	var plan []pipeline.PlannedSend
	err = pipeline.ReadPlan(ctx, o.plan, nil, func(batch []pipeline.PlannedSend) error {
		plan = append(plan, batch...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the plan: %w", err)
	}
	ds, err := pipeline.OpenDataset(o.history)
	if err != nil {
		return fmt.Errorf("open the history: %w", err)
	}
	pools, err := collectRecipients(ctx, ds, o.asOf.UnixMicro())
	if err != nil {
		return fmt.Errorf("history %s: %w", o.history, err)
	}
	big, err := replicate(plan, pools, o.sends, o.seed)
	if err != nil {
		return fmt.Errorf("plan %s: %w", o.plan, err)
	}
	if err := pipeline.WritePlan(o.out, big); err != nil {
		return fmt.Errorf("write the plan: %w", err)
	}
	recipients := 0
	for _, p := range pools {
		recipients += len(p)
	}
	slog.Info("plan written", "out", o.out, "sends", len(big), "plan_sends", len(plan),
		"history_recipients", recipients, "seconds", time.Since(began).Round(time.Millisecond).Seconds())
	return nil
}
