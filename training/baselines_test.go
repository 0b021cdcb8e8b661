package training

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// TestBaselinesKeepToTheBudget checks the baselines' time budget: with
// no time they still appear in the comparison, fitted once on their
// first rows and noted so; with time enough they reach their row caps.
func TestBaselinesKeepToTheBudget(t *testing.T) {
	ds, err := pipeline.OpenDataset(history(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := fastConfig("", "unused")
	cfg.BaselineRows, cfg.LogRegRows = 800, 800
	s, err := BuildTables(context.Background(), ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		budget time.Duration
		rows   int
		note   string
	}{
		{"no time", time.Nanosecond, 100, "(time budget)"},
		{"time enough", time.Hour, 800, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTrainer(cfg)
			tr.baselineFirst = 100
			cands, err := tr.fitBaselines(context.Background(), s, tc.budget)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]*candidate{}
			for _, c := range cands {
				got[c.name] = c
			}
			if len(cands) != 3 || got["rule: "+RuleFeature] == nil {
				t.Fatalf("%d baselines, want the rule, the forest and the logistic regression", len(cands))
			}
			for _, name := range []string{"random forest", "logistic regression"} {
				c := got[name]
				if c == nil {
					t.Fatalf("no %s", name)
				}
				if c.trainRows != tc.rows || !strings.Contains(c.note, tc.note) || (tc.note == "" && strings.Contains(c.note, "budget")) {
					t.Fatalf("%s trained on %d rows, note %q; want %d rows, note with %q", name, c.trainRows, c.note, tc.rows, tc.note)
				}
			}
		})
	}
}
