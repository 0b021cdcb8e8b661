package scoring

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/pipeline"
)

// TestStateCache scores one plan again and again against one history
// with a state cache (--state-cache): the state is folded and saved once, read back
// after, refolded when the history changes or is corrupt, and never used
// when history events fall after --as-of; the predictions never change.
func TestStateCache(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	history := filepath.Join(dir, "history.parquet")
	data, err := os.ReadFile(w.history)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(history, data, 0o644); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "plan.csv")
	writePlanCSV(t, plan, demoPlan())
	cache := filepath.Join(dir, "cache")
	states := func() []string {
		m, _ := filepath.Glob(filepath.Join(cache, stateFilePrefix+"*"))
		return m
	}
	// The same plan as Parquet, in time order: the same predictions
	// against the saved state.
	planParquet := filepath.Join(dir, "plan.parquet")
	sorted := demoPlan()
	slices.SortStableFunc(sorted, func(a, b pipeline.PlannedSend) int { return cmp.Compare(a.ScheduledAt, b.ScheduledAt) })
	if err := pipeline.WritePlan(planParquet, sorted); err != nil {
		t.Fatal(err)
	}
	var want []byte
	run := func(name string, asOf time.Time) string {
		t.Helper()
		plan := plan
		if strings.HasSuffix(name, "parquet") {
			plan = planParquet
		}
		cfg := scoreConfig(w, filepath.Join(dir, name), plan)
		cfg.History, cfg.StateCache, cfg.AsOf = history, cache, asOf
		_, _, log := mustRun(t, cfg)
		got, err := os.ReadFile(filepath.Join(cfg.Out, PredictionsFile))
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = got
		} else if !bytes.Equal(got, want) {
			t.Fatalf("%s: predictions differ from the first run's", name)
		}
		return log
	}
	mustSay := func(stderr, what string) {
		t.Helper()
		if !strings.Contains(stderr, what) {
			t.Fatalf("log does not say %q:\n%s", what, stderr)
		}
	}

	mustSay(run("fold", worldAsOf), "no saved feature state")
	first := states()
	if len(first) != 1 {
		t.Fatalf("%d saved states, want 1", len(first))
	}
	mustSay(run("read", worldAsOf), "feature state read from the cache")
	mustSay(run("read-parquet", worldAsOf), "feature state read from the cache")

	// Against the saved state, a bad row with --bad-rows fail still fails
	// the run and leaves the earlier outputs.
	bad := slices.Clone(sorted)
	bad[len(bad)/2].Category = "promo"
	badPlan := filepath.Join(dir, "bad.parquet")
	if err := pipeline.WritePlan(badPlan, bad); err != nil {
		t.Fatal(err)
	}
	cfg := scoreConfig(w, filepath.Join(dir, "read-parquet"), badPlan)
	cfg.History, cfg.StateCache, cfg.BadRows = history, cache, FailOnBadRows
	before := snapshotDir(t, cfg.Out)
	_, err, _ = runScore(t, cfg)
	if exitcode.Of(err) != exitcode.Input || !strings.Contains(fmt.Sprint(err), "column category") {
		t.Fatalf("--bad-rows fail, saved state: %v (exit %d), want an input error naming the column", err, exitcode.Of(err))
	}
	if after := snapshotDir(t, cfg.Out); !maps.Equal(after, before) {
		t.Fatal("the failed run changed the earlier outputs")
	}

	// A changed history (here: its modification time) has another state;
	// the old one goes.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(history, later, later); err != nil {
		t.Fatal(err)
	}
	mustSay(run("changed-parquet", worldAsOf), "no saved feature state")
	mustSay(run("changed", worldAsOf), "feature state read from the cache")
	if now := states(); len(now) != 1 || now[0] == first[0] {
		t.Fatalf("states after the history changed: %v (before: %v), want one other", now, first)
	}

	// A corrupt state is refolded and saved anew.
	state := states()[0]
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(state, b, 0o644); err != nil {
		t.Fatal(err)
	}
	mustSay(run("corrupt", worldAsOf), "cannot use the saved feature state")
	mustSay(run("repaired", worldAsOf), "feature state read from the cache")

	// History after --as-of: a fold of it is not the saved state.
	want = nil
	mustSay(run("early", worldAsOf.Add(-36*time.Hour)), "cache not used")
}
