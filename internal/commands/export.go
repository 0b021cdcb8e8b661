package commands

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/pipeline/ingest"
)

// NewExport returns `export`: a send log and Meta's webhooks into history
// Parquet.
func NewExport() *cobra.Command {
	cfg := ingest.DefaultExportConfig()
	var mapping, hashKeyEnv string
	return cli.Command(cli.Spec{
		Use:   "export",
		Short: "merge a send log and Meta's webhooks into a history dataset (Parquet)",
		Long: `Joins a sender's send log (NDJSON or CSV; --map for other tools' field names) with
Meta's webhooks (NDJSON files, directories or globs such as collect writes; gzip
told by content) into the history dataset of docs/schema.md. An existing
history at --out is merged into: events already there stay, new ones are added,
an event id is kept once, and the same batch twice gives the same history.

Malformed lines go to the reject file with their line number and reason; more
than --max-reject-rate of them, or no events at all, fails the run (exit 3) and
leaves the history as it was. Recipients are stored as keyed hashes (the key
from $FAILCAST_HASH_KEY, or the variable --hash-key-env names). See
docs/export.md.`,
		Example: `  FAILCAST_HASH_KEY=... failcast export --send-log send-log.ndjson --webhooks webhooks/ --out history/ --partitioned
  failcast export --send-log log.csv --map recipient=to,template=tpl,category=cat --timezone America/Sao_Paulo --out history/`,
		Config:   true,
		Required: []string{"out"},
	},
		func(f *pflag.FlagSet) {
			f.StringSliceVar(&cfg.SendLogs, "send-log", nil, "send-log file (.ndjson/.jsonl/.json or .csv, optionally gzip); repeatable or a comma list")
			cli.EnumVar(f, &cfg.SendLogFormat, "send-log-format", cfg.SendLogFormat, []string{"auto", "ndjson", "csv"}, "send-log format (auto: by extension)")
			f.StringSliceVar(&cfg.Webhooks, "webhooks", nil, "webhook NDJSON file, directory or glob (gzip told by content); repeatable or a comma list")
			f.StringVar(&cfg.Out, "out", "", "output: a path ending in .parquet for one file, else a directory; an existing history there is merged into")
			f.BoolVar(&cfg.Partitioned, "partitioned", false, "write a directory --out as hive partitions by UTC day (dt=YYYY-MM-DD/part-0.parquet)")
			f.StringVar(&cfg.Rejects, "rejects", "", "reject file (default: rejects.ndjson in the output directory, or FILE.rejects.ndjson next to FILE.parquet)")
			f.StringVar(&mapping, "map", "", "send-log field mapping field=path,... (dotted JSON paths or CSV headers), e.g. recipient=request.to,template=request.template.name")
			f.BoolVar(&cfg.NoHash, "no-hash", false, "keep recipients as phone numbers, and numbers in free text unmasked")
			f.Float64Var(&cfg.MaxRejectRate, "max-reject-rate", cfg.MaxRejectRate, "fail (exit 3, history untouched) when more than this share of lines is rejected")
			f.StringVar(&cfg.Timezone, "timezone", "", "IANA time zone of send-log times written without one, e.g. UTC or America/Sao_Paulo (default: reject such times)")
			f.IntVar(&cfg.MaxLineBytes, "max-line-bytes", cfg.MaxLineBytes, "longest input line or CSV record in bytes; longer ones are rejected")
			cli.SizeVar(f, &cfg.MemoryLimit, "memory-limit", 0, "memory the export aims to stay under, e.g. 2GiB (default: 1.5GiB, less under a smaller GOMEMLIMIT or cgroup limit); events beyond it are joined from disk")
			cli.HashKeyEnvVar(f, &hashKeyEnv)
		},
		func(ctx context.Context, env cli.Env) error {
			var err error
			if cfg.Mapping, err = ingest.ParseMapping(mapping); err != nil {
				return exitcode.Usagef("--map: %w", err)
			}
			if key, ok := cli.LookupSecret(hashKeyEnv); ok {
				cfg.HashKey = []byte(key)
			}
			cfg.Logger, cfg.Stdout = env.Log, env.Stdout
			_, err = ingest.Export(ctx, cfg)
			return err
		})
}
