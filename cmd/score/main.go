// Command score is failcast's scoring job as a binary of its own, for
// schedulers that run one binary per job: the same command, flags and exit
// codes as `failcast score` (see docs/predictions.md, or score --help).
package main

import (
	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/internal/commands"
)

func main() { cli.Main(commands.NewScore()) }
