package commands

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/scoring"
	"github.com/failcast/failcast/scoring/outcomes"
)

// NewOutcomes returns `outcomes`: a plan's true outcomes from a history
// exported after it ran.
func NewOutcomes() *cobra.Command {
	cfg := scoring.OutcomesConfig{Options: outcomes.DefaultOptions(), BatchSize: scoring.DefaultConfig().BatchSize}
	var hashKeyEnv string
	return cli.Command(cli.Spec{
		Use:   "outcomes",
		Short: "derive a plan's true outcomes from a history exported after it ran",
		Long: `Derives what happened to every send of a plan from a history exported after the
plan ran (failcast export of the later send log and webhooks), and writes the
outcome file (send_id, failed, error_code, error_family) that score --outcomes
and the outcome notebook read. A send is joined to its message by message id
(the plan's send_id used as the request id of a refused send, or as the wamid),
else by phone number, recipient, campaign and a send time within --early/--late
of scheduled_at. It failed if its message has a failed event. Sends no message
joins, and sends the history does not follow --settle past the send, get no
outcome (counted, never taken for successes). docs/outcomes.md has the rules.`,
		Example: `  failcast outcomes --plan plan.parquet --history history-after/ --out outcomes.csv
  failcast score --plan plan.parquet --history history/ --as-of 2026-11-01 --outcomes history-after/`,
		Config:   true,
		Required: []string{"plan", "history", "out"},
	},
		func(f *pflag.FlagSet) {
			f.StringSliceVar(&cfg.Plans, "plan", nil, "the plan that was scored, .parquet or .csv (repeatable, or a comma list)")
			f.StringVar(&cfg.History, "history", "", "history dataset exported after the plan ran")
			f.StringVar(&cfg.Out, "out", "", "outcome file to write, .csv or .parquet")
			cli.DurationVar(f, &cfg.Options.Early, "early", cfg.Options.Early, "how much earlier than scheduled_at a message may have gone out")
			cli.DurationVar(f, &cfg.Options.Late, "late", cfg.Options.Late, "how much later than scheduled_at a message may have gone out")
			cli.DurationVar(f, &cfg.Options.Settle, "settle", cfg.Options.Settle, "how long the history must follow a message without a failed, delivered or read status to count it as not failed")
			cli.HashKeyEnvVar(f, &hashKeyEnv)
		},
		func(ctx context.Context, env cli.Env) error {
			cfg.HashKeyFrom = "$" + hashKeyEnv
			if key, ok := cli.LookupSecret(hashKeyEnv); ok {
				cfg.HashKey = []byte(key)
			}
			cfg.Logger = env.Log
			res, err := scoring.DeriveOutcomes(ctx, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%d planned sends: %d with an outcome (%d failed), joined %d by message id and %d by send; %d unmatched, %d unsettled, %d duplicate send ids\n  outcomes: %s\n",
				res.Sends, len(res.Outcomes), res.Failed, res.ByID, res.BySend, res.Unmatched, res.Unsettled, res.Duplicates, cfg.Out)
			return nil
		})
}
