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
	"strings"
	"syscall"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/pipeline/ingest"
)

// Exit codes (see package exitcode).
const (
	exitOK      = exitcode.OK
	exitFailure = exitcode.Internal
	exitUsage   = exitcode.Usage
	exitInput   = exitcode.Input
)

// hashKeyEnv is the environment variable the hash key is read from when
// --hash-key is not given (preferred: flags show up in process lists).
const hashKeyEnv = "FAILCAST_HASH_KEY"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command; it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, logFormat, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil {
		cfg.Logger, err = newLogger(logFormat, stderr)
	}
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(stderr, "export:", err)
		return exitUsage
	}
	cfg.Stdout = stdout
	if _, err := ingest.Export(ctx, cfg); err != nil {
		code := exitcode.Of(err)
		if code == exitUsage {
			fmt.Fprintln(stderr, "export:", err)
		} else {
			cfg.Logger.Error("export failed", "err", err, "exit", exitcode.Name(code))
		}
		return code
	}
	return exitOK
}

// listFlag is a repeatable flag whose values may also be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (ingest.ExportConfig, string, error) {
	cfg := ingest.DefaultExportConfig()
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: export --send-log FILE [--send-log FILE...] --webhooks FILE [--webhooks FILE...] --out DIR|FILE.parquet [flags]\n\n"+
			"Merges a send log and Meta status webhooks into a history dataset (see docs/export.md).\n"+
			"Inputs ending in .gz are decompressed. Exit codes: 0 ok, 1 failure, 2 bad usage,\n"+
			"3 bad input (too many rejects, no events, missing columns; the history is left as it was), 4 another export holds the output.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var sendLogs, webhooks listFlag
	var mapping, hashKey, logFormat string
	fs.Var(&sendLogs, "send-log", "send-log `file` (.ndjson/.jsonl/.json or .csv); repeat the flag or separate with commas")
	fs.StringVar(&cfg.SendLogFormat, "send-log-format", "auto", "send-log format: auto (by extension), ndjson or csv")
	fs.Var(&webhooks, "webhooks", "webhook NDJSON `file`, directory or glob (gzip told by content); repeat the flag or separate with commas")
	fs.StringVar(&cfg.Out, "out", "", "output: a `path` ending in .parquet for one file, else a directory; an existing history is merged into")
	fs.BoolVar(&cfg.Partitioned, "partitioned", false, "write a directory --out as hive partitions by UTC day (dt=YYYY-MM-DD/part-0.parquet) instead of DIR/history.parquet")
	fs.StringVar(&cfg.Rejects, "rejects", "", "reject file `path` (default: rejects.ndjson in the output directory, or FILE.rejects.ndjson next to FILE.parquet)")
	fs.StringVar(&mapping, "map", "", "send-log field `mapping`: field=path,... (dotted JSON paths, or CSV headers), e.g. recipient=request.to,template=request.template.name")
	fs.StringVar(&hashKey, "hash-key", "", "recipient hashing `key` (default: $"+hashKeyEnv+")")
	fs.BoolVar(&cfg.NoHash, "no-hash", false, "keep recipients as phone numbers, and numbers in free text unmasked")
	fs.Float64Var(&cfg.MaxRejectRate, "max-reject-rate", ingest.DefaultMaxRejectRate, "fail (exit 3, history untouched) when more than this `share` of lines is rejected")
	fs.StringVar(&cfg.Timezone, "timezone", "", "IANA time `zone` of send-log times written without one, e.g. UTC or America/Sao_Paulo (default: reject such times)")
	fs.IntVar(&cfg.MaxLineBytes, "max-line-bytes", ingest.DefaultMaxLineBytes, "longest input line or CSV record in `bytes`; longer ones are rejected")
	fs.StringVar(&logFormat, "log-format", "text", "log format on stderr: text or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, "", err
		}
		return cfg, "", exitcode.Usagef("%w", err)
	}
	if fs.NArg() > 0 {
		return cfg, "", exitcode.Usagef("unexpected arguments %q (inputs go in --send-log and --webhooks)", fs.Args())
	}
	cfg.SendLogs, cfg.Webhooks = sendLogs, webhooks
	var err error
	if cfg.Mapping, err = ingest.ParseMapping(mapping); err != nil {
		return cfg, "", exitcode.Usagef("--map: %w", err)
	}
	if hashKey == "" {
		hashKey = getenv(hashKeyEnv)
	}
	cfg.HashKey = []byte(hashKey)
	return cfg, logFormat, nil
}

func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
