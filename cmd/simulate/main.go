// Command simulate writes a simulated WhatsApp Business sender's history,
// an upcoming campaign plan and the plan's true outcomes; `simulate replay`
// measures what acting on a scoring run's recommendations would prevent.
//
// Usage:
//
//	simulate [flags]                    # writes --out (default out/sim)
//	simulate replay --plan FILE --predictions FILE [--campaigns FILE] [--json] [world flags]
//
// Outputs of a run: history/ (hive-partitioned Parquet, one file per UTC
// day), plan.parquet and plan.csv, outcomes.parquet and outcomes.csv,
// tokens.csv (when each WABA's access token expires, as the sender knows
// it at as-of: the input of score --tokens), and with --raw
// raw/send-log.ndjson and raw/webhooks.ndjson. Everything is written to a
// staging directory first and moved into place only when the whole run
// succeeded, so a failed run leaves earlier outputs untouched.
//
// Exit codes: 0 ok, 1 failure, 2 bad usage.
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
)

// usageError marks errors in how the command was called (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var err error
	if len(args) > 0 && args[0] == "replay" {
		err = runReplay(ctx, args[1:], stdout, stderr)
	} else {
		err = runSimulate(ctx, args, stdout, stderr)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintln(stderr, "simulate:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "simulate:", err)
		return 1
	}
}

// newLogger returns the command's logger on stderr.
func newLogger(format string, stderr io.Writer) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(stderr, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, nil)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

// parseArgs parses a subcommand's flags: --help comes back as
// flag.ErrHelp, a bad flag or a stray argument as a usage error.
func parseArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}
