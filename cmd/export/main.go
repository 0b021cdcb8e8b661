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
	"path/filepath"
	"strings"
	"syscall"

	"github.com/failcast/failcast/pipeline/ingest"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// hashKeyEnv is the environment variable the hash key is read from when
// --hash-key is not given (preferred: flags show up in process lists).
const hashKeyEnv = "FAILCAST_HASH_KEY"

// options are the command's settings, from flags.
type options struct {
	SendLogs      []string
	SendLogFormat string // auto, ndjson or csv
	Webhooks      []string
	Out           string
	Partitioned   bool
	Rejects       string
	Mapping       ingest.Mapping
	HashKey       []byte
	NoHash        bool
	MaxRejectRate float64
	LogFormat     string
}

// usageError is bad usage: exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command; it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "export:", err)
		return exitUsage
	}
	logger, err := newLogger(opts.LogFormat, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "export:", err)
		return exitUsage
	}
	if err := export(ctx, opts, logger, stdout); err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, "export:", err)
			return exitUsage
		}
		logger.Error("export failed", "err", err)
		return exitFailure
	}
	return exitOK
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: export --send-log FILE[,FILE] --webhooks FILE[,FILE] --out DIR|FILE.parquet [flags]\n\n"+
			"Joins a send log and Meta status webhooks into a history dataset (see docs/export.md).\n"+
			"Gzip inputs are decompressed (told by content). A --webhooks directory stands for its .ndjson[.gz] files. Exit codes: 0 ok, 1 failure or too many rejects, 2 bad usage.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var sendLogs, webhooks, mapping, hashKey string
	fs.StringVar(&sendLogs, "send-log", "", "send-log `files`, comma-separated (.ndjson/.jsonl/.json or .csv)")
	fs.StringVar(&o.SendLogFormat, "send-log-format", "auto", "send-log format: auto (by extension), ndjson or csv")
	fs.StringVar(&webhooks, "webhooks", "", "webhook NDJSON `files`, directories or globs, comma-separated (gzip read by content)")
	fs.StringVar(&o.Out, "out", "", "output: a `path` ending in .parquet for one file, else a directory")
	fs.BoolVar(&o.Partitioned, "partitioned", false, "write a directory --out as hive partitions by UTC day (dt=YYYY-MM-DD/part-0.parquet) instead of DIR/history.parquet")
	fs.StringVar(&o.Rejects, "rejects", "", "reject file `path` (default: rejects.ndjson in the output directory, or FILE.rejects.ndjson next to FILE.parquet)")
	fs.StringVar(&mapping, "map", "", "send-log field `mapping`: field=path,... (dotted JSON paths, or CSV headers), e.g. recipient=request.to,template=request.template.name")
	fs.StringVar(&hashKey, "hash-key", "", "recipient hashing `key` (default: $"+hashKeyEnv+")")
	fs.BoolVar(&o.NoHash, "no-hash", false, "keep recipients as phone numbers instead of hashing them")
	fs.Float64Var(&o.MaxRejectRate, "max-reject-rate", 1.0, "fail (exit 1, no history written) when more than this `share` of lines is rejected")
	fs.StringVar(&o.LogFormat, "log-format", "text", "log format on stderr: text or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, &usageError{err}
	}
	if fs.NArg() > 0 {
		return o, usagef("unexpected arguments %q (inputs go in --send-log and --webhooks)", fs.Args())
	}
	o.SendLogs, o.Webhooks = splitList(sendLogs), splitList(webhooks)
	if len(o.SendLogs)+len(o.Webhooks) == 0 {
		return o, usagef("no input: give --send-log and/or --webhooks")
	}
	if o.Out == "" {
		return o, usagef("--out is required")
	}
	if o.Partitioned && isParquetFile(o.Out) {
		return o, usagef("--partitioned needs a directory --out, not %s", o.Out)
	}
	switch o.SendLogFormat {
	case "auto", "ndjson", "csv":
	default:
		return o, usagef("--send-log-format %q: want auto, ndjson or csv", o.SendLogFormat)
	}
	var err error
	if o.Mapping, err = ingest.ParseMapping(mapping); err != nil {
		return o, usagef("--map: %w", err)
	}
	if hashKey == "" {
		hashKey = getenv(hashKeyEnv)
	}
	switch {
	case o.NoHash && hashKey != "":
		return o, usagef("--no-hash and a hash key (--hash-key or $%s) exclude each other", hashKeyEnv)
	case !o.NoHash && hashKey == "":
		return o, usagef("recipients must be hashed: give --hash-key or $%s (the key the plans are hashed with), or --no-hash", hashKeyEnv)
	}
	o.HashKey = []byte(hashKey)
	if o.MaxRejectRate < 0 || o.MaxRejectRate > 1 {
		return o, usagef("--max-reject-rate %v: want a share between 0 and 1", o.MaxRejectRate)
	}
	if o.Rejects == "" {
		o.Rejects = defaultRejectsPath(o.Out)
	}
	return o, nil
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func isParquetFile(path string) bool { return strings.EqualFold(filepath.Ext(path), ".parquet") }

// defaultRejectsPath puts the reject file next to the history.
func defaultRejectsPath(out string) string {
	if isParquetFile(out) {
		return strings.TrimSuffix(out, filepath.Ext(out)) + ".rejects.ndjson"
	}
	return filepath.Join(out, "rejects.ndjson")
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
