// Command inspect is `failcast inspect` as a binary of its own, kept for scripts
// that call it by this name: the same code, flags and exit codes.
package main

import (
	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/internal/commands"
)

func main() { cli.Main(commands.NewInspect()) }
