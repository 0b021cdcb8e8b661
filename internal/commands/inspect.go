package commands

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/failcast/failcast/inspect"
	"github.com/failcast/failcast/internal/cli"
)

// NewInspect returns `inspect`: summarise a history dataset.
func NewInspect() *cobra.Command {
	var o inspect.Options
	var asJSON bool
	return cli.Command(cli.Spec{
		Use:   "inspect",
		Short: "summarise a history dataset: rows, time range, sends, failures by family, top error codes",
		Long: `Reads a history dataset (the Parquet contract of docs/schema.md) back and prints what it
holds: files, rows, time range, events by status, sends and failures, failures by error
family, the most frequent error codes with Meta's meaning, and how fast it was read.

--columns projects the scan (timestamp, message_id, status and error_code are always
read); bench/run measures the history scan with it.`,
		Example: `  failcast inspect --history out/sim/history
  failcast inspect --history 'exports/*.parquet' --from 2026-10-01 --to 2026-11-01 --json`,
	},
		func(f *pflag.FlagSet) {
			f.StringVar(&o.History, "history", "out/sim/history", "history dataset: a Parquet file, a directory tree, a glob or hive partitions")
			cli.TimeVar(f, &o.From, "from", "", "first event time to read (default: the beginning)")
			cli.TimeVar(f, &o.To, "to", "", "read events before this time (default: the end)")
			f.StringSliceVar(&o.Columns, "columns", nil, "history columns to read besides timestamp, message_id, status and error_code (default: all contract columns)")
			f.BoolVar(&asJSON, "json", false, "print the summary as JSON")
		},
		func(ctx context.Context, env cli.Env) error {
			s, err := inspect.Summarize(ctx, o)
			if err != nil {
				return err
			}
			if asJSON {
				return s.WriteJSON(env.Stdout)
			}
			return s.WriteText(env.Stdout)
		})
}
