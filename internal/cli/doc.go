// Package cli is the command framework every failcast command is built
// on: one setup for flags, help, logging, signals, config files, time and
// duration flags, secrets and exit codes, so that `failcast inspect` and
// the standalone cmd/inspect binary are the same code and every
// subcommand behaves alike.
//
// It is built on github.com/spf13/cobra (with github.com/spf13/pflag for
// flags), the command library of kubectl, gh, hugo and docker's CLI:
// GNU-style flags (--as-of, --as-of=..., -h), help and usage written to
// stdout, nested subcommands with their own help (`failcast help
// registry rollback`), shell completion for bash, zsh, fish and
// PowerShell (`failcast completion bash`), a --version flag and required
// flags, all maintained upstream instead of six hand-written flag.FlagSet
// printers that disagreed with each other.
//
// A command is a Spec, a function binding its flags and a function doing
// the run, usually one call into a stage package:
//
//	func NewInspect() *cobra.Command {
//		var o inspect.Options
//		return cli.Command(cli.Spec{Use: "inspect", Short: "summarise a history dataset"},
//			func(f *pflag.FlagSet) {
//				f.StringVar(&o.History, "history", "out/sim/history", "history dataset")
//				cli.TimeVar(f, &o.From, "from", "", "first event time to read")
//			},
//			func(ctx context.Context, env cli.Env) error {
//				s, err := inspect.Summarize(ctx, o)
//				...
//			})
//	}
//
// Main (for a binary) and Execute (for tests) run a command tree with the
// common setup:
//
//   - --log-format text|json and --log-level build one log/slog logger on
//     stderr (Env.Log, also slog.Default);
//   - SIGINT and SIGTERM cancel the context a run gets; a second signal
//     kills the process at once;
//   - TimeVar is the one parser of time flags (RFC 3339; 2026-11-01T00:00:00
//     and 2026-11-01 00:00:00 as UTC; a date 2026-11-01 as midnight UTC;
//     now), DurationVar of durations (4h, 90m, 7d), EnumVar of words;
//   - Spec.Config adds --config FILE: a YAML mapping whose keys are flag
//     names; flags given on the command line win over the file;
//   - secrets are never flag values: HashKeyEnvVar binds --hash-key-env
//     NAME, the environment variable the key is read from
//     (FAILCAST_HASH_KEY unless told otherwise);
//   - an error ends the run with exitcode.Of(err); errors cobra raises
//     before a run starts (unknown flag or subcommand, bad flag value,
//     missing required flag, stray argument, bad config file) are usage
//     errors (exit 2), printed with a hint `see 'failcast X --help'`. The
//     exit-code table is printed in every command's help and documented in
//     docs/cli.md.
package cli
