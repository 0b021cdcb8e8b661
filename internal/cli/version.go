package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// revision is the VCS revision when the build carries none of its own
// (built with -buildvcs=false, or from a tree without .git, as in a
// container build): set it with
// -ldflags "-X github.com/failcast/failcast/internal/cli.revision=$(git rev-parse HEAD)".
var revision string

// BuildInfo is what a binary knows about its own build.
type BuildInfo struct {
	Version   string `json:"version"`            // module version, or "devel" for a build from a work tree
	Revision  string `json:"revision,omitempty"` // VCS revision ("" when unknown)
	Time      string `json:"time,omitempty"`     // commit time, RFC 3339 ("" when unknown)
	Modified  bool   `json:"modified"`           // built from a tree with uncommitted changes
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"` // GOOS/GOARCH
}

// Version returns the running binary's build information, read from
// runtime/debug.ReadBuildInfo.
func Version() BuildInfo {
	b := BuildInfo{Version: "devel", Revision: revision, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		b.Version = v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the one-line form --version prints:
// "devel (revision 0123456789ab, 2026-11-01T02:15:00Z, modified)".
func (b BuildInfo) String() string {
	var parts []string
	if b.Revision != "" {
		rev := b.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		parts = append(parts, "revision "+rev)
	} else {
		parts = append(parts, "revision unknown")
	}
	if b.Time != "" {
		parts = append(parts, b.Time)
	}
	if b.Modified {
		parts = append(parts, "modified")
	}
	return b.Version + " (" + strings.Join(parts, ", ") + ")"
}

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
