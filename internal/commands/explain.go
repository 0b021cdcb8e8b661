package commands

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/scoring"
)

// NewExplain returns `explain`: every feature's contribution to one
// planned send's P(fail).
func NewExplain() *cobra.Command { return newExplain(runExplain) }

// runExplain is explain's one call: the stage, then the table (or JSON)
// on stdout.
func runExplain(ctx context.Context, env cli.Env, cfg scoring.Config, sendID string, asJSON bool) error {
	e, err := scoring.ExplainSend(ctx, cfg, sendID)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(explainJSON{
			SendID: e.SendID, CampaignID: e.CampaignID, ScheduledAt: scoring.FormatTime(e.ScheduledAt), Model: e.Model,
			AsOf: scoring.FormatTime(e.AsOf), Bias: e.Bias, Logit: e.Logit, PFail: e.PFail, Contributions: e.Contributions,
		})
	}
	return e.WriteText(env.Stdout)
}

// explainJSON is explain --json's object.
type explainJSON struct {
	SendID        string                        `json:"send_id"`
	CampaignID    string                        `json:"campaign_id"`
	ScheduledAt   string                        `json:"scheduled_at"`
	Model         string                        `json:"model_version"`
	AsOf          string                        `json:"as_of"`
	Bias          float64                       `json:"base_value"`
	Logit         float64                       `json:"log_odds"`
	PFail         float64                       `json:"model_p_fail"`
	Contributions []scoring.FeatureContribution `json:"contributions"`
}

func newExplain(run func(context.Context, cli.Env, scoring.Config, string, bool) error) *cobra.Command {
	cfg := scoring.DefaultConfig()
	var hashKeyEnv, sendID string
	var asJSON bool
	return cli.Command(cli.Spec{
		Use:   "explain",
		Short: "why one planned send got its P(fail): every feature's contribution",
		Long: `Explains one planned send's P(fail): computes its features as score would (the
same --plan, --history, --as-of and model; the plan is read up to the send, so
schedule features see the sends before it) and prints every feature's value and
its exact TreeSHAP contribution to the log-odds of P(fail), largest first, with
the base value (the expected log-odds over the training rows). Base value plus
the contributions equals the log-odds of the fail model's P(fail), before any
adjustment score makes afterwards (a known token expiry, a calibration step).
predictions.csv's reasons column (score --reasons) holds the top 3 of these.`,
		Example:  `  failcast explain --send-id cmp-20261101-03-000042 --plan plan.parquet --history history/ --registry models/ --as-of 2026-11-01`,
		Config:   true,
		Required: []string{"plan", "history", "send-id"},
	},
		func(f *pflag.FlagSet) {
			f.StringVar(&sendID, "send-id", "", "send_id of the planned send to explain")
			f.StringSliceVar(&cfg.Plans, "plan", nil, "campaign plan holding the send, .parquet or .csv in the plan contract (repeatable, or a comma list)")
			f.StringVar(&cfg.History, "history", "", "history dataset: a Parquet file, a directory, a glob or hive partitions")
			cli.TimeVar(f, &cfg.AsOf, "as-of", "now", "time the features are computed at (use the scoring run's)")
			f.StringVar(&cfg.Registry, "registry", cfg.Registry, "model registry; its current model is used unless --model is given")
			f.StringVar(&cfg.Model, "model", "", "model directory to use instead of the registry's current model")
			f.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "planned sends per batch")
			f.StringVar(&cfg.StateCache, "state-cache", "", "directory of score's folded feature state cache, read back when it matches")
			f.BoolVar(&asJSON, "json", false, "print JSON instead of the table")
			cli.HashKeyEnvVar(f, &hashKeyEnv)
		},
		func(ctx context.Context, env cli.Env) error {
			cfg.HashKeyFrom = "$" + hashKeyEnv
			if key, ok := cli.LookupSecret(hashKeyEnv); ok {
				cfg.HashKey = []byte(key)
			}
			cfg.Logger = env.Log
			return run(ctx, env, cfg, sendID, asJSON)
		})
}
