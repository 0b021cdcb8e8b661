// Command train is failcast's nightly training job as a binary of its
// own, for schedulers that run one binary per job: the same command, flags
// and exit codes as `failcast train` (see docs/train.md, or train --help).
package main

import (
	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/internal/commands"
)

func main() { cli.Main(commands.NewTrain()) }
