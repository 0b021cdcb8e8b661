package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/training"
)

// trainConfigOf runs `train` with args and returns the Config its run got
// (the run itself is replaced), or the exit code and stderr on failure.
func trainConfigOf(t *testing.T, args ...string) (training.Config, int, string) {
	t.Helper()
	var got training.Config
	cmd := newTrain(func(_ context.Context, c training.Config) error { got = c; return nil })
	var stdout, stderr bytes.Buffer
	code := cli.Execute(context.Background(), cmd, args, &stdout, &stderr)
	got.Log, got.Progress = nil, nil
	return got, code, stderr.String()
}

func TestTrainConfig(t *testing.T) {
	dir := t.TempDir()
	file := func(body string) string {
		p := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".yaml")
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	req := []string{"--history", "/h", "--registry", "/r"}
	tests := []struct {
		name    string
		args    func() []string
		check   func(training.Config) bool
		wantErr string
	}{
		{"defaults", func() []string { return req }, func(c training.Config) bool {
			return c.History == "/h" && c.Registry == "/r" && c.Lead == 4*time.Hour && c.AsOf.IsZero() && c.Baselines && c.Keep == 14
		}, ""},
		{"config file", func() []string {
			return []string{"--config", file("history: /data/h\nregistry: /r\ntrain-days: 10\nlead: 2h\nas-of: 2026-11-01\nbaselines: false\n")}
		}, func(c training.Config) bool {
			return c.History == "/data/h" && c.TrainDays == 10 && c.Lead == 2*time.Hour &&
				c.AsOf.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) && !c.Baselines
		}, ""},
		{"flags override the file, wherever --config is", func() []string {
			return append([]string{"--train-days", "3", "--config", file("train-days: 10\nvalid-days: 5\n"), "--lead=1h"}, req...)
		}, func(c training.Config) bool { return c.TrainDays == 3 && c.ValidDays == 5 && c.Lead == time.Hour }, ""},
		{"explicit false flag overrides a true file value", func() []string {
			return append([]string{"--config", file("force: true\n"), "--force=false"}, req...)
		}, func(c training.Config) bool { return !c.Force }, ""},
		{"unknown key", func() []string { return append([]string{"--config", file("trian-days: 3\n")}, req...) }, nil, "trian-days"},
		{"bad yaml value", func() []string { return append([]string{"--config", file("lead: soon\n")}, req...) }, nil, "lead"},
		{"missing file", func() []string { return append([]string{"--config", filepath.Join(dir, "none.yaml")}, req...) }, nil, "none.yaml"},
		{"bad as-of", func() []string { return append([]string{"--as-of", "yesterday"}, req...) }, nil, "as-of"},
		{"no registry", func() []string { return []string{"--history", "/h"} }, nil, "registry"},
		{"bad memory limit", func() []string { return append([]string{"--memory-limit", "3.5 gigs"}, req...) }, nil, "memory-limit"},
		{"memory limit in the file", func() []string { return append([]string{"--config", file("memory-limit: 2GiB\n")}, req...) },
			func(c training.Config) bool { return c.MemoryLimit == 2<<30 }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, code, stderr := trainConfigOf(t, tc.args()...)
			if tc.wantErr != "" {
				if code != exitcode.Usage || !strings.Contains(stderr, tc.wantErr) {
					t.Fatalf("exit %d, stderr %q; want a usage error containing %q", code, stderr, tc.wantErr)
				}
				return
			}
			if code != exitcode.OK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !tc.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}

// TestTrainFlagsReachTheConfig checks that every flag lands in its
// training.Config field and that the defaults are training's.
func TestTrainFlagsReachTheConfig(t *testing.T) {
	got, code, stderr := trainConfigOf(t, "--history", "/h", "--registry", "/r", "--as-of", "2026-11-01", "--train-days", "9", "--valid-days", "4",
		"--lead", "2h", "--refresh", "12h", "--warmup", "24h", "--seed", "7", "--tolerance", "0.01", "--force", "--backtest-folds", "2", "--backtest-rows", "500", "--keep", "3", "--wait", "1m",
		"--metrics-file", "/m.prom", "--features-out", "/f.parquet", "--rounds", "50", "--depth", "5", "--learning-rate", "0.2", "--early-stop", "6",
		"--baselines=false", "--baseline-rows", "100", "--logreg-rows", "200", "--max-train-rows", "3000", "--max-valid-rows", "5000", "--max-family-rows", "40", "--memory-limit", "3500MiB", "--target-precision", "0.7", "--alert-budget", "0.2",
		"--min-rows", "11", "--min-failures", "12")
	if code != exitcode.OK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := training.Config{History: "/h", Registry: "/r", AsOf: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), TrainDays: 9, ValidDays: 4,
		Lead: 2 * time.Hour, Refresh: 12 * time.Hour, Warmup: 24 * time.Hour, Seed: 7, Tolerance: 0.01, Force: true, BacktestFolds: 2, BacktestRows: 500, Keep: 3, Wait: time.Minute,
		MetricsFile: "/m.prom", FeaturesOut: "/f.parquet", Rounds: 50, Depth: 5, LearningRate: 0.2, EarlyStop: 6,
		Baselines: false, BaselineRows: 100, LogRegRows: 200, MaxTrainRows: 3000, MaxValidRows: 5000, MaxFamilyRows: 40, MemoryLimit: 3500 << 20, TargetPrecision: 0.7, AlertBudget: 0.2, MinRows: 11, MinFailures: 12}
	got.Now, got.HashKey, got.HashKeyFrom = nil, nil, ""
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("config\n got %+v\nwant %+v", got, want)
	}
	def, code, stderr := trainConfigOf(t, "--history", "/h", "--registry", "/r")
	if code != exitcode.OK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	wantDef := training.DefaultConfig()
	wantDef.History, wantDef.Registry = "/h", "/r"
	def.Now, wantDef.Now = nil, nil
	def.HashKey, def.HashKeyFrom = nil, ""
	if !reflect.DeepEqual(def, wantDef) {
		t.Fatalf("defaults differ from training.DefaultConfig:\n got %+v\nwant %+v", def, wantDef)
	}
}

// TestTrainUsageErrorsReachTheMetricsFile: a nightly run that fails on
// its flags exits 2, leaves the registry alone and still records the
// failure in the metrics file, keeping the last success time.
func TestTrainUsageErrorsReachTheMetricsFile(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantLog string
	}{
		{"unknown flag", []string{"--nope"}, "unknown flag"},
		{"bad duration", []string{"--lead", "soon"}, "lead"},
		{"bad log format", []string{"--log-format", "xml"}, "log-format"},
		{"negative warm-up", []string{"--warmup", "-1h"}, "warmup"},
		{"positional argument", []string{"extra"}, "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := filepath.Join(t.TempDir(), "registry")
			metricsFile := filepath.Join(t.TempDir(), "m.prom")
			os.WriteFile(metricsFile, []byte("failcast_train_last_success_timestamp_seconds 1.7e+09\n"), 0o644)
			args := append([]string{"--history", filepath.Join(t.TempDir(), "none"), "--registry", reg, "--metrics-file", metricsFile}, tc.args...)
			var stdout, stderr bytes.Buffer
			code := cli.Execute(context.Background(), NewTrain(), args, &stdout, &stderr)
			if code != exitcode.Usage || !strings.Contains(stderr.String(), tc.wantLog) {
				t.Fatalf("exit %d (want %d), stderr lacks %q:\n%s", code, exitcode.Usage, tc.wantLog, stderr.String())
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

func TestTrainHelpDocumentsEveryFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	cmd := NewTrain()
	if code := cli.Execute(context.Background(), cmd, []string{"--help"}, &stdout, &stderr); code != exitcode.OK {
		t.Fatalf("exit %d", code)
	}
	out := stdout.String()
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !strings.Contains(out, "--"+f.Name) {
			t.Errorf("--help does not document --%s", f.Name)
		}
	})
	for _, want := range []string{"Exit codes:", "another run holds the lock", "(default 4h)"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

func TestTrainJSONLogs(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry")
	var stdout, stderr bytes.Buffer
	code := cli.Execute(context.Background(), NewTrain(), []string{"--log-format", "json", "--history", filepath.Join(t.TempDir(), "none"), "--registry", reg}, &stdout, &stderr)
	if code != exitcode.Input {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
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
