// Command score scores upcoming campaign plans before they go out: which
// planned sends will fail, why, and what to do about them.
//
//	score --plan plan.parquet --history out/sim/history --as-of 2026-11-01T00:00:00Z
//
// It reads the plans (Parquet or CSV in the plan contract), folds the
// history before --as-of into point-in-time features, runs the current
// model of the registry (or --model), and writes predictions.csv,
// campaigns.csv and rejected_rows.csv (and evaluation.json with
// --outcomes) to --out, switched into place together. docs/predictions.md documents the
// files; `score --help` lists every flag.
//
// Exit codes (package exitcode): 0 ok, 2 bad usage, 3 bad input (plan,
// history, outcomes, a hash key that is not the history's) or a model
// that does not match this build's features, 4 another run writes --out,
// 1 internal failure.
//
// The stage itself is scoring.Run; this command parses the flags into a
// scoring.Config and calls it.
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
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring"
)

// options are the command's settings, from flags: the run's Config and
// what only the command uses.
type options struct {
	scoring.Config
	LogFormat string // text or json
	Top       int    // campaigns and warnings in the summary
}

// planList is a repeatable flag whose values may also be comma lists.
type planList []string

func (p *planList) String() string { return strings.Join(*p, ",") }

func (p *planList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*p = append(*p, s)
		}
	}
	return nil
}

// parseFlags reads the command line. now is the default --as-of; getenv
// looks up the hashing key's environment variable (--hash-key-env).
func parseFlags(args []string, stderr io.Writer, now time.Time, getenv func(string) string) (options, error) {
	o := options{Config: scoring.DefaultConfig()}
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var plans planList
	var asOf, badRows, hashKeyEnv, mapping string
	fs.Var(&plans, "plan", "campaign plan to score, .parquet or .csv in the plan contract (repeatable, or a comma list; required)")
	fs.StringVar(&mapping, "map", "", "plan columns under other names: comma-separated column=file-column pairs such as recipient=phone,scheduled_at=send_time (docs/predictions.md, Plan files)")
	fs.StringVar(&o.Timezone, "timezone", "", "IANA time zone of plan times written without one (2026-11-01 09:00:00), e.g. UTC or America/Sao_Paulo; without it such rows are rejected")
	fs.StringVar(&o.History, "history", "", "history dataset: a Parquet file, a directory, a glob or hive partitions (required)")
	fs.StringVar(&asOf, "as-of", "", "time the features are computed at, RFC 3339 (default now); only history before it is used and plan sends before it are rejected")
	fs.StringVar(&o.Registry, "registry", o.Registry, "model registry; its current model is used unless --model is given")
	fs.StringVar(&o.Model, "model", "", "model directory to use instead of the registry's current model")
	fs.StringVar(&o.Out, "out", o.Out, "output directory for predictions.csv, campaigns.csv, rejected_rows.csv and evaluation.json")
	fs.StringVar(&badRows, "bad-rows", string(o.BadRows), "what to do with an invalid plan row: reject (skip it, list it in rejected_rows.csv) or fail (stop the run, exit 3)")
	fs.Float64Var(&o.Explore, "explore", 0, "share (0..1) of would-be suppressed or deferred sends sent anyway as exploration, so the model keeps seeing their outcomes")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "seed of the exploration draw (the draw of a send depends only on the seed and its send id)")
	fs.StringVar(&o.Outcomes, "outcomes", "", "true outcomes of the plan (.parquet or .csv, e.g. the simulator's outcomes.parquet): print precision and recall of the risk flags and write evaluation.json")
	fs.Float64Var(&o.ThroughputMPS, "throughput-mps", o.ThroughputMPS, "throughput of a sender phone number, messages per second")
	fs.Float64Var(&o.ThrottleSafety, "throttle-safety", o.ThrottleSafety, "share of the throughput a throttled campaign is recommended to use (0..1]")
	fs.IntVar(&o.BatchSize, "batch-size", o.BatchSize, "planned sends per scoring batch")
	fs.BoolVar(&o.RequireSorted, "require-sorted", false, "fail (exit 3) when plan rows are not in scheduled_at order instead of sorting them in memory")
	fs.StringVar(&hashKeyEnv, "hash-key-env", "FAILCAST_HASH_KEY", "environment variable holding the recipient hashing key; when set, plan recipients given as raw numbers are hashed with it so they match the history")
	fs.StringVar(&o.LogFormat, "log-format", "text", "log format on stderr: text or json")
	fs.IntVar(&o.Top, "top", 5, "campaigns and warnings listed in the summary")
	fs.StringVar(&o.Tokens, "tokens", "", "token file (CSV: waba_id, token_expires_at, e.g. from Meta's debug_token): sends at or after their WABA's token expiry are scored as refused with 190 and get \"renew token\"")
	fs.StringVar(&o.StateCache, "state-cache", "", "directory to keep the history's folded feature state in: a later run against the same, unchanged history reads it back instead of folding every event (used when the whole history is before --as-of; one history's state is kept)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: score --plan PLAN [--plan PLAN...] --history DATASET [flags]

Scores upcoming campaign plans: which planned sends will fail, why, and what
to do. Writes predictions.csv (one row per send), campaigns.csv (one row per
campaign) and rejected_rows.csv to --out, atomically; docs/predictions.md
documents every column and the action policy.

Exit codes: 0 ok; 2 bad usage; 3 bad input (plan, history, outcomes, a bad
plan row with --bad-rows fail, a hash key that is not the history's) or a
model trained on other features than this build computes; 4 another run
writes --out; 1 internal failure.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, exitcode.Wrap(exitcode.Usage, err)
	}
	if fs.NArg() > 0 {
		return o, exitcode.Usagef("unexpected arguments %q (give plans with --plan)", fs.Args())
	}
	o.Plans = plans
	o.BadRows = scoring.BadRows(badRows)
	if m, err := pipeline.ParsePlanMapping(mapping); err != nil {
		return o, exitcode.Usagef("--map: %v", err)
	} else if len(m) > 0 {
		o.PlanMapping = m
	}
	switch {
	case o.LogFormat != "text" && o.LogFormat != "json":
		return o, exitcode.Usagef("--log-format %q: want text or json", o.LogFormat)
	case o.Top < 0:
		return o, exitcode.Usagef("--top %d: want 0 or more", o.Top)
	}
	o.AsOf = now.UTC()
	if asOf != "" {
		t, err := time.Parse(time.RFC3339, asOf)
		if err != nil {
			return o, exitcode.Usagef("--as-of %q: want an RFC 3339 time such as 2026-11-01T00:00:00Z", asOf)
		}
		o.AsOf = t.UTC()
	}
	o.HashKeyFrom = "$" + hashKeyEnv
	if hashKeyEnv != "" {
		if key := getenv(hashKeyEnv); key != "" {
			o.HashKey = []byte(key)
		}
	}
	return o, o.Validate()
}

func newLogger(format string, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// mainExit runs the command and returns its exit code.
func mainExit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr, time.Now(), os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return exitcode.OK
	}
	if err != nil {
		fmt.Fprintf(stderr, "score: %v (see score --help)\n", err)
		return exitcode.Usage
	}
	log := newLogger(o.LogFormat, stderr)
	o.Logger = log
	res, err := scoring.Run(ctx, o.Config)
	if err != nil {
		code := exitcode.Of(err)
		log.Error("scoring failed", "err", err, "exit_code", code)
		return code
	}
	res.WriteSummary(stdout, o.Top)
	return exitcode.OK
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := mainExit(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
