package scoring

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	var want []byte
	run := func(name string, asOf time.Time) string {
		t.Helper()
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

	// A changed history (here: its modification time) has another state;
	// the old one goes.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(history, later, later); err != nil {
		t.Fatal(err)
	}
	mustSay(run("changed", worldAsOf), "no saved feature state")
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
