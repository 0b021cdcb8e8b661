// Command failcast is the one failcast binary: collect or export a
// sender's logs into a history dataset, inspect it, train and score, run
// the simulator, and manage the model registry. `failcast --help` lists
// the subcommands, docs/cli.md documents the conventions they share
// (flags, config files, time values, secrets, exit codes).
package main

import (
	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/internal/commands"
)

func main() { cli.Main(commands.Root()) }
