package commands

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
	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/scoring"
)

// The stage's behaviour is tested in package scoring; these tests check
// that score's flags become the right scoring.Config and its errors the
// right exit codes.

func TestScoreFlags(t *testing.T) {
	base := []string{"--plan", "a.csv", "--history", "hist", "--as-of", "2026-11-05T12:00:00Z"}
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c scoring.Config, top int)
	}{
		{"defaults", base, nil, func(t *testing.T, c scoring.Config, top int) {
			want := scoring.DefaultConfig()
			want.Plans, want.History, want.AsOf = []string{"a.csv"}, "hist", time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
			want.HashKeyFrom = "$FAILCAST_HASH_KEY"
			if !scoreConfigEqual(c, want) || top != 5 {
				t.Errorf("got %+v, want %+v", c, want)
			}
		}},
		{"plans repeated and as comma lists", []string{"--plan", "a.csv", "--plan", "b.parquet,c.csv", "--history", "h"}, nil, func(t *testing.T, c scoring.Config, _ int) {
			if !slices.Equal(c.Plans, []string{"a.csv", "b.parquet", "c.csv"}) {
				t.Errorf("plans %q", c.Plans)
			}
			if time.Since(c.AsOf) > time.Minute {
				t.Errorf("--as-of defaults to %v, want now", c.AsOf)
			}
		}},
		{"every setting", append(slices.Clone(base), "--as-of", "2026-11-01T02:00:00+02:00", "--registry", "reg", "--model", "m",
			"--out", "o", "--bad-rows", "fail", "--explore", "0.25", "--seed", "9", "--outcomes", "out.parquet",
			"--throughput-mps", "40", "--throttle-safety", "0.5", "--batch-size", "100", "--require-sorted",
			"--tokens", "t.csv", "--state-cache", "cache", "--top", "0"), nil, func(t *testing.T, c scoring.Config, top int) {
			if !c.AsOf.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || c.Registry != "reg" || c.Model != "m" ||
				c.Out != "o" || c.BadRows != scoring.FailOnBadRows || c.Explore != 0.25 || c.Seed != 9 || c.Outcomes != "out.parquet" ||
				c.ThroughputMPS != 40 || c.ThrottleSafety != 0.5 || c.BatchSize != 100 || !c.RequireSorted || c.Tokens != "t.csv" ||
				c.StateCache != "cache" || top != 0 {
				t.Errorf("got %+v", c)
			}
		}},
		{"hash key from the environment", append(slices.Clone(base), "--hash-key-env", "MY_KEY"), map[string]string{"MY_KEY": "k1", "FAILCAST_HASH_KEY": "other"}, func(t *testing.T, c scoring.Config, _ int) {
			if string(c.HashKey) != "k1" || c.HashKeyFrom != "$MY_KEY" {
				t.Errorf("hash key %q from %q", c.HashKey, c.HashKeyFrom)
			}
		}},
		{"plan columns and time zone", append(slices.Clone(base), "--map", "recipient=phone, template=tpl", "--timezone", "America/Sao_Paulo"), nil, func(t *testing.T, c scoring.Config, _ int) {
			if len(c.PlanMapping) != 2 || c.PlanMapping["recipient"] != "phone" || c.PlanMapping["template_name"] != "tpl" || c.Timezone != "America/Sao_Paulo" {
				t.Errorf("mapping %v, timezone %q", c.PlanMapping, c.Timezone)
			}
		}},
		{"no hash key set", base, map[string]string{"FAILCAST_HASH_KEY": ""}, func(t *testing.T, c scoring.Config, _ int) {
			if c.HashKey != nil || c.HashKeyFrom != "$FAILCAST_HASH_KEY" {
				t.Errorf("hash key %q from %q", c.HashKey, c.HashKeyFrom)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			ran := false
			cmd := newScore(func(_ context.Context, _ cli.Env, c scoring.Config, top int) error {
				ran = true
				tt.check(t, c, top)
				return nil
			})
			var stdout, stderr bytes.Buffer
			if code := cli.Execute(context.Background(), cmd, tt.args, &stdout, &stderr); code != 0 || !ran {
				t.Fatalf("exit %d (ran %v)\n%s", code, ran, stderr.String())
			}
		})
	}
}

// scoreConfigEqual compares the settings of two Configs (not the logger).
func scoreConfigEqual(a, b scoring.Config) bool {
	return slices.Equal(a.Plans, b.Plans) && a.History == b.History && a.AsOf.Equal(b.AsOf) && a.Registry == b.Registry &&
		a.Model == b.Model && a.Out == b.Out && a.BadRows == b.BadRows && a.Explore == b.Explore && a.Seed == b.Seed &&
		a.Outcomes == b.Outcomes && a.ThroughputMPS == b.ThroughputMPS && a.ThrottleSafety == b.ThrottleSafety &&
		a.BatchSize == b.BatchSize && a.RequireSorted == b.RequireSorted && bytes.Equal(a.HashKey, b.HashKey) &&
		a.HashKeyFrom == b.HashKeyFrom && a.Tokens == b.Tokens && a.StateCache == b.StateCache &&
		maps.Equal(a.PlanMapping, b.PlanMapping) && a.Timezone == b.Timezone
}

func TestScoreExitCodes(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--plan", filepath.Join(dir, "plan.csv"), "--history", filepath.Join(dir, "history"), "--out", filepath.Join(dir, "out"),
		"--as-of", "2026-11-01T00:00:00Z"}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no plan", []string{"--history", "h"}, exitcode.Usage, "plan"},
		{"no history", []string{"--plan", "p.csv"}, exitcode.Usage, "history"},
		{"bad as-of", append(slices.Clone(base), "--as-of", "tomorrow"), exitcode.Usage, "as-of"},
		{"bad explore", append(slices.Clone(base), "--explore", "2"), exitcode.Usage, "--explore"},
		{"bad bad-rows", append(slices.Clone(base), "--bad-rows", "ignore"), exitcode.Usage, "reject or fail"},
		{"negative top", append(slices.Clone(base), "--top", "-1"), exitcode.Usage, "--top"},
		{"bad map", append(slices.Clone(base), "--map", "recipient"), exitcode.Usage, "--map: mapping pair 1"},
		{"unknown map column", append(slices.Clone(base), "--map", "tmpl=x"), exitcode.Usage, `unknown plan column "tmpl"`},
		{"bad timezone", append(slices.Clone(base), "--timezone", "Mars/Olympus"), exitcode.Usage, "--timezone"},
		{"unknown flag", append(slices.Clone(base), "--speed", "11"), exitcode.Usage, "speed"},
		{"extra argument", append(slices.Clone(base), "plan2.csv"), exitcode.Usage, "plan2.csv"},
		{"input error from the run", append(slices.Clone(base), "--registry", filepath.Join(dir, "empty-registry")), exitcode.Input, "has no current model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cli.Execute(context.Background(), NewScore(), tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.msg) || stdout.String() != "" {
				t.Errorf("exit %d, want %d; stderr lacks %q?\n%s", code, tt.code, tt.msg, stderr.String())
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := cli.Execute(context.Background(), NewScore(), []string{"--help"}, &stdout, &stderr); code != exitcode.OK || !strings.Contains(stdout.String(), "--state-cache") {
		t.Errorf("--help: exit %d\n%s", code, stdout.String())
	}
}
