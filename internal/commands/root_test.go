package commands

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// secretFlag matches flag names that would take a secret as their value.
var secretFlag = regexp.MustCompile(`(^|-)(key|password|secret|token)$`)

// TestNoSecretFlags: secrets come from the environment, never from flags
// (which show in process lists and shell histories).
func TestNoSecretFlags(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if secretFlag.MatchString(f.Name) {
				t.Errorf("%s --%s takes a secret as a flag value; read it from the environment (cli.HashKeyEnvVar)", c.CommandPath(), f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(Root())
}

// TestEveryCommandHasHelp: every command prints its help to stdout with
// exit 0, and its usage line starts with "failcast".
func TestEveryCommandHasHelp(t *testing.T) {
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(Root(), nil)
	if len(paths) < 7 {
		t.Fatalf("only %d commands: %v", len(paths), paths)
	}
	for _, p := range paths {
		code, stdout, stderr := execute(t, context.Background(), Root(), append(p, "--help")...)
		if code != 0 || stderr != "" || !strings.Contains(stdout, "failcast") || !strings.Contains(stdout, "Exit codes:") {
			t.Errorf("failcast %s --help: exit %d, stderr %q, stdout:\n%s", strings.Join(p, " "), code, stderr, stdout)
		}
	}
}

// TestSimulateHashKeyFromEnv: the hashing key comes from FAILCAST_HASH_KEY
// or the variable --hash-key-env names; without one the demo key is used.
func TestSimulateHashKeyFromEnv(t *testing.T) {
	t.Setenv("FAILCAST_HASH_KEY", "")
	t.Setenv("OTHER_KEY", "k1")
	plan := func(env map[string]string, args ...string) []byte {
		t.Helper()
		for k, v := range env {
			t.Setenv(k, v)
		}
		dir := t.TempDir()
		if code, _, stderr := runCmd(t, context.Background(), append(append(smallWorld, "--out", dir), args...)...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, err := os.ReadFile(filepath.Join(dir, "plan.csv"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	demo := plan(nil)
	named := plan(nil, "--hash-key-env", "OTHER_KEY")
	fixed := plan(map[string]string{"FAILCAST_HASH_KEY": "k1"})
	if bytes.Equal(demo, fixed) {
		t.Error("FAILCAST_HASH_KEY did not change the recipients' hashes")
	}
	if !bytes.Equal(named, fixed) {
		t.Error("--hash-key-env OTHER_KEY and FAILCAST_HASH_KEY with the same key give different plans")
	}
}
