package commands

import (
	"context"
	"io"
	"math"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/training"
)

// NewTrain returns `train`: the nightly training job.
func NewTrain() *cobra.Command { return newTrain(runTrain) }

// runTrain is train's one call (training.Run logs the outcome and writes
// the metrics file itself).
func runTrain(ctx context.Context, cfg training.Config) error {
	_, err := training.Run(ctx, cfg)
	return err
}

// newTrain builds the command around run, which tests replace to see the
// Config the flags make.
func newTrain(run func(context.Context, training.Config) error) *cobra.Command {
	cfg := training.DefaultConfig()
	progress, hashKeyEnv := "auto", ""
	start := time.Now()
	return cli.Command(cli.Spec{
		Use:   "train",
		Short: "train the failure models and publish them if they are not worse than the champion",
		Long: `The nightly training job. Reads the history dataset before --as-of (nothing at or
after it is read), builds point-in-time features, trains the P(fail) and
error-family models (gradient-boosted trees) with golearn baselines for
comparison on a time-ordered split (the last --valid-days held out, with a
gap of at least --lead), and publishes the result to the model registry if
it is at least as good as the champion. The registry is locked for the run
(an OS file lock the kernel releases when the holder dies); a failed or
killed run leaves the champion and registry untouched. report.md with charts
and, with --metrics-file, Prometheus metrics describe the run. See
docs/train.md and docs/scheduling.md.`,
		Example: `  failcast train --history history/ --registry models/ --as-of 2026-11-01
  failcast train --config /etc/failcast/train.yaml --metrics-file /var/lib/node_exporter/failcast_train.prom`,
		Config:   true,
		Required: []string{"history", "registry"},
		// A nightly run that fails on its flags still tells the metrics
		// file (its last success time is kept).
		BeforeRunFailed: func(code int) {
			if cfg.MetricsFile != "" {
				training.WriteMetricsFile(cfg.MetricsFile, training.RunMetrics{Duration: time.Since(start), ValidPRAUC: math.NaN(),
					ExitCode: code, Finished: time.Now()})
			}
		},
	},
		func(f *pflag.FlagSet) {
			bindTrain(f, &cfg, &progress)
			cli.HashKeyEnvVar(f, &hashKeyEnv)
		},
		func(ctx context.Context, env cli.Env) error {
			cfg.HashKeyFrom = "$" + hashKeyEnv
			if key, ok := cli.LookupSecret(hashKeyEnv); ok {
				cfg.HashKey = []byte(key)
			}
			con := training.NewConsole(env.Stderr)
			cfg.Log = cli.NewLogger(con, env.LogFormat, env.LogLevel)
			if progressEnabled(progress, env.Stderr) {
				cfg.Progress = con
			}
			return run(ctx, cfg)
		})
}

func bindTrain(f *pflag.FlagSet, c *training.Config, progress *string) {
	f.StringVar(&c.History, "history", "", "history dataset: a Parquet file, a directory (hive partitions allowed) or a glob")
	cli.TimeVar(f, &c.AsOf, "as-of", "", "train as of this time: only history before it is used; reruns of a past night give the same model (default now)")
	f.IntVar(&c.TrainDays, "train-days", c.TrainDays, "days of history before the validation window to train on")
	f.IntVar(&c.ValidDays, "valid-days", c.ValidDays, "the last days before as-of held out for validation, early stopping, thresholds and the champion comparison")
	cli.DurationVar(f, &c.Lead, "lead", c.Lead, "how long before a send its risk is scored; features only see history this far before a send, and the gap between training and validation is at least this")
	cli.DurationVar(f, &c.Warmup, "warmup", c.Warmup, "history at the start of the dataset that only warms the feature state: sends in it are not training examples")
	cli.DurationVar(f, &c.Refresh, "refresh", c.Refresh, "spacing of the training cutoff grid: the model is meant to score plans up to this far past their as-of (plus --lead); stored with the model")
	f.StringVar(&c.Registry, "registry", "", "model registry directory (versions/, current, lock)")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "random seed: the same seed, data and as-of give the same model")
	f.Float64Var(&c.Tolerance, "tolerance", c.Tolerance, "promote the challenger if its validation PR-AUC is at least the champion's minus this")
	f.BoolVar(&c.Force, "force", c.Force, "promote the challenger even if it is worse than the champion or ties with it, or the champion cannot be loaded; train again even when the inputs equal the champion's")
	f.IntVar(&c.BacktestFolds, "backtest-folds", c.BacktestFolds, "rolling-origin folds of the champion comparison (0: the validation window alone); see docs/train.md")
	f.IntVar(&c.BacktestRows, "backtest-rows", c.BacktestRows, "cap on each backtest fold's training rows, the most recent ones (0: no cap)")
	f.IntVar(&c.Keep, "keep", c.Keep, "versions to keep in the registry (the champion is never deleted); 0 keeps all")
	cli.DurationVar(f, &c.Wait, "wait", c.Wait, "if another run holds the registry lock, wait up to this long for it (0: exit 4 at once)")
	f.StringVar(&c.MetricsFile, "metrics-file", "", "write Prometheus metrics to this file (node_exporter textfile format), even when the run fails")
	cli.EnumVar(f, progress, "progress", *progress, []string{"auto", "always", "never"}, "progress bars on stderr: auto draws them when stderr is a terminal")
	f.StringVar(&c.FeaturesOut, "features-out", "", "also write the training feature table to this Parquet file")
	f.IntVar(&c.Rounds, "rounds", c.Rounds, "GBDT: maximum boosting rounds")
	f.IntVar(&c.Depth, "depth", c.Depth, "GBDT: maximum tree depth")
	f.Float64Var(&c.LearningRate, "learning-rate", c.LearningRate, "GBDT: learning rate")
	f.IntVar(&c.EarlyStop, "early-stop", c.EarlyStop, "GBDT: stop when validation log-loss has not improved for this many rounds (0: never)")
	f.BoolVar(&c.Baselines, "baselines", c.Baselines, "also train logistic regression, random forest and rule baselines and report them")
	f.IntVar(&c.BaselineRows, "baseline-rows", c.BaselineRows, "row cap for the random forest baseline, sampled with the seed")
	f.IntVar(&c.LogRegRows, "logreg-rows", c.LogRegRows, "row cap for the logistic regression baseline, sampled with the seed")
	f.IntVar(&c.MaxTrainRows, "max-train-rows", c.MaxTrainRows, "down-sample: keep every failed training send and a seeded share of the successful ones (weighted back by 1/share) so that at most about this many rows train the failure model; 0 keeps every row")
	cli.SizeVar(f, &c.MemoryLimit, "memory-limit", c.MemoryLimit, "soft memory limit of the run, e.g. 3500MiB: the collector works harder near it (default: GOMEMLIMIT, else 3/4 of a container's memory limit, else 3500MiB or 3/4 of the machine's memory, whichever is smaller)")
	f.IntVar(&c.MaxValidRows, "max-valid-rows", c.MaxValidRows, "evaluate, calibrate and set thresholds on a seeded uniform sample of at most this many validation sends when the window holds more; 0 keeps every row")
	f.IntVar(&c.MaxFamilyRows, "max-family-rows", c.MaxFamilyRows, "the error-family model trains on at most this many failed sends of each family, sampled with the seed and weighted back; 0 uses them all")
	f.Float64Var(&c.TargetPrecision, "target-precision", c.TargetPrecision, `precision the "high" threshold is chosen for on validation`)
	f.Float64Var(&c.AlertBudget, "alert-budget", c.AlertBudget, `fraction of sends the "medium" threshold flags on validation`)
	f.IntVar(&c.MinRows, "min-rows", c.MinRows, "refuse to train on fewer training rows than this (exit 3)")
	f.IntVar(&c.MinFailures, "min-failures", c.MinFailures, "refuse to train on fewer failed training rows than this (exit 3)")
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
