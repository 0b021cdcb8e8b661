package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/training"
)

func TestParseConfig(t *testing.T) {
	dir := t.TempDir()
	file := func(body string) string {
		p := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".yaml")
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	tests := []struct {
		name    string
		args    func() []string
		check   func(options) bool
		wantErr string
	}{
		{"defaults", func() []string { return nil }, func(c options) bool {
			return c.History == "out/sim/history" && c.Registry == "out/registry" && time.Duration(c.Lead) == 4*time.Hour &&
				time.Time(c.AsOf).IsZero() && c.Baselines && c.Keep == 14
		}, ""},
		{"config file", func() []string {
			return []string{"--config", file("history: /data/h\ntrain-days: 10\nlead: 2h\nas-of: 2026-11-01\nbaselines: false\n")}
		}, func(c options) bool {
			return c.History == "/data/h" && c.TrainDays == 10 && time.Duration(c.Lead) == 2*time.Hour &&
				time.Time(c.AsOf).Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) && !c.Baselines
		}, ""},
		{"flags override the file, wherever --config is", func() []string {
			return []string{"--train-days", "3", "--config", file("train-days: 10\nvalid-days: 5\n"), "--lead=1h"}
		}, func(c options) bool {
			return c.TrainDays == 3 && c.ValidDays == 5 && time.Duration(c.Lead) == time.Hour
		}, ""},
		{"explicit false flag overrides a true file value", func() []string {
			return []string{"--config", file("force: true\n"), "--force=false"}
		}, func(c options) bool { return !c.Force }, ""},
		{"empty config file", func() []string { return []string{"--config", file("")} }, func(c options) bool { return c.Rounds == 300 }, ""},
		{"unknown key", func() []string { return []string{"--config", file("trian-days: 3\n")} }, nil, "field trian-days not found"},
		{"bad yaml value", func() []string { return []string{"--config", file("lead: soon\n")} }, nil, "duration"},
		{"missing file", func() []string { return []string{"--config", filepath.Join(dir, "none.yaml")} }, nil, "no such file"},
		{"bad as-of", func() []string { return []string{"--as-of", "yesterday"} }, nil, "RFC 3339"},
		{"tolerance out of range", func() []string { return []string{"--tolerance", "2"} }, nil, "--tolerance"},
		{"depth out of range", func() []string { return []string{"--depth", "0"} }, nil, "--depth"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(tc.args(), io.Discard)
			if tc.wantErr != "" {
				if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want a usage error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}

// FuzzConfigFile checks that no config file makes parseConfig panic and
// that every rejection is a usage error (exit 2).
func FuzzConfigFile(f *testing.F) {
	for _, seed := range []string{
		"history: /h\ntrain-days: 3\n", "lead: 4h\nas-of: 2026-11-01T00:00:00Z\n", "keep: -1\n", "tolerance: .nan\n",
		"baselines: maybe\n", "- a\n- b\n", "{", "rounds: 99999999999999999999\n", "as-of: now\n", "wait: 1m\nforce: true\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := parseConfig([]string{"--config", path}, io.Discard)
		if err != nil {
			if exitcode.Of(err) != exitcode.Usage {
				t.Fatalf("rejection %v is not a usage error", err)
			}
			return
		}
		if c.validate() != nil {
			t.Fatal("accepted an invalid config")
		}
	})
}

// runTrain runs the command in-process and returns its exit code and
// stderr.
func runTrain(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	code := run(context.Background(), args, &stderr)
	return code, stderr.String()
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantLog string
	}{
		{"unknown flag", []string{"--nope"}, "flag provided but not defined"},
		{"bad duration", []string{"--lead", "soon"}, "duration"},
		{"bad log format", []string{"--log-format", "xml"}, "--log-format"},
		{"negative warm-up", []string{"--warmup", "-1h"}, "--warmup"},
		{"positional argument", []string{"extra"}, "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := filepath.Join(t.TempDir(), "registry")
			metricsFile := filepath.Join(t.TempDir(), "m.prom")
			// A previous success whose time must survive the failure.
			os.WriteFile(metricsFile, []byte("failcast_train_last_success_timestamp_seconds 1.7e+09\n"), 0o644)
			args := append([]string{"--history", filepath.Join(t.TempDir(), "none"), "--registry", reg, "--metrics-file", metricsFile}, tc.args...)
			code, log := runTrain(t, args...)
			if code != exitcode.Usage || !strings.Contains(log, tc.wantLog) {
				t.Fatalf("exit %d (want %d), log lacks %q:\n%s", code, exitcode.Usage, tc.wantLog, log)
			}
			if _, err := os.Stat(reg); !os.IsNotExist(err) {
				t.Fatal("a run with bad flags touched the registry")
			}
			prom, _ := os.ReadFile(metricsFile)
			if !strings.Contains(string(prom), "failcast_train_exit_code 2") ||
				!strings.Contains(string(prom), "failcast_train_last_success_timestamp_seconds 1.7e+09") {
				t.Fatalf("metrics file after failure:\n%s", prom)
			}
		})
	}
}

// TestFlagsReachTheConfig checks that every flag lands in its
// training.Config field.
func TestFlagsReachTheConfig(t *testing.T) {
	o, err := parseConfig([]string{"--history", "/h", "--registry", "/r", "--as-of", "2026-11-01", "--train-days", "9", "--valid-days", "4",
		"--lead", "2h", "--refresh", "12h", "--warmup", "24h", "--seed", "7", "--tolerance", "0.01", "--force", "--keep", "3", "--wait", "1m",
		"--metrics-file", "/m.prom", "--features-out", "/f.parquet", "--rounds", "50", "--depth", "5", "--learning-rate", "0.2", "--early-stop", "6",
		"--max-train-rows", "300", "--max-family-rows", "40", "--baselines=false", "--baseline-rows", "100", "--logreg-rows", "200", "--target-precision", "0.7", "--alert-budget", "0.2",
		"--min-rows", "11", "--min-failures", "12"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := training.Config{History: "/h", Registry: "/r", AsOf: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), TrainDays: 9, ValidDays: 4,
		Lead: 2 * time.Hour, Refresh: 12 * time.Hour, Warmup: 24 * time.Hour, Seed: 7, Tolerance: 0.01, Force: true, Keep: 3, Wait: time.Minute,
		MetricsFile: "/m.prom", FeaturesOut: "/f.parquet", Rounds: 50, Depth: 5, LearningRate: 0.2, EarlyStop: 6,
		MaxTrainRows: 300, MaxFamilyRows: 40, Baselines: false, BaselineRows: 100, LogRegRows: 200, TargetPrecision: 0.7, AlertBudget: 0.2, MinRows: 11, MinFailures: 12}
	if got := o.config(); !reflect.DeepEqual(got, want) {
		t.Fatalf("config\n got %+v\nwant %+v", got, want)
	}
	if got := defaultOptions().config(); !reflect.DeepEqual(got, training.DefaultConfig()) {
		t.Fatalf("defaults differ from training.DefaultConfig:\n got %+v\nwant %+v", got, training.DefaultConfig())
	}
}
func TestHelp(t *testing.T) {
	code, out := runTrain(t, "--help")
	if code != exitcode.OK {
		t.Fatalf("exit %d", code)
	}
	var names []string
	c := defaultOptions()
	var ignored string
	flagSet(&c, &ignored).VisitAll(func(f *flagT) { names = append(names, f.Name) })
	for _, n := range names {
		if !strings.Contains(out, "--"+n+" ") && !strings.Contains(out, "--"+n+"\n") {
			t.Errorf("--help does not document --%s", n)
		}
	}
	for _, want := range []string{"Exit codes:", "4  the registry is locked", "(out/registry)", "(4h0m0s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

type flagT = flag.Flag

func TestJSONLogs(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry")
	code, out := runTrain(t, "--log-format", "json", "--history", filepath.Join(t.TempDir(), "none"), "--registry", reg)
	if code != exitcode.Input {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["msg"] == nil {
			t.Fatalf("not a JSON log line: %q", l)
		}
	}
	if !strings.Contains(lines[len(lines)-1], `"exit_code":3`) {
		t.Fatalf("last line %s", lines[len(lines)-1])
	}
}
