package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// build compiles the failcast binary into a temporary directory, with a
// revision stamped as the Makefile does for builds without VCS stamps.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "failcast")
	cmd := exec.Command("go", "build", "-ldflags", "-X github.com/failcast/failcast/internal/buildinfo.revision=0123456789abcdef0123", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// run runs the binary and returns its exit code and outputs.
func run(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "FAILCAST_HASH_KEY=")
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("run %v: %v", args, err)
	return 0, "", ""
}

// TestBinary builds failcast and runs it end to end on a tiny world.
func TestBinary(t *testing.T) {
	bin := build(t)
	dir := t.TempDir()
	sim := filepath.Join(dir, "sim")
	tiny := []string{"--days", "2", "--plan-days", "1", "--recipients", "1500", "--campaigns-per-day", "4"}

	t.Run("version", func(t *testing.T) {
		code, stdout, stderr := run(t, bin, "--version")
		if code != 0 || stdout != "failcast devel (revision 0123456789ab)\n" || stderr != "" {
			t.Errorf("--version: exit %d, %q, %q", code, stdout, stderr)
		}
		code, stdout, _ = run(t, bin, "version")
		if code != 0 || !strings.HasPrefix(stdout, "failcast") && !strings.Contains(stdout, "revision 0123456789ab") {
			t.Errorf("version: exit %d, %q", code, stdout)
		}
	})
	t.Run("help on stdout", func(t *testing.T) {
		code, stdout, stderr := run(t, bin, "--help")
		for _, want := range []string{"inspect", "simulate", "registry", "completion", "version", "Exit codes:"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("help lacks %q", want)
			}
		}
		if code != 0 || stderr != "" {
			t.Errorf("--help: exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("completion", func(t *testing.T) {
		code, stdout, _ := run(t, bin, "completion", "bash")
		if code != 0 || !strings.Contains(stdout, "__start_failcast") {
			t.Errorf("completion bash: exit %d, %d bytes", code, len(stdout))
		}
	})
	t.Run("simulate and inspect", func(t *testing.T) {
		code, _, stderr := run(t, bin, append([]string{"simulate", "--out", sim, "--log-format", "json"}, tiny...)...)
		if code != 0 || !strings.Contains(stderr, `"msg":"simulated"`) {
			t.Fatalf("simulate: exit %d: %s", code, stderr)
		}
		code, stdout, stderr := run(t, bin, "inspect", "--history", filepath.Join(sim, "history"), "--json")
		var s struct {
			Files int   `json:"files"`
			Rows  int64 `json:"rows"`
			Sends int64 `json:"sends"`
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &s) != nil || s.Files != 2 || s.Rows == 0 || s.Sends == 0 {
			t.Fatalf("inspect: exit %d, %+v: %s%s", code, s, stdout, stderr)
		}
	})
	t.Run("config file", func(t *testing.T) {
		cfg := filepath.Join(dir, "sim.yaml")
		out := filepath.Join(dir, "fromconfig")
		yaml := "out: " + out + "\ndays: 2\nplan-days: 1\nrecipients: 1500\ncampaigns-per-day: 4\nlog-format: json\n"
		if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := run(t, bin, "simulate", "--config", cfg, "--days", "1")
		if code != 0 {
			t.Fatalf("simulate --config: exit %d: %s", code, stderr)
		}
		parts, _ := filepath.Glob(filepath.Join(out, "history", "dt=*"))
		if len(parts) != 1 || !strings.Contains(stderr, `"days":1`) {
			t.Errorf("--days 1 on the command line did not win over days: 2 in the file: %d partitions\n%s", len(parts), stderr)
		}
	})
	t.Run("usage error", func(t *testing.T) {
		code, stdout, stderr := run(t, bin, "inspect", "--as-of", "2026-11-01")
		if code != 2 || stdout != "" || !strings.Contains(stderr, "unknown flag: --as-of") || !strings.Contains(stderr, "see 'failcast inspect --help'") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
	t.Run("missing input", func(t *testing.T) {
		code, _, stderr := run(t, bin, "inspect", "--history", filepath.Join(dir, "none"))
		if code != 3 || strings.Contains(stderr, "--help") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("SIGTERM leaves earlier outputs", func(t *testing.T) {
		before, err := os.ReadFile(filepath.Join(sim, "plan.csv"))
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "simulate", "--out", sim, "--seed", "7", "--days", "60", "--log-format", "json")
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGTERM)
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("after SIGTERM: %v, want exit 1\n%s", err, stderr.String())
		}
		after, _ := os.ReadFile(filepath.Join(sim, "plan.csv"))
		if !bytes.Equal(before, after) {
			t.Error("an interrupted run changed plan.csv")
		}
		if left, _ := filepath.Glob(filepath.Join(sim, ".staging-*")); len(left) > 0 {
			t.Errorf("staging left behind: %v", left)
		}
	})
}
