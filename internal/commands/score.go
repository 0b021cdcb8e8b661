package commands

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring"
)

// NewScore returns `score`: score upcoming campaign plans into prediction
// CSVs with warnings and actions.
func NewScore() *cobra.Command { return newScore(runScore) }

// runScore is score's one call: the stage, then its summary on stdout.
func runScore(ctx context.Context, env cli.Env, cfg scoring.Config, top int) error {
	// Scoring streams the plan through short-lived batches over a small
	// live heap (the feature state): collecting at 200% instead of Go's
	// default 100% cut a 1M-send run's CPU by ~10% for ~50 MB more peak
	// RSS. GOGC in the environment still decides.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(200)
	}
	res, err := scoring.Run(ctx, cfg)
	if err != nil {
		return err
	}
	res.WriteSummary(env.Stdout, top)
	return nil
}

// newScore builds the command around run, which tests replace to see the
// Config the flags make.
func newScore(run func(context.Context, cli.Env, scoring.Config, int) error) *cobra.Command {
	cfg := scoring.DefaultConfig()
	var badRows, hashKeyEnv, reasons, planMapping string
	top := 5
	return cli.Command(cli.Spec{
		Use:   "score",
		Short: "score upcoming campaign plans: which sends will fail, why, and what to do",
		Long: `Scores upcoming campaign plans before they go out. Reads the plans (Parquet or CSV
in the plan contract), folds the history before --as-of into point-in-time
features, runs the registry's current model (or --model), and writes
predictions.csv (one row per send), campaigns.csv (one row per campaign),
rejected_rows.csv and, with --outcomes, evaluation.json to --out, as one set
switched into place atomically. docs/predictions.md documents every column and
the action policy.`,
		Example: `  failcast score --plan plan.parquet --history history/ --registry models/ --out scored/
  failcast score --config /etc/failcast/score.yaml --as-of now`,
		Config:   true,
		Required: []string{"plan", "history"},
	},
		func(f *pflag.FlagSet) {
			f.StringSliceVar(&cfg.Plans, "plan", nil, "campaign plan to score, .parquet or .csv in the plan contract (repeatable, or a comma list)")
			f.StringVar(&planMapping, "map", "", "plan columns under other names, field=column,... (e.g. send_id=id,scheduled_at=send_time,template=tpl); unused columns are named with the closest contract field")
			f.StringVar(&cfg.Timezone, "timezone", "", "IANA time zone of plan times written without one, e.g. America/Sao_Paulo (default: reject such rows, naming this flag)")
			f.StringVar(&cfg.History, "history", "", "history dataset: a Parquet file, a directory, a glob or hive partitions")
			cli.TimeVar(f, &cfg.AsOf, "as-of", "now", "time the features are computed at: only history before it is used and plan sends before it are rejected")
			f.StringVar(&cfg.Registry, "registry", cfg.Registry, "model registry; its current model is used unless --model is given")
			f.StringVar(&cfg.Model, "model", "", "model directory to use instead of the registry's current model")
			f.StringVar(&cfg.Out, "out", cfg.Out, "output directory for predictions.csv, campaigns.csv, rejected_rows.csv and evaluation.json")
			cli.EnumVar(f, &badRows, "bad-rows", string(cfg.BadRows), []string{string(scoring.RejectBadRows), string(scoring.FailOnBadRows)},
				"what to do with an invalid plan row: reject (skip it, list it in rejected_rows.csv) or fail (stop the run, exit 3)")
			f.Float64Var(&cfg.Explore, "explore", 0, "share (0..1) of would-be suppressed or deferred sends sent anyway as exploration, so the model keeps seeing their outcomes")
			f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the exploration draw (the draw of a send depends only on the seed and its send id)")
			f.StringVar(&cfg.Outcomes, "outcomes", "", "true outcomes of the plan (.parquet or .csv): print precision and recall of the risk flags and write evaluation.json")
			f.Float64Var(&cfg.ThroughputMPS, "throughput-mps", cfg.ThroughputMPS, "throughput of a sender phone number, messages per second")
			f.Float64Var(&cfg.ThrottleSafety, "throttle-safety", cfg.ThrottleSafety, "share of the throughput a throttled campaign is recommended to use (0..1]")
			f.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "planned sends per scoring batch")
			f.BoolVar(&cfg.RequireSorted, "require-sorted", false, "fail (exit 3) when plan rows are not in scheduled_at order instead of sorting them in memory")
			f.StringVar(&cfg.Tokens, "tokens", "", "token file (CSV: waba_id, token_expires_at, e.g. from Meta's debug_token): sends at or after their WABA's token expiry are scored as refused with 190 and get \"renew token\"")
			f.StringVar(&cfg.StateCache, "state-cache", "", "directory to keep the history's folded feature state in; a later run against the same, unchanged history reads it back")
			cli.EnumVar(f, &reasons, "reasons", string(scoring.ReasonsOff), []string{string(scoring.ReasonsOff), string(scoring.ReasonsFlagged), string(scoring.ReasonsAll)},
				"reasons column of predictions.csv, the top 3 TreeSHAP contributions to P(fail): off, flagged (medium and high risk sends) or all (costly: see docs/predictions.md)")
			f.IntVar(&top, "top", top, "campaigns and warnings listed in the summary")
			cli.HashKeyEnvVar(f, &hashKeyEnv)
		},
		func(ctx context.Context, env cli.Env) error {
			if top < 0 {
				return exitcode.Usagef("--top %d: want 0 or more", top)
			}
			cfg.BadRows = scoring.BadRows(badRows)
			var err error
			if cfg.PlanMapping, err = pipeline.ParsePlanMapping(planMapping); err != nil {
				return exitcode.Usagef("--map: %w", err)
			}
			cfg.Reasons = scoring.Reasons(reasons)
			cfg.HashKeyFrom = "$" + hashKeyEnv
			if key, ok := cli.LookupSecret(hashKeyEnv); ok {
				cfg.HashKey = []byte(key)
			}
			cfg.Logger = env.Log
			if err := cfg.Validate(); err != nil {
				return err
			}
			return run(ctx, env, cfg, top)
		})
}
