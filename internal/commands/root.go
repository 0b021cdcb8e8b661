package commands

import (
	"github.com/spf13/cobra"

	"github.com/failcast/failcast/internal/cli"
)

// Root returns the `failcast` command with every subcommand.
func Root() *cobra.Command {
	root := &cobra.Command{
		Use:   "failcast",
		Short: "predict WhatsApp Business message failures before they happen",
		Long: `failcast predicts which planned WhatsApp Business (Cloud API) sends will fail,
why, and what to do about them: it turns a sender's send log and Meta's webhooks
into a history dataset, trains failure models on it every night and scores
upcoming campaign plans into CSV files with warnings and actions.

Every subcommand takes --help. Secrets are never flags: the recipient hashing
key is read from the environment variable FAILCAST_HASH_KEY (or the one
--hash-key-env names).`,
		Example: `  failcast simulate --seed 42 --out out/sim
  failcast inspect --history out/sim/history
  failcast registry list --registry out/registry
  failcast completion bash > /etc/bash_completion.d/failcast`,
	}
	root.AddCommand(NewCollect(), NewExport(), NewExplain(), NewInspect(), NewOutcomes(), NewScore(), NewSimulate(), NewTrain(), NewRegistry(), cli.VersionCommand())
	return root
}
