package commands

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

// smallWorld are the flags of a world small enough for tests.
var smallWorld = []string{"--days", "3", "--plan-days", "1", "--recipients", "3000", "--campaigns-per-day", "6", "--log-format", "json"}

func runCmd(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return execute(t, ctx, NewSimulate(), args...)
}

func TestSimulateWritesOutputs(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCmd(t, context.Background(), append(smallWorld, "--out", dir, "--raw")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, name := range []string{"plan.parquet", "plan.csv", "outcomes.parquet", "outcomes.csv", "tokens.csv", "raw/send-log.ndjson", "raw/webhooks.ndjson", "history/dt=2026-10-30/part-0.parquet"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Size() == 0 {
			t.Errorf("output %s: %v", name, err)
			continue
		}
		// Others (notebooks, other users' jobs) read the outputs.
		if perm := st.Mode().Perm(); perm&0o044 != 0o044 {
			t.Errorf("output %s has mode %v, want it readable by group and others", name, perm)
		}
	}
	parts, _ := filepath.Glob(filepath.Join(dir, "history", "dt=*", "part-0.parquet"))
	if len(parts) != 3 {
		t.Errorf("%d history partitions, want 3: %v", len(parts), parts)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".staging-*")); len(left) > 0 {
		t.Errorf("staging left behind: %v", left)
	}
	// The summary is logged as JSON with the figures a user looks for.
	var summary map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "simulated" {
			summary = m
		}
	}
	for _, key := range []string{"events", "sends", "failure_rate", "seconds", "events_per_second", "plan_sends", "campaigns_called_off"} {
		if summary[key] == nil {
			t.Errorf("summary lacks %s: %v", key, summary)
		}
	}
	outcomes, err := pipeline.ReadOutcomes(filepath.Join(dir, "outcomes.parquet"))
	if err != nil || len(outcomes) == 0 {
		t.Fatalf("outcomes: %d, %v", len(outcomes), err)
	}
	// tokens.csv: one row per WABA of the plan (the default 3), each with
	// an expiry.
	tokens, err := pipeline.ReadTokenExpiries(filepath.Join(dir, "tokens.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var planWABAs []string
	err = pipeline.ReadPlan(context.Background(), filepath.Join(dir, "plan.parquet"), nil, func(batch []pipeline.PlannedSend) error {
		for _, p := range batch {
			planWABAs = append(planWABAs, p.WABAID)
		}
		return nil
	})
	if err != nil || len(planWABAs) == 0 {
		t.Fatalf("plan: %d sends, %v", len(planWABAs), err)
	}
	tokenOf := map[string]int64{}
	for _, tok := range tokens {
		tokenOf[tok.WABAID] = tok.ExpiresAt
		if tok.ExpiresAt == pipeline.TokenNeverExpires {
			t.Errorf("tokens.csv: WABA %s has no expiry", tok.WABAID)
		}
	}
	if len(tokens) != 3 || len(tokenOf) != 3 {
		t.Errorf("tokens.csv has %d rows (%d WABAs), want one per WABA (3): %v", len(tokens), len(tokenOf), tokens)
	}
	for _, waba := range planWABAs {
		if _, ok := tokenOf[waba]; !ok {
			t.Fatalf("plan WABA %s has no row in tokens.csv", waba)
		}
	}
}

func TestSimulateIsReproducible(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if code, _, stderr := runCmd(t, context.Background(), append(smallWorld, "--out", dir)...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	}
	for _, name := range []string{"plan.parquet", "plan.csv", "outcomes.parquet", "tokens.csv", "history/dt=2026-10-31/part-0.parquet"} {
		x, err1 := os.ReadFile(filepath.Join(a, name))
		y, err2 := os.ReadFile(filepath.Join(b, name))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same flags (%v, %v)", name, err1, err2)
		}
	}
}

func TestSimulateFailureKeepsEarlierOutputs(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCmd(t, context.Background(), append(smallWorld, "--out", dir)...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "plan.csv"))
	parts, _ := filepath.Glob(filepath.Join(dir, "history", "dt=*"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, _ := runCmd(t, ctx, append(smallWorld, "--out", dir, "--seed", "7", "--days", "5")...)
	if code != 1 {
		t.Errorf("cancelled run: exit %d, want 1", code)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "plan.csv"))
	partsAfter, _ := filepath.Glob(filepath.Join(dir, "history", "dt=*"))
	if !bytes.Equal(before, after) || len(parts) != len(partsAfter) {
		t.Error("a failed run changed the earlier outputs")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".staging-*")); len(left) > 0 {
		t.Errorf("staging left behind: %v", left)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"unknown flag", []string{"--nope"}, 2},
		{"bad as-of", []string{"--as-of", "yesterday"}, 2},
		{"no days", []string{"--days", "0"}, 2},
		{"bad scale", []string{"--scale", "-1"}, 2},
		{"bad log format", []string{"--log-format", "xml", "--days", "1", "--recipients", "500"}, 2},
		{"extra argument", []string{"now"}, 2},
		{"help", []string{"-h"}, 0},
		{"secret as a flag", []string{"--hash-key", "k"}, 2},
		{"replay without plan", []string{"replay", "--predictions", "p.csv"}, 2},
		{"replay missing files", []string{"replay", "--plan", "missing.parquet", "--predictions", "missing.csv"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--out", t.TempDir())
			if tt.args[0] == "replay" {
				args = tt.args
			}
			if code, _, stderr := runCmd(t, context.Background(), args...); code != tt.code {
				t.Errorf("exit %d, want %d (%s)", code, tt.code, stderr)
			}
		})
	}
}

func TestReplay(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCmd(t, context.Background(), append(smallWorld, "--out", dir)...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	outcomes, err := pipeline.ReadOutcomes(filepath.Join(dir, "outcomes.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	// Predictions that suppress exactly the sends that fail, with extra
	// columns around the two the replay reads.
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"send_id", "p_fail", "action", "model_version"})
	failed := 0
	for _, o := range outcomes {
		action := "send as planned"
		if o.Failed {
			action = "suppress"
			failed++
		}
		w.Write([]string{o.SendID, "0.5", action, "v1"})
	}
	w.Flush()
	preds := filepath.Join(dir, "predictions.csv")
	if err := os.WriteFile(preds, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	camps := filepath.Join(dir, "campaigns.csv")
	if err := os.WriteFile(camps, []byte("campaign_id,recommended_rate_mps\nnone,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"replay", "--plan", filepath.Join(dir, "plan.parquet"), "--predictions", preds, "--campaigns", camps}, smallWorld...)
	code, stdout, stderr := runCmd(t, context.Background(), args...)
	if code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "failures prevented") || !strings.Contains(stdout, "100.0% of failures") {
		t.Errorf("replay table does not show all failures prevented:\n%s", stdout)
	}
	code, stdout, stderr = runCmd(t, context.Background(), append(args, "--json")...)
	if code != 0 {
		t.Fatalf("replay --json exit %d: %s", code, stderr)
	}
	var rep struct {
		Sends     int `json:"sends_planned"`
		AsPlanned int `json:"failures_as_planned"`
		Prevented int `json:"failures_prevented"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("replay --json output: %v\n%s", err, stdout)
	}
	if rep.Sends != len(outcomes) || rep.AsPlanned != failed || rep.Prevented != failed {
		t.Errorf("replay report %+v, want %d sends, %d failures all prevented", rep, len(outcomes), failed)
	}
	// A bad predictions file names the file and row.
	if err := os.WriteFile(preds, []byte("send_id,action\ns1,explode\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCmd(t, context.Background(), args...)
	if code != 3 || !strings.Contains(stderr, "predictions.csv: row 2") {
		t.Errorf("bad predictions: exit %d, %s", code, stderr)
	}
}
