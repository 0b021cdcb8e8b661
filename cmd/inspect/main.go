package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// Exit codes.
const (
	exitOK       = 0
	exitInternal = 1
	exitUsage    = 2
	exitInput    = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	history  string
	from, to time.Time
	columns  []string
	json     bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: inspect --history DATASET [flags]\n\nReads a history dataset back and summarises it. Flags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.history, "history", "out/sim/history", "history dataset: a Parquet file, a directory tree, a glob or hive partitions")
	from := fs.String("from", "", "first event time to read, RFC 3339 (default: the beginning)")
	to := fs.String("to", "", "read events before this time, RFC 3339 (default: the end)")
	cols := fs.String("columns", "", "comma-separated columns to read besides timestamp, message_id, status and error_code (default: all contract columns)")
	fs.BoolVar(&o.json, "json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	for _, t := range []struct {
		s   string
		dst *time.Time
		n   string
	}{{*from, &o.from, "--from"}, {*to, &o.to, "--to"}} {
		if t.s == "" {
			continue
		}
		if *t.dst, err = time.Parse(time.RFC3339, t.s); err != nil {
			return o, fmt.Errorf("%s: want an RFC 3339 time such as 2026-11-01T00:00:00Z, got %q", t.n, t.s)
		}
	}
	if *cols != "" {
		o.columns = []string{pipeline.ColTimestamp, pipeline.ColMessageID, pipeline.ColStatus, pipeline.ColErrorCode}
		for _, c := range strings.Split(*cols, ",") {
			c = strings.TrimSpace(c)
			if !slices.Contains(pipeline.HistoryColumns, c) {
				return o, fmt.Errorf("--columns: %q is not a history column (want one of %s)", c, strings.Join(pipeline.HistoryColumns, ", "))
			}
			if !slices.Contains(o.columns, c) {
				o.columns = append(o.columns, c)
			}
		}
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "inspect:", err)
		return exitUsage
	}
	ds, err := pipeline.OpenDataset(o.history)
	if err != nil {
		fmt.Fprintln(stderr, "inspect:", err)
		return exitInput
	}
	s, err := summarize(ctx, ds, o)
	if err != nil {
		fmt.Fprintln(stderr, "inspect:", err)
		if ctx.Err() != nil {
			return exitInternal
		}
		return exitInput
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(s)
	} else {
		err = s.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "inspect:", err)
		return exitInternal
	}
	return exitOK
}
