package training

import (
	"io"
	"log/slog"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
)

// Config is everything a training run needs. Start from DefaultConfig.
// Errors name a setting by its flag and config-file key (--train-days is
// the TrainDays field).
type Config struct {
	History   string    // --history: a Parquet file, a directory (hive partitions allowed) or a glob
	AsOf      time.Time // --as-of: only history before it is read; zero means Now, truncated to the second
	TrainDays int       // --train-days: days of history before the validation window to train on
	ValidDays int       // --valid-days: the last days before as-of held out for validation

	Lead    time.Duration // --lead: how long before a send its risk is scored; also the train/validation gap
	Refresh time.Duration // --refresh: spacing of the training cutoff grid; stored with the model
	Warmup  time.Duration // --warmup: history at the start that only warms the feature state

	Registry  string  // --registry: model registry directory
	Seed      uint64  // --seed: the same seed, data and as-of give the same model
	Tolerance float64 // --tolerance: promote if PR-AUC >= the champion's minus this
	Force     bool    // --force: promote even if worse than the champion, or tied on the same data
	// BacktestFolds is the number of rolling-origin folds of the champion
	// comparison (--backtest-folds; 0: compare on the validation window
	// alone). BacktestRows caps each fold's training rows (the most recent
	// ones; --backtest-rows, 0: no cap). See backtest.go and docs/train.md.
	BacktestFolds int
	BacktestRows  int
	Keep          int           // --keep: versions to keep (0: all)
	Wait          time.Duration // --wait: how long to wait for another run's registry lock

	MetricsFile string // --metrics-file: Prometheus textfile written at the end of Run, even on failure ("" none)
	FeaturesOut string // --features-out: also write the training feature table to this Parquet file ("" none)

	Rounds       int     // --rounds: GBDT maximum boosting rounds
	Depth        int     // --depth: GBDT maximum tree depth
	LearningRate float64 // --learning-rate: GBDT learning rate
	EarlyStop    int     // --early-stop: GBDT early-stopping patience in rounds (0: never)

	// MaxTrainRows (--max-train-rows) is the row target of negative
	// down-sampling: when the training window holds more rows, every
	// failed send is kept and a seeded share of the successful ones,
	// halved until the rows kept fit, each kept success weighted by
	// 1/share. 0 keeps every row.
	MaxTrainRows int
	// MaxValidRows (--max-valid-rows) caps the validation rows of a run
	// built from history: when the validation window holds more, a seeded
	// uniform sample of them (a share halved until it fits, whatever the
	// outcome) is what the models are evaluated, calibrated and given
	// thresholds on. 0 keeps every row. RunTable's given table is never
	// sampled.
	MaxValidRows int
	// MemoryLimit (--memory-limit) is the soft memory limit of the run in
	// bytes: the Go collector works harder near it instead of letting
	// the heap grow to twice what is live (a 50M-event run peaks at 3.6
	// GB under 3500MiB, 5.6 GB without). 0: MemoryLimit (GOMEMLIMIT,
	// else 3/4 of a container's cgroup limit, else DefaultMemoryLimit or
	// 3/4 of the machine's memory, whichever is smaller). Below the live
	// heap the run slows down (Run warns); it does not fail.
	MemoryLimit int64
	// MaxFamilyRows (--max-family-rows) caps the failed training sends
	// of each family the error-family model trains on: a family with more
	// keeps a seeded uniform sample of them, each weighted by the
	// family's rows over those kept, so that rare families keep every
	// row while the common ones are thinned; 0: all.
	MaxFamilyRows int

	Baselines    bool // --baselines: also train and report the baselines
	BaselineRows int  // --baseline-rows: row cap of the random forest baseline
	LogRegRows   int  // --logreg-rows: row cap of the logistic regression baseline

	TargetPrecision float64 // --target-precision: the "high" threshold's precision on validation
	AlertBudget     float64 // --alert-budget: share of validation sends the "medium" threshold flags
	MinRows         int     // --min-rows: fewest training rows accepted (else an input error)
	MinFailures     int     // --min-failures: fewest failed training rows accepted (else an input error)

	// HashKey is the recipient hashing key the history is expected to be
	// hashed with (from the environment, never a flag; HashKeyFrom names
	// where it came from in messages). A history that records another
	// key's fingerprint is refused (an input error); an empty key checks
	// only that the history's files agree with each other.
	HashKey     []byte
	HashKeyFrom string

	// Log receives the run's log lines; nil discards them.
	Log *slog.Logger
	// Progress, when not nil, gets progress bars. Pass the *Console the
	// logger writes to, so that log lines and bars do not run into each
	// other; any other writer is wrapped in a Console of its own.
	Progress io.Writer
	// Now is the clock of version names, as-of "now" and decision times;
	// nil means time.Now.
	Now func() time.Time

	// table, when set (RunTable), is the feature table to train on
	// instead of one built from History.
	table *features.Table

	// beforePromote, when set, runs after the new version is committed
	// and before the current symlink moves; tests use it to simulate a
	// crash.
	beforePromote func() error
}

// DefaultConfig returns the defaults of every setting (what train --help
// shows).
func DefaultConfig() Config {
	return Config{
		History:         "out/sim/history",
		TrainDays:       28,
		ValidDays:       3,
		Lead:            4 * time.Hour,
		Refresh:         features.DefaultConfig().Refresh,
		Registry:        "out/registry",
		Seed:            1,
		Tolerance:       0.005,
		BacktestFolds:   3,
		BacktestRows:    100000,
		Keep:            14,
		Rounds:          300,
		Depth:           6,
		LearningRate:    0.1,
		EarlyStop:       30,
		MaxTrainRows:    DefaultMaxTrainRows,
		MaxValidRows:    DefaultMaxValidRows,
		MaxFamilyRows:   DefaultMaxFamilyRows,
		Baselines:       true,
		BaselineRows:    10000,
		LogRegRows:      200000,
		TargetPrecision: 0.8,
		AlertBudget:     0.1,
		MinRows:         500,
		MinFailures:     20,
	}
}

// Validate checks every setting; a bad one is a usage error
// (exitcode.Usage) naming it.
func (c Config) Validate() error {
	switch {
	case c.History == "":
		return exitcode.Usagef("--history is required")
	case c.Registry == "":
		return exitcode.Usagef("--registry is required")
	}
	return c.validateSettings()
}

// validateSettings checks every setting but the paths (BuildTables is
// handed its history and writes nothing).
func (c Config) validateSettings() error {
	usagef := exitcode.Usagef
	switch {
	case c.TrainDays < 1:
		return usagef("--train-days is %d, want at least 1", c.TrainDays)
	case c.ValidDays < 1:
		return usagef("--valid-days is %d, want at least 1", c.ValidDays)
	case c.Lead < 0:
		return usagef("--lead is %s, want 0 or more", c.Lead)
	case c.Refresh <= 0:
		return usagef("--refresh is %s, want more than 0", c.Refresh)
	case c.Warmup < 0:
		return usagef("--warmup is %s, want 0 or more", c.Warmup)
	case c.Tolerance < 0 || c.Tolerance >= 1:
		return usagef("--tolerance is %g, want a PR-AUC difference in [0, 1)", c.Tolerance)
	case c.BacktestFolds < 0 || c.BacktestFolds > 10:
		return usagef("--backtest-folds is %d, want 0 (off) to 10", c.BacktestFolds)
	case c.BacktestRows < 0:
		return usagef("--backtest-rows is %d, want 0 (no cap) or more", c.BacktestRows)
	case c.Keep < 0:
		return usagef("--keep is %d, want 0 (keep all) or more", c.Keep)
	case c.Wait < 0:
		return usagef("--wait is %s, want 0 or more", c.Wait)
	case c.Rounds < 1:
		return usagef("--rounds is %d, want at least 1", c.Rounds)
	case c.Depth < 1 || c.Depth > 16:
		return usagef("--depth is %d, want 1 to 16", c.Depth)
	case !(c.LearningRate > 0 && c.LearningRate <= 1):
		return usagef("--learning-rate is %g, want (0, 1]", c.LearningRate)
	case c.EarlyStop < 0:
		return usagef("--early-stop is %d, want 0 or more", c.EarlyStop)
	case c.MaxTrainRows < 0:
		return usagef("--max-train-rows is %d, want 0 (keep every row) or more", c.MaxTrainRows)
	case c.MaxValidRows < 0:
		return usagef("--max-valid-rows is %d, want 0 (keep every row) or more", c.MaxValidRows)
	case c.MemoryLimit < 0:
		return usagef("--memory-limit is %d, want a positive size or 0 (automatic)", c.MemoryLimit)
	case c.MaxFamilyRows < 0:
		return usagef("--max-family-rows is %d, want 0 (every failed send) or more (per family)", c.MaxFamilyRows)
	case c.BaselineRows < 1:
		return usagef("--baseline-rows is %d, want at least 1", c.BaselineRows)
	case c.LogRegRows < 1:
		return usagef("--logreg-rows is %d, want at least 1", c.LogRegRows)
	case !(c.TargetPrecision > 0 && c.TargetPrecision < 1):
		return usagef("--target-precision is %g, want (0, 1)", c.TargetPrecision)
	case !(c.AlertBudget > 0 && c.AlertBudget < 1):
		return usagef("--alert-budget is %g, want (0, 1)", c.AlertBudget)
	case c.MinRows < 1:
		return usagef("--min-rows is %d, want at least 1", c.MinRows)
	case c.MinFailures < 1:
		return usagef("--min-failures is %d, want at least 1", c.MinFailures)
	}
	return nil
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c Config) logger() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.DiscardHandler)
}
