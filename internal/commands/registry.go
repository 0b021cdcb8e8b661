package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/registry"
)

// NewRegistry returns `registry` with list, show and rollback.
func NewRegistry() *cobra.Command {
	return cli.Group("registry", "list the model registry's versions, show one, switch the champion",
		newRegistryList(), newRegistryShow(), newRegistryRollback())
}

func bindRegistry(f *pflag.FlagSet, dir *string) {
	f.StringVar(dir, "registry", "out/registry", "model registry directory (versions/, current, lock)")
}

// VersionInfo is one registry version as list and show report it.
type VersionInfo struct {
	Version  string             `json:"version"`
	Champion bool               `json:"champion"`
	Dir      string             `json:"dir"`
	Status   string             `json:"status"` // ok, or why the version cannot be used
	Metadata *artifact.Metadata `json:"metadata,omitempty"`
}

// describe reads a version's metadata, verifying its files (artifact.Open)
// and whether this build computes the features it was trained on.
func describe(v registry.Version) VersionInfo {
	info := VersionInfo{Version: v.Name, Champion: v.Current, Dir: v.Dir, Status: "ok"}
	a, err := artifact.Open(v.Dir, "")
	if err != nil {
		info.Status = err.Error()
		return info
	}
	info.Metadata = &a.Metadata
	if a.Metadata.FeatureSchemaHash != features.SchemaHash() {
		info.Status = fmt.Sprintf("trained on feature schema %.12s, this build computes %.12s: scoring refuses it", a.Metadata.FeatureSchemaHash, features.SchemaHash())
	}
	return info
}

func newRegistryList() *cobra.Command {
	var dir string
	var asJSON bool
	return cli.Command(cli.Spec{
		Use:   "list",
		Short: "list the versions with their validation metrics, the champion marked *",
		Example: `  failcast registry list --registry /var/lib/failcast/registry
  failcast registry list --json | jq '.[] | select(.champion)'`,
	},
		func(f *pflag.FlagSet) {
			bindRegistry(f, &dir)
			f.BoolVar(&asJSON, "json", false, "print the versions as JSON, with their whole metadata")
		},
		func(ctx context.Context, env cli.Env) error {
			versions, err := registry.Open(dir, registry.WithLogger(env.Log)).Versions()
			if err != nil {
				return exitcode.AsInput(err)
			}
			infos := make([]VersionInfo, 0, len(versions))
			for _, v := range versions {
				infos = append(infos, describe(v))
			}
			if asJSON {
				return writeJSON(env.Stdout, infos)
			}
			if len(infos) == 0 {
				_, err := fmt.Fprintf(env.Stdout, "registry %s holds no versions\n", dir)
				return err
			}
			return writeVersionTable(env.Stdout, infos)
		})
}

func writeVersionTable(w io.Writer, infos []VersionInfo) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tVERSION\tCREATED\tPR-AUC\tROC-AUC\tTRAIN ROWS\tVALID ROWS\tPROMOTED\tSTATUS")
	for _, in := range infos {
		mark := " "
		if in.Champion {
			mark = "*"
		}
		created, prAUC, rocAUC, train, valid, promoted := "-", "-", "-", "-", "-", "-"
		if md := in.Metadata; md != nil {
			created = md.CreatedAt.UTC().Format(time.RFC3339)
			if b := md.Metrics.Binary; b != nil {
				prAUC, rocAUC = metric(b.PRAUC), metric(b.ROCAUC)
			}
			train, valid = fmt.Sprint(md.Rows.Train), fmt.Sprint(md.Rows.Valid)
			if md.Champion != nil {
				promoted = map[bool]string{true: "yes", false: "no"}[md.Champion.Promoted]
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, in.Version, created, prAUC, rocAUC, train, valid, promoted, in.Status)
	}
	return tw.Flush()
}

func metric(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.4f", v)
}

func newRegistryShow() *cobra.Command {
	var dir string
	return cli.Command(cli.Spec{
		Use:     "show VERSION",
		Short:   "print a version's metadata (metrics, thresholds, windows, champion comparison) as JSON",
		Example: `  failcast registry show 20261101T021500Z --registry out/registry`,
		Args:    cli.ExactArgs("VERSION"),
	},
		func(f *pflag.FlagSet) { bindRegistry(f, &dir) },
		func(ctx context.Context, env cli.Env) error {
			v, err := registry.Open(dir, registry.WithLogger(env.Log)).Version(env.Args[0])
			if err != nil {
				return exitcode.AsInput(err)
			}
			return writeJSON(env.Stdout, describe(v))
		})
}

func newRegistryRollback() *cobra.Command {
	var dir string
	var wait time.Duration
	var force bool
	return cli.Command(cli.Spec{
		Use:   "rollback VERSION",
		Short: "make an earlier version the champion again, under the registry lock",
		Long: `Makes VERSION the champion that scoring uses, under the registry lock (so never during a
training run's promotion). The version must be intact (every file matches its recorded
checksum) and trained on the feature schema this build computes, or scoring would refuse
it; --force switches to it anyway. The next nightly training compares its challenger
with this champion.`,
		Example: `  failcast registry list
  failcast registry rollback 20261030T021500Z --wait 10m`,
		Args: cli.ExactArgs("VERSION"),
	},
		func(f *pflag.FlagSet) {
			bindRegistry(f, &dir)
			cli.DurationVar(f, &wait, "wait", 0, "if another run holds the registry lock, wait up to this long for it (0: exit 4 at once)")
			f.BoolVar(&force, "force", false, "switch even to a version that is damaged or trained on other features")
		},
		func(ctx context.Context, env cli.Env) error {
			version := env.Args[0]
			check := func(dir string) error {
				if _, err := artifact.Open(dir, features.SchemaHash()); err != nil {
					return exitcode.AsInput(fmt.Errorf("%w (use --force to switch anyway)", err))
				}
				return nil
			}
			if force {
				check = nil
			}
			reg := registry.Open(dir, registry.WithLogger(env.Log))
			previous, err := reg.Rollback(ctx, version, "failcast registry rollback", wait, check)
			switch {
			case errors.Is(err, registry.ErrLocked):
				return exitcode.Wrap(exitcode.Locked, err)
			case errors.Is(err, registry.ErrUnknownVersion):
				return exitcode.AsInput(err)
			case err != nil:
				return err
			}
			if previous == "" {
				previous = "none"
			}
			_, err = fmt.Fprintf(env.Stdout, "champion: %s -> %s\n", previous, version)
			return err
		})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
