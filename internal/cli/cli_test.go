package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/internal/cli"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 24, 2, 15, 0, 0, time.FixedZone("CET", 3600))
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "2026-11-01T00:00:00Z", want: utc(2026, 11, 1, 0, 0, 0, 0)},
		{in: "2026-11-01T02:00:00+02:00", want: utc(2026, 11, 1, 0, 0, 0, 0)},
		{in: "2026-11-01T00:00:00.25Z", want: utc(2026, 11, 1, 0, 0, 0, 25e7)},
		{in: "2026-11-01T00:00:00", want: utc(2026, 11, 1, 0, 0, 0, 0)},
		{in: "2026-11-01 13:14:15", want: utc(2026, 11, 1, 13, 14, 15, 0)},
		{in: "2026-11-01 13:14", want: utc(2026, 11, 1, 13, 14, 0, 0)},
		{in: "2026-11-01", want: utc(2026, 11, 1, 0, 0, 0, 0)},
		{in: " 2026-11-01 ", want: utc(2026, 11, 1, 0, 0, 0, 0)},
		{in: "now", want: now.UTC()},
		{in: "", bad: true},
		{in: "yesterday", bad: true},
		{in: "2026-13-01", bad: true},
		{in: "2026-11-01T25:00:00Z", bad: true},
		{in: "01/11/2026", bad: true},
		{in: "1790000000", bad: true},
		{in: "Now", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := cli.ParseTime(tc.in, now)
			if tc.bad {
				if err == nil || !strings.Contains(err.Error(), "RFC 3339") {
					t.Fatalf("ParseTime(%q) = %v, %v; want an error naming the forms", tc.in, got, err)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Fatalf("ParseTime(%q) = %v, %v; want %v in UTC", tc.in, got, err, tc.want)
			}
		})
	}
}

// FuzzParseTime: whatever ParseTime accepts is UTC and reads back the same
// from its RFC 3339 form.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-01", "2026-11-01T00:00:00Z", "2026-11-01 00:00:00", "now", "2026-11-01T02:00:00.5-07:00", "x"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := cli.ParseTime(s, now)
		if err != nil {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("%q: %v not in UTC", s, got)
		}
		back, err := cli.ParseTime(got.Format(time.RFC3339Nano), now)
		if err != nil || !back.Equal(got) {
			t.Fatalf("%q: %v does not read back (%v, %v)", s, got, back, err)
		}
	})
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
		fmt  string
	}{
		{in: "4h", want: 4 * time.Hour, fmt: "4h"},
		{in: "90m", want: 90 * time.Minute, fmt: "1h30m"},
		{in: "7d", want: 7 * 24 * time.Hour, fmt: "7d"},
		{in: "0", want: 0, fmt: "0s"},
		{in: "1h0m30s", want: time.Hour + 30*time.Second, fmt: "1h0m30s"},
		{in: "-1h", bad: true},
		{in: "-2d", bad: true},
		{in: "1.5d", bad: true},
		{in: "4", bad: true},
		{in: "d", bad: true},
		{in: "99999999999d", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := cli.ParseDuration(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("ParseDuration(%q) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			if s := cli.FormatDuration(got); s != tc.fmt {
				t.Errorf("FormatDuration(%v) = %q, want %q", got, s, tc.fmt)
			}
		})
	}
}

// job is what the test command was run with.
type job struct {
	history string
	days    int
	asOf    time.Time
	lead    time.Duration
	plans   []string
	mode    string
	keyEnv  string
	ran     bool
	logged  bool
}

// newRoot builds a fresh command tree: `tool job` with a config file,
// a required --history, and `tool fail CODE` returning an error of that
// exit class.
func newRoot(j *job) *cobra.Command {
	root := &cobra.Command{Use: "tool", Short: "a test tool"}
	jobCmd := cli.Command(cli.Spec{Use: "job", Short: "a job", Config: true, Required: []string{"history"}},
		func(f *pflag.FlagSet) {
			f.StringVar(&j.history, "history", "", "history")
			f.IntVar(&j.days, "days", 28, "days")
			cli.TimeVar(f, &j.asOf, "as-of", "", "as-of")
			cli.DurationVar(f, &j.lead, "lead", 4*time.Hour, "lead")
			f.StringSliceVar(&j.plans, "plan", nil, "plans")
			cli.EnumVar(f, &j.mode, "mode", "reject", []string{"reject", "fail"}, "mode")
			cli.HashKeyEnvVar(f, &j.keyEnv)
		},
		func(ctx context.Context, env cli.Env) error {
			j.ran = true
			env.Log.Debug("debug line")
			env.Log.Info("info line")
			j.logged = true
			return nil
		})
	failCmd := cli.Command(cli.Spec{Use: "fail CODE", Short: "fail with an exit class", Args: cli.ExactArgs("CODE")}, nil,
		func(ctx context.Context, env cli.Env) error {
			switch env.Args[0] {
			case "input":
				return fmt.Errorf("stage: %w", exitcode.Inputf("plan.csv row 3: bad time"))
			case "locked":
				return exitcode.Wrap(exitcode.Locked, errors.New("held by pid 7"))
			case "usage":
				return exitcode.Usagef("--x and --y exclude each other")
			case "wait":
				<-ctx.Done()
				return fmt.Errorf("stopped: %w", ctx.Err())
			}
			return errors.New("boom")
		})
	root.AddCommand(jobCmd, failCmd, cli.VersionCommand())
	return root
}

func execute(t *testing.T, ctx context.Context, args ...string) (j job, code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Execute(ctx, newRoot(&j), args, &out, &errb)
	return j, code, out.String(), errb.String()
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "job.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigFilePrecedence(t *testing.T) {
	cfg := writeConfig(t, `
history: /data/history   # a comment
days: 14
as-of: 2026-11-01
lead: 2h
plan: [a.parquet, b.csv]
mode: fail
log-level: warn
`)
	asOf := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		args    []string
		history string
		days    int
		asOf    time.Time
		lead    time.Duration
		plans   []string
		mode    string
	}{
		{"file only", []string{"--config", cfg}, "/data/history", 14, asOf, 2 * time.Hour, []string{"a.parquet", "b.csv"}, "fail"},
		{"flags win", []string{"--config", cfg, "--days", "3", "--as-of", "2026-11-02 06:00:00", "--plan", "c.csv", "--mode=reject"},
			"/data/history", 3, asOf.Add(30 * time.Hour), 2 * time.Hour, []string{"c.csv"}, "reject"},
		{"flags before --config win too", []string{"--history", "h", "--lead", "1d", "--config=" + cfg}, "h", 14, asOf, 24 * time.Hour, []string{"a.parquet", "b.csv"}, "fail"},
		{"no file: defaults", []string{"--history", "h"}, "h", 28, time.Time{}, 4 * time.Hour, nil, "reject"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j, code, _, stderr := execute(t, context.Background(), append([]string{"job"}, tc.args...)...)
			if code != 0 || !j.ran {
				t.Fatalf("exit %d, ran %v: %s", code, j.ran, stderr)
			}
			if j.history != tc.history || j.days != tc.days || !j.asOf.Equal(tc.asOf) || j.lead != tc.lead ||
				strings.Join(j.plans, ",") != strings.Join(tc.plans, ",") || j.mode != tc.mode {
				t.Errorf("got history %q days %d as-of %v lead %v plans %v mode %q\nwant %q %d %v %v %v %q",
					j.history, j.days, j.asOf, j.lead, j.plans, j.mode, tc.history, tc.days, tc.asOf, tc.lead, tc.plans, tc.mode)
			}
		})
	}
	// The file's log-level applies to the logger: info is filtered out.
	_, _, _, stderr := execute(t, context.Background(), "job", "--config", cfg)
	if strings.Contains(stderr, "info line") {
		t.Errorf("log-level warn from the config file not applied:\n%s", stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	badKey := writeConfig(t, "history: h\ndayz: 3\n")
	badValue := writeConfig(t, "history: h\nas-of: tomorrow\n")
	notMapping := writeConfig(t, "- history\n")
	listForScalar := writeConfig(t, "history: [a, b]\n")
	tests := []struct {
		name string
		args []string
		msg  string // in stderr
		hint string
	}{
		{"unknown flag", []string{"job", "--history", "h", "--nope"}, "unknown flag: --nope", "tool job"},
		{"single dash long flag", []string{"job", "-history", "h"}, "unknown shorthand flag", "tool job"},
		{"bad time", []string{"job", "--history", "h", "--as-of", "yesterday"}, `invalid argument "yesterday" for "--as-of"`, "tool job"},
		{"bad duration", []string{"job", "--history", "h", "--lead", "-1h"}, "want a duration of 0 or more", "tool job"},
		{"bad int", []string{"job", "--history", "h", "--days", "x"}, `"--days"`, "tool job"},
		{"bad enum", []string{"job", "--history", "h", "--mode", "skip"}, "want reject or fail", "tool job"},
		{"bad log format", []string{"job", "--history", "h", "--log-format", "xml"}, "want text or json", "tool job"},
		{"secret given as env name", []string{"job", "--history", "h", "--hash-key-env", "s3cr3t-key!"}, "name of an environment variable", "tool job"},
		{"missing required", []string{"job"}, `required flag(s) "history" not set`, "tool job"},
		{"stray argument", []string{"job", "--history", "h", "extra"}, `unexpected argument "extra"`, "tool job"},
		{"unknown command", []string{"jobs"}, `unknown command "jobs"`, "tool"},
		{"missing argument", []string{"fail"}, "takes 1 argument(s) (CODE), got 0", "tool fail"},
		{"usage error from the run", []string{"fail", "usage"}, "--x and --y exclude each other", "tool fail"},
		{"missing config file", []string{"job", "--config", "/nonexistent/job.yaml"}, "--config: open /nonexistent/job.yaml", "tool job"},
		{"unknown config key", []string{"job", "--config", badKey}, `line 2: "dayz" is not a flag`, "tool job"},
		{"bad config value", []string{"job", "--config", badValue}, "line 2: as-of: want an RFC 3339 time", "tool job"},
		{"config not a mapping", []string{"job", "--config", notMapping}, "want a mapping of flag names", "tool job"},
		{"list for a single-valued flag", []string{"job", "--config", listForScalar}, "history takes one value", "tool job"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j, code, stdout, stderr := execute(t, context.Background(), tc.args...)
			if code != exitcode.Usage {
				t.Errorf("exit %d, want %d (usage)", code, exitcode.Usage)
			}
			if j.ran {
				t.Error("the run started despite a usage error")
			}
			if !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr lacks %q:\n%s", tc.msg, stderr)
			}
			if hint := "see '" + tc.hint + " --help'"; !strings.Contains(stderr, hint) {
				t.Errorf("stderr lacks the hint %q:\n%s", hint, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout is not empty: %q", stdout)
			}
		})
	}
}

func TestRunErrorExitCodes(t *testing.T) {
	tests := []struct {
		arg  string
		code int
		msg  string
	}{
		{"input", exitcode.Input, "tool fail: stage: plan.csv row 3: bad time"},
		{"locked", exitcode.Locked, "held by pid 7"},
		{"other", exitcode.Internal, "tool fail: boom"},
	}
	for _, tc := range tests {
		t.Run(tc.arg, func(t *testing.T) {
			_, code, _, stderr := execute(t, context.Background(), "fail", tc.arg)
			if code != tc.code || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.msg)
			}
			if strings.Contains(stderr, "--help") {
				t.Errorf("a run failure hints at --help: %q", stderr)
			}
		})
	}
	// With --log-format json the failure is a JSON log record.
	_, code, _, stderr := execute(t, context.Background(), "fail", "input", "--log-format", "json")
	var rec map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(stderr)), &rec); err != nil || code != exitcode.Input {
		t.Fatalf("exit %d, stderr not one JSON record (%v): %s", code, err, stderr)
	}
	if rec["level"] != "ERROR" || rec["exit_code"] != float64(exitcode.Input) || !strings.Contains(fmt.Sprint(rec["err"]), "row 3") {
		t.Errorf("JSON failure record %v", rec)
	}
}

func TestInterruptedRunExitsInternal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, code, _, stderr := execute(t, ctx, "fail", "wait")
	if code != exitcode.Internal || !strings.Contains(stderr, "context canceled") {
		t.Errorf("exit %d, stderr %q; want 1 naming the cancellation", code, stderr)
	}
}

func TestHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"job", "--help"}, {"help", "job"}, {}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			j, code, stdout, stderr := execute(t, context.Background(), args...)
			if code != 0 || stderr != "" || j.ran {
				t.Fatalf("exit %d, ran %v, stderr %q", code, j.ran, stderr)
			}
			for _, want := range []string{"Usage:", "Exit codes:", "  4  another run holds the lock", "--log-format text|json"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("help lacks %q:\n%s", want, stdout)
				}
			}
			if len(args) > 0 && args[0] != "--help" && args[0] != "-h" {
				for _, want := range []string{"--as-of time", "--lead duration", "(default 4h)", "--mode reject|fail", "--config FILE", "--hash-key-env NAME", "(default FAILCAST_HASH_KEY)"} {
					if !strings.Contains(stdout, want) {
						t.Errorf("job help lacks %q:\n%s", want, stdout)
					}
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	_, code, stdout, stderr := execute(t, context.Background(), "--version")
	want := "tool " + cli.Version().String() + "\n"
	if code != 0 || stdout != want || stderr != "" {
		t.Errorf("--version: exit %d, stdout %q, stderr %q; want %q", code, stdout, stderr, want)
	}
	// A test binary carries no VCS stamp: the version says so.
	if !strings.HasPrefix(stdout, "tool devel (revision") {
		t.Errorf("--version of a test build = %q", stdout)
	}
	_, code, stdout, _ = execute(t, context.Background(), "version", "--json")
	var b cli.BuildInfo
	if err := json.Unmarshal([]byte(stdout), &b); err != nil || code != 0 || b.GoVersion == "" || b.Version == "" {
		t.Errorf("version --json: exit %d, %q (%v)", code, stdout, err)
	}
}

func TestLookupSecret(t *testing.T) {
	t.Setenv("FAILCAST_TEST_KEY", "k1")
	t.Setenv("FAILCAST_TEST_EMPTY", "")
	tests := []struct {
		name string
		val  string
		ok   bool
	}{
		{"FAILCAST_TEST_KEY", "k1", true},
		{"FAILCAST_TEST_EMPTY", "", false},
		{"FAILCAST_TEST_UNSET", "", false},
	}
	for _, tc := range tests {
		if v, ok := cli.LookupSecret(tc.name); v != tc.val || ok != tc.ok {
			t.Errorf("LookupSecret(%s) = %q, %v; want %q, %v", tc.name, v, ok, tc.val, tc.ok)
		}
	}
}

func ExampleParseTime() {
	for _, s := range []string{"2026-11-01", "2026-11-01 06:30:00", "2026-11-01T08:30:00+02:00"} {
		t, _ := cli.ParseTime(s, time.Now())
		fmt.Println(t.Format(time.RFC3339))
	}
	// Output:
	// 2026-11-01T00:00:00Z
	// 2026-11-01T06:30:00Z
	// 2026-11-01T06:30:00Z
}
