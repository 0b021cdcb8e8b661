package main

import (
	"bytes"
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/scoring"
)

// The stage's behaviour is tested in package scoring; these tests check
// that the flags become the right scoring.Config and errors the right
// exit codes.

var now = time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestParseFlags(t *testing.T) {
	base := []string{"--plan", "a.csv", "--history", "hist"}
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, o options)
	}{
		{"defaults", base, nil, func(t *testing.T, o options) {
			want := scoring.DefaultConfig()
			want.Plans, want.History, want.AsOf = []string{"a.csv"}, "hist", now
			if !configEqual(o.Config, want) || o.LogFormat != "text" || o.Top != 5 {
				t.Errorf("got %+v, want %+v", o, want)
			}
		}},
		{"plans repeated and as comma lists", []string{"--plan", "a.csv", "--plan", "b.parquet, c.csv", "--history", "h"}, nil, func(t *testing.T, o options) {
			if !slices.Equal(o.Plans, []string{"a.csv", "b.parquet", "c.csv"}) {
				t.Errorf("plans %q", o.Plans)
			}
		}},
		{"every setting", append(slices.Clone(base), "--as-of", "2026-11-01T02:00:00+02:00", "--registry", "reg", "--model", "m",
			"--out", "o", "--bad-rows", "fail", "--explore", "0.25", "--seed", "9", "--outcomes", "out.parquet",
			"--throughput-mps", "40", "--throttle-safety", "0.5", "--batch-size", "100", "--require-sorted",
			"--tokens", "t.csv", "--state-cache", "cache", "--log-format", "json", "--top", "0"), nil, func(t *testing.T, o options) {
			c := o.Config
			if !c.AsOf.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || c.AsOf.Location() != time.UTC || c.Registry != "reg" || c.Model != "m" ||
				c.Out != "o" || c.BadRows != scoring.FailOnBadRows || c.Explore != 0.25 || c.Seed != 9 || c.Outcomes != "out.parquet" ||
				c.ThroughputMPS != 40 || c.ThrottleSafety != 0.5 || c.BatchSize != 100 || !c.RequireSorted || c.Tokens != "t.csv" ||
				c.StateCache != "cache" || o.LogFormat != "json" || o.Top != 0 {
				t.Errorf("got %+v", o)
			}
		}},
		{"hash key from the environment", append(slices.Clone(base), "--hash-key-env", "MY_KEY"), map[string]string{"MY_KEY": "k1", "FAILCAST_HASH_KEY": "other"}, func(t *testing.T, o options) {
			if string(o.HashKey) != "k1" || o.HashKeyFrom != "$MY_KEY" {
				t.Errorf("hash key %q from %q", o.HashKey, o.HashKeyFrom)
			}
		}},
		{"plan columns and time zone", append(slices.Clone(base), "--map", "recipient=phone, template=tpl", "--timezone", "America/Sao_Paulo"), nil, func(t *testing.T, o options) {
			if len(o.PlanMapping) != 2 || o.PlanMapping["recipient"] != "phone" || o.PlanMapping["template_name"] != "tpl" || o.Timezone != "America/Sao_Paulo" {
				t.Errorf("mapping %v, timezone %q", o.PlanMapping, o.Timezone)
			}
		}},
		{"no hash key set", base, nil, func(t *testing.T, o options) {
			if o.HashKey != nil || o.HashKeyFrom != "$FAILCAST_HASH_KEY" {
				t.Errorf("hash key %q from %q", o.HashKey, o.HashKeyFrom)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			o, err := parseFlags(tt.args, &stderr, now, env(tt.env))
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			tt.check(t, o)
		})
	}
}

// configEqual compares the settings of two Configs (not the logger).
func configEqual(a, b scoring.Config) bool {
	return slices.Equal(a.Plans, b.Plans) && a.History == b.History && a.AsOf.Equal(b.AsOf) && a.Registry == b.Registry &&
		a.Model == b.Model && a.Out == b.Out && a.BadRows == b.BadRows && a.Explore == b.Explore && a.Seed == b.Seed &&
		a.Outcomes == b.Outcomes && a.ThroughputMPS == b.ThroughputMPS && a.ThrottleSafety == b.ThrottleSafety &&
		a.BatchSize == b.BatchSize && a.RequireSorted == b.RequireSorted && bytes.Equal(a.HashKey, b.HashKey) &&
		a.HashKeyFrom == b.HashKeyFrom && a.Tokens == b.Tokens && a.StateCache == b.StateCache &&
		maps.Equal(a.PlanMapping, b.PlanMapping) && a.Timezone == b.Timezone
}

// runScore runs the command with args and returns its exit code, stdout
// and stderr.
func runScore(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := mainExit(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--plan", filepath.Join(dir, "plan.csv"), "--history", filepath.Join(dir, "history"), "--out", filepath.Join(dir, "out"),
		"--as-of", "2026-11-01T00:00:00Z"}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no plan", []string{"--history", "h"}, exitcode.Usage, "--plan is required"},
		{"no history", []string{"--plan", "p.csv"}, exitcode.Usage, "--history is required"},
		{"bad as-of", append(slices.Clone(base), "--as-of", "tomorrow"), exitcode.Usage, "RFC 3339"},
		{"bad explore", append(slices.Clone(base), "--explore", "2"), exitcode.Usage, "--explore"},
		{"bad bad-rows", append(slices.Clone(base), "--bad-rows", "ignore"), exitcode.Usage, "reject or fail"},
		{"bad log format", append(slices.Clone(base), "--log-format", "xml"), exitcode.Usage, "--log-format"},
		{"negative top", append(slices.Clone(base), "--top", "-1"), exitcode.Usage, "--top"},
		{"bad map", append(slices.Clone(base), "--map", "recipient"), exitcode.Usage, "--map: mapping pair 1"},
		{"unknown map column", append(slices.Clone(base), "--map", "tmpl=x"), exitcode.Usage, `unknown plan column "tmpl"`},
		{"bad timezone", append(slices.Clone(base), "--timezone", "Mars/Olympus"), exitcode.Usage, "--timezone"},
		{"unknown flag", append(slices.Clone(base), "--speed", "11"), exitcode.Usage, "speed"},
		{"extra argument", append(slices.Clone(base), "plan2.csv"), exitcode.Usage, "unexpected arguments"},
		{"input error from the run", append(slices.Clone(base), "--registry", filepath.Join(dir, "empty-registry")), exitcode.Input, "has no current model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runScore(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) || stdout != "" {
				t.Errorf("exit %d, want %d; stderr lacks %q?\n%s", code, tt.code, tt.msg, stderr)
			}
		})
	}
	code, _, stderr := runScore(t, "--help")
	if code != exitcode.OK || !strings.Contains(stderr, "Usage: score --plan") || !strings.Contains(stderr, "-state-cache") {
		t.Errorf("--help: exit %d\n%s", code, stderr)
	}
}
