package scoring

import (
	"log/slog"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/pipeline"
)

// BadRows is what a run does with a plan row that cannot be scored.
type BadRows string

// The bad-row policies.
const (
	// RejectBadRows skips the row and lists it in rejected_rows.csv.
	RejectBadRows BadRows = "reject"
	// FailOnBadRows stops the run with an input error naming the row.
	FailOnBadRows BadRows = "fail"
)

// Config is what a scoring run (Run) scores, against what, and where its
// outputs go. The comment of each field names the flag of `score` (and
// `failcast score`) it comes from. DefaultConfig holds the defaults;
// Validate checks a Config before Run uses it.
type Config struct {
	// Plans are the campaign plans to score: .parquet or .csv files in
	// the plan contract (--plan, repeatable or a comma list).
	Plans []string
	// PlanMapping names the plan files' columns for plan contract
	// columns they hold under other names (--map column=file-column,...;
	// pipeline.ParsePlanMapping). Nil: the contract's names and aliases.
	PlanMapping pipeline.PlanMapping
	// Timezone is the IANA time zone of plan times written without one
	// ("2026-11-01 09:00:00"), such as "UTC" or "America/Sao_Paulo"
	// (--timezone; "" = such rows are rejected, naming the flag).
	Timezone string
	// History is the history dataset: a Parquet file, a directory, a glob
	// or hive partitions (--history).
	History string
	// AsOf is the time the features are computed at: only history before
	// it is used and plan sends before it are rejected (--as-of; the
	// command's default is now).
	AsOf time.Time
	// Registry is the model registry whose current model is used unless
	// Model is set (--registry).
	Registry string
	// Model is a model directory to use instead of the registry's current
	// model (--model).
	Model string
	// Out is the output directory for predictions.csv, campaigns.csv,
	// rejected_rows.csv and evaluation.json (--out).
	Out string
	// BadRows is what to do with an invalid plan row (--bad-rows).
	BadRows BadRows
	// Explore is the share (0..1) of would-be suppressed or deferred sends
	// sent anyway as exploration (--explore).
	Explore float64
	// Seed seeds the exploration draw (--seed).
	Seed uint64
	// Outcomes are the true outcomes of the plan (.parquet or .csv); when
	// set, the run evaluates its risk flags and writes evaluation.json
	// (--outcomes).
	Outcomes string
	// ThroughputMPS is the throughput of a sender phone number, messages
	// per second (--throughput-mps).
	ThroughputMPS float64
	// ThrottleSafety is the share (0..1] of the throughput a throttled
	// campaign is recommended to use (--throttle-safety).
	ThrottleSafety float64
	// BatchSize is the number of planned sends per scoring batch
	// (--batch-size).
	BatchSize int
	// RequireSorted fails the run when plan rows are not in scheduled_at
	// order instead of sorting them in memory (--require-sorted).
	RequireSorted bool
	// HashKey is the recipient hashing key: plan recipients given as raw
	// numbers are hashed with it so they match the history. Without it
	// they match no history and are masked in the outputs. The command
	// reads it from the environment variable named by --hash-key-env.
	HashKey []byte
	// HashKeyFrom says where the key comes from or would be set, for log
	// messages (the command sets "$" + --hash-key-env).
	HashKeyFrom string
	// Tokens is a token file (CSV: waba_id, token_expires_at): sends at or
	// after their WABA's token expiry are scored as refused with 190
	// (--tokens; "" = expiries unknown).
	Tokens string
	// StateCache is a directory to keep the history's folded feature state
	// in, read back by a later run against the same, unchanged history
	// (--state-cache; "" = none).
	StateCache string
	// Reasons says which sends get the top features of their P(fail) in
	// predictions.csv's reasons column (--reasons; "" = off).
	Reasons Reasons
	// Logger receives the run's progress and warnings (the command's
	// --log-format chooses its handler); nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults of every setting that has one (the
// defaults of the command's flags). Plans, History and AsOf have none.
func DefaultConfig() Config {
	return Config{
		Registry:       "out/registry",
		Out:            "out/score",
		BadRows:        RejectBadRows,
		Seed:           1,
		ThroughputMPS:  DefaultThroughputMPS,
		ThrottleSafety: DefaultSafetyFactor,
		BatchSize:      8192,
		HashKeyFrom:    "$FAILCAST_HASH_KEY",
		Reasons:        ReasonsOff,
	}
}

// Validate checks the settings. Its errors are usage errors
// (exitcode.Usage) naming the setting by its flag.
func (c Config) Validate() error {
	switch {
	case len(c.Plans) == 0:
		return exitcode.Usagef("--plan is required")
	case c.History == "":
		return exitcode.Usagef("--history is required")
	case c.AsOf.IsZero():
		return exitcode.Usagef("--as-of is required")
	case c.Registry == "" && c.Model == "":
		return exitcode.Usagef("--registry or --model is required")
	case c.Out == "":
		return exitcode.Usagef("--out is required")
	case c.BadRows != RejectBadRows && c.BadRows != FailOnBadRows:
		return exitcode.Usagef("--bad-rows %q: want %s or %s", c.BadRows, RejectBadRows, FailOnBadRows)
	case !(c.Explore >= 0 && c.Explore <= 1):
		return exitcode.Usagef("--explore %v: want a share within 0..1", c.Explore)
	case !(c.ThroughputMPS > 0):
		return exitcode.Usagef("--throughput-mps %v: want a positive rate", c.ThroughputMPS)
	case !(c.ThrottleSafety > 0 && c.ThrottleSafety <= 1):
		return exitcode.Usagef("--throttle-safety %v: want a share within (0, 1]", c.ThrottleSafety)
	case !c.Reasons.valid():
		return exitcode.Usagef("--reasons %q: want off, flagged or all", c.Reasons)
	case c.BatchSize < 1:
		return exitcode.Usagef("--batch-size %d: want at least 1", c.BatchSize)
	}
	for _, p := range c.Plans {
		if p == "" {
			return exitcode.Usagef("--plan: empty file name")
		}
	}
	if _, err := c.location(); err != nil {
		return err
	}
	return nil
}

// location returns the time zone of zone-less plan times (nil: none).
func (c Config) location() (*time.Location, error) {
	if c.Timezone == "" {
		return nil, nil
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, exitcode.Usagef("--timezone %q: want an IANA time zone such as UTC or America/Sao_Paulo (%v)", c.Timezone, err)
	}
	return loc, nil
}

// planOptions returns how the plan files are read.
func (c Config) planOptions(onWarning func(string)) (pipeline.PlanOptions, error) {
	loc, err := c.location()
	if err != nil {
		return pipeline.PlanOptions{}, err
	}
	return pipeline.PlanOptions{Mapping: c.PlanMapping, Location: loc, OnWarning: onWarning}, nil
}

// logger returns the configured logger, or one that discards.
func (c Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}
