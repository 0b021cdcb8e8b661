package commands

import (
	"context"
	"encoding/json"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/simulate"
)

// worldFlags are the flags that describe a simulated world; a replay must
// be given the same ones as the run that wrote the plan.
type worldFlags struct {
	cfg        simulate.Config
	scale      float64
	hashKeyEnv string
}

func bindWorld(f *pflag.FlagSet, w *worldFlags) {
	w.cfg = simulate.DefaultConfig()
	c := &w.cfg
	f.Uint64Var(&c.Seed, "seed", c.Seed, "random seed: the same flags give the same outputs")
	f.IntVar(&c.Days, "days", c.Days, "days of history before --as-of")
	f.IntVar(&c.PlanDays, "plan-days", c.PlanDays, "days of plan after --as-of")
	cli.TimeVar(f, &c.AsOf, "as-of", c.AsOf.Format("2006-01-02T15:04:05Z07:00"), "end of the history and start of the plan")
	f.IntVar(&c.WABAs, "wabas", c.WABAs, "WhatsApp Business Accounts")
	f.IntVar(&c.PhoneNumbers, "numbers", c.PhoneNumbers, "sender phone numbers")
	f.IntVar(&c.Recipients, "recipients", c.Recipients, "recipients")
	f.IntVar(&c.Templates, "templates", c.Templates, "message templates at the start")
	f.IntVar(&c.CampaignsPerDay, "campaigns-per-day", c.CampaignsPerDay, "mean campaigns started per day")
	f.Float64Var(&w.scale, "scale", 1, "multiply the volume (recipients, campaigns, numbers, templates)")
	cli.HashKeyEnvVar(f, &w.hashKeyEnv)
}

// config returns the world's configuration: scaled, with the hashing key
// from the environment (the demo key when the variable is unset).
func (w *worldFlags) config() (simulate.Config, error) {
	cfg := w.cfg
	if w.scale <= 0 {
		return cfg, exitcode.Usagef("--scale %g: want a positive factor", w.scale)
	}
	cfg = cfg.Scaled(w.scale)
	if key, ok := cli.LookupSecret(w.hashKeyEnv); ok {
		cfg.HashKey = key
	}
	if err := cfg.Validate(); err != nil {
		return cfg, exitcode.Wrap(exitcode.Usage, err)
	}
	return cfg, nil
}

// NewSimulate returns `simulate` and its subcommand `replay`.
func NewSimulate() *cobra.Command {
	var w worldFlags
	var out string
	var raw bool
	cmd := cli.Command(cli.Spec{
		Use:   "simulate",
		Short: "write a simulated sender's history, an upcoming plan and the plan's true outcomes",
		Long: `Writes a simulated WhatsApp Business sender's history, an upcoming campaign plan and the
plan's true outcomes under --out: history/ (hive-partitioned Parquet, one file per UTC day),
plan.parquet and plan.csv, outcomes.parquet and outcomes.csv, tokens.csv (when each WABA's
access token expires, as the sender knows it at as-of: the input of score --tokens), and
with --raw raw/send-log.ndjson and raw/webhooks.ndjson. Everything is written to a staging
directory first and moved into place only when the whole run succeeded, so a failed run
leaves earlier outputs untouched. See docs/simulator.md.

Recipients are hashed with the key in $FAILCAST_HASH_KEY (or the variable --hash-key-env
names); without it, with the demo key "` + simulate.DefaultHashKey + `".`,
		Example: `  failcast simulate --seed 42 --as-of 2026-11-01 --out out/sim
  failcast simulate --scale 6 --raw --out out/big`,
		Config: true,
	},
		func(f *pflag.FlagSet) {
			bindWorld(f, &w)
			f.StringVar(&out, "out", filepath.Join("out", "sim"), "output directory")
			f.BoolVar(&raw, "raw", false, "also write raw/send-log.ndjson and raw/webhooks.ndjson")
		},
		func(ctx context.Context, env cli.Env) error {
			cfg, err := w.config()
			if err != nil {
				return err
			}
			_, err = simulate.WriteOutputs(ctx, cfg, out, raw, env.Log)
			return err
		})
	cmd.AddCommand(newReplay())
	return cmd
}

func newReplay() *cobra.Command {
	var w worldFlags
	var files simulate.ReplayFiles
	var asJSON bool
	return cli.Command(cli.Spec{
		Use:   "replay",
		Short: "measure what acting on a scoring run's recommendations would have prevented",
		Long: `Replays a simulated plan in its world with a scoring run's recommendations applied
(predictions.csv's action per send, campaigns.csv's recommended rate per campaign) and
prints the failures prevented, the sends given up and the delays. The world flags must be
those of the run that wrote the plan.`,
		Example: `  failcast simulate replay --plan out/sim/plan.parquet --predictions out/score/predictions.csv \
      --campaigns out/score/campaigns.csv`,
		Required: []string{"plan", "predictions"},
		Config:   true,
	},
		func(f *pflag.FlagSet) {
			bindWorld(f, &w)
			f.StringVar(&files.Plan, "plan", "", "plan file written by simulate (.parquet or .csv)")
			f.StringVar(&files.Predictions, "predictions", "", "predictions CSV with columns send_id and action")
			f.StringVar(&files.Campaigns, "campaigns", "", "campaigns CSV with columns campaign_id and recommended_rate_mps (optional)")
			f.BoolVar(&asJSON, "json", false, "print the report as JSON")
		},
		func(ctx context.Context, env cli.Env) error {
			cfg, err := w.config()
			if err != nil {
				return err
			}
			rep, err := simulate.ReplayFromFiles(ctx, cfg, files, env.Log)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return rep.WriteTable(env.Stdout)
		})
}
