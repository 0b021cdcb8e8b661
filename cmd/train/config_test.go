package main

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/models/registry"
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
		check   func(Config) bool
		wantErr string
	}{
		{"defaults", func() []string { return nil }, func(c Config) bool {
			return c.History == "out/sim/history" && c.Registry == "out/registry" && time.Duration(c.Lead) == 4*time.Hour &&
				time.Time(c.AsOf).IsZero() && c.Baselines && c.Keep == 14
		}, ""},
		{"config file", func() []string {
			return []string{"--config", file("history: /data/h\ntrain-days: 10\nlead: 2h\nas-of: 2026-11-01\nbaselines: false\n")}
		}, func(c Config) bool {
			return c.History == "/data/h" && c.TrainDays == 10 && time.Duration(c.Lead) == 2*time.Hour &&
				time.Time(c.AsOf).Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) && !c.Baselines
		}, ""},
		{"flags override the file, wherever --config is", func() []string {
			return []string{"--train-days", "3", "--config", file("train-days: 10\nvalid-days: 5\n"), "--lead=1h"}
		}, func(c Config) bool {
			return c.TrainDays == 3 && c.ValidDays == 5 && time.Duration(c.Lead) == time.Hour
		}, ""},
		{"explicit false flag overrides a true file value", func() []string {
			return []string{"--config", file("force: true\n"), "--force=false"}
		}, func(c Config) bool { return !c.Force }, ""},
		{"empty config file", func() []string { return []string{"--config", file("")} }, func(c Config) bool { return c.Rounds == 300 }, ""},
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
				var ue *usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.wantErr) {
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

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{errors.New("boom"), exitInternal},
		{usagef("bad flag"), exitUsage},
		{dataErrorf("no rows"), exitData},
		{&registry.LockedError{Path: "lock"}, exitLocked},
		{asDataError(errors.New("wrapped")), exitData},
	}
	for _, tc := range tests {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestMetricsFile(t *testing.T) {
	finished := time.Date(2026, 11, 1, 2, 30, 0, 0, time.UTC)
	tests := []struct {
		name      string
		previous  string // "" for no previous file
		m         runMetrics
		want      []string
		wantNot   []string
		wantError bool
	}{
		{"success sets the time", "", runMetrics{Duration: 90 * time.Second, Rows: 1000, ValidPRAUC: 0.5, Promoted: true, Finished: finished},
			[]string{"failcast_train_last_success_timestamp_seconds 1.7935002e+09", "failcast_train_rows 1000", "failcast_train_promoted 1",
				"failcast_train_exit_code 0", "failcast_train_duration_seconds 90", "failcast_train_valid_pr_auc 0.5", "# TYPE failcast_train_rows gauge"}, nil, false},
		{"failure keeps the previous success", "failcast_train_last_success_timestamp_seconds 1.5e+09\n",
			runMetrics{ExitCode: exitData, ValidPRAUC: math.NaN(), Finished: finished},
			[]string{"failcast_train_last_success_timestamp_seconds 1.5e+09", "failcast_train_exit_code 3", "failcast_train_promoted 0"},
			[]string{"failcast_train_valid_pr_auc"}, false},
		{"failure without history leaves it absent", "", runMetrics{ExitCode: exitInternal, ValidPRAUC: math.NaN(), Finished: finished},
			[]string{"failcast_train_exit_code 1"}, []string{"last_success"}, false},
		{"corrupt previous file", "this is { not prometheus", runMetrics{ExitCode: exitLocked, ValidPRAUC: math.NaN(), Finished: finished},
			[]string{"failcast_train_exit_code 4"}, []string{"last_success"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "train.prom")
			if tc.previous != "" {
				os.MkdirAll(filepath.Dir(path), 0o755)
				os.WriteFile(path, []byte(tc.previous), 0o644)
			}
			err := writeMetricsFile(path, tc.m)
			if (err != nil) != tc.wantError {
				t.Fatalf("err %v, want error %v", err, tc.wantError)
			}
			got, _ := os.ReadFile(path)
			for _, w := range tc.want {
				if !strings.Contains(string(got), w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(string(got), w) {
					t.Errorf("has %q:\n%s", w, got)
				}
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 1 {
				t.Fatalf("%d files in the metrics directory: temporary file left?", len(entries))
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
			if exitCode(err) != exitUsage {
				t.Fatalf("rejection %v is not a usage error", err)
			}
			return
		}
		if c.validate() != nil {
			t.Fatal("accepted an invalid config")
		}
	})
}
