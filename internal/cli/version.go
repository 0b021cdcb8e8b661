package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/failcast/failcast/internal/buildinfo"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// BuildInfo is what a binary knows about its own build (package
// internal/buildinfo owns it).
type BuildInfo = buildinfo.Info

// Version returns the running binary's build information.
func Version() BuildInfo { return buildinfo.Read() }

// VersionCommand is the `version` subcommand: the build information, one
// line for people or JSON.
func VersionCommand() *cobra.Command {
	var asJSON bool
	return Command(Spec{Use: "version", Short: "print the version, VCS revision and Go version of this build"},
		func(f *pflag.FlagSet) { f.BoolVar(&asJSON, "json", false, "print the build information as JSON") },
		func(ctx context.Context, env Env) error {
			b := Version()
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(b)
			}
			_, err := fmt.Fprintf(env.Stdout, "%s\n%s %s\n", b, b.GoVersion, b.Platform)
			return err
		})
}
