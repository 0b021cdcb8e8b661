package scalebeam

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/parquet-go/parquet-go"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring"
	"github.com/failcast/failcast/simulate"
	"github.com/failcast/failcast/training"
)

func TestMain(m *testing.M) { ptest.Main(m) }

// smallWorld simulates a small demo-like world (the demo's seed and
// as-of, fewer recipients and days) into dir and returns its config.
func smallWorld(t *testing.T, dir string, wabas int) simulate.Config {
	t.Helper()
	cfg := simulate.DefaultConfig()
	cfg.Days, cfg.Recipients, cfg.CampaignsPerDay, cfg.WABAs, cfg.PhoneNumbers = 12, 4000, 8, wabas, 2*wabas
	if _, err := simulate.WriteOutputs(context.Background(), cfg, dir, false, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func smallTraining(asOf time.Time) training.Config {
	c := training.DefaultConfig()
	c.AsOf, c.TrainDays, c.ValidDays = asOf, 8, 2
	c.MinRows, c.MinFailures = 100, 5
	return c
}

// readRows reads a Parquet file's rows and its column names.
func readRows(t *testing.T, path string) ([]string, []parquet.Row) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := parquet.NewReader(f)
	defer r.Close()
	var names []string
	for _, c := range r.Schema().Columns() {
		names = append(names, c[0])
	}
	var rows []parquet.Row
	buf := make([]parquet.Row, 256)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			rows = append(rows, row.Clone())
		}
		if err != nil {
			break
		}
	}
	return names, rows
}

// TestTrainingTableParity: the Beam training table has the single-node
// table's rows (training.BuildTables, what train --features-out writes),
// in the same order, with the same identity and label values; feature
// values differ only where docs/scale-out.md says they are approximated:
// the features of entities shared across accounts. In this world (the
// simulator gives each account its own countries, recipients and
// templates) those are the "no campaign" entity of sends outside a
// campaign (campaign_* features) and the "no template" entity of
// non-template sends (template_* features).
func TestTrainingTableParity(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a world and runs Beam on Prism")
	}
	dir := t.TempDir()
	world := smallWorld(t, filepath.Join(dir, "sim"), 3)
	history := filepath.Join(dir, "sim", "history")
	tc := smallTraining(world.AsOf)

	ds, err := pipeline.OpenDataset(history)
	if err != nil {
		t.Fatal(err)
	}
	tabs, err := training.BuildTables(context.Background(), ds, tc)
	if err != nil {
		t.Fatal(err)
	}
	single := filepath.Join(dir, "single.parquet")
	if err := features.WriteParquet(single, tabs.Table); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "beam.parquet")
	p, s := beam.NewPipelineWithRoot()
	if _, err := TrainingTable(s, TrainingConfig{History: history, Out: out, Train: tc}); err != nil {
		t.Fatal(err)
	}
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
	wantNames, want := readRows(t, single)
	gotNames, got := readRows(t, out)
	if fmt.Sprint(gotNames) != fmt.Sprint(wantNames) {
		t.Fatalf("columns differ:\n got %v\nwant %v", gotNames, wantNames)
	}
	col := func(name string) int { return slices.Index(wantNames, name) }
	// The Beam table has every send, as train --features-out writes it;
	// the single-node table leaves out the sends a rule decides (training
	// does, from either table). Align the two in their common order: the
	// rows Beam has beyond the single node's must be exactly those.
	idIdx := col(features.ColID)
	var aligned []parquet.Row
	extra := 0
	for _, g := range got {
		if len(aligned) < len(want) && g[idIdx].String() == want[len(aligned)][idIdx].String() {
			aligned = append(aligned, g)
			continue
		}
		extra++
	}
	if len(aligned) != len(want) || extra != tabs.RuleRows {
		t.Fatalf("Beam table has %d rows, single node %d and %d rule rows left out: %d aligned in order, %d extra",
			len(got), len(want), tabs.RuleRows, len(aligned), extra)
	}
	got = aligned
	campIdx, tplIdx := col(features.ColCampaignID), col("send_has_template")
	// approximated says whether column j of row may differ.
	approximated := func(row parquet.Row, j int) bool {
		name := wantNames[j]
		switch {
		case strings.HasPrefix(name, "campaign_"):
			return row[campIdx].String() == ""
		case strings.HasPrefix(name, "template_"):
			return row[tplIdx].Float() == 0
		case strings.HasPrefix(name, "country_"), strings.HasPrefix(name, "recipient_"):
			return true
		}
		return false
	}
	diff := map[string]int{}
	diffRows := 0
	for i := range want {
		if got[i].Equal(want[i]) {
			continue
		}
		diffRows++
		for j := range want[i] {
			if parquet.Equal(got[i][j], want[i][j]) {
				continue
			}
			diff[wantNames[j]]++
			if !approximated(want[i], j) {
				t.Fatalf("row %d (%s) column %s: Beam %v, single node %v: not a feature of a cross-account entity",
					i, want[i][idIdx], wantNames[j], got[i][j], want[i][j])
			}
		}
	}
	t.Logf("%d of %d rows equal; %d rows differ in features of shared entities (values by column: %v)", len(want)-diffRows, len(want), diffRows, diff)
}

// sortedLines returns a CSV file's header and its other lines sorted.
func sortedLines(t *testing.T, path string) (string, []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	body := slices.Clone(lines[1:])
	slices.Sort(body)
	return lines[0], body
}

// TestScoringParity: on the same small world and model, the Beam
// predictions (all shards' predictions.csv) have the single-node score's
// sends, and the lines of sends whose features involve no cross-account
// entity (a send in a campaign, with a template: see
// TestTrainingTableParity) are equal byte for byte, as are the merged
// campaigns.csv lines of campaigns made only of such sends; summary.json
// has the same number of sends.
func TestScoringParity(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a world, trains and runs Beam on Prism")
	}
	ctx := context.Background()
	dir := t.TempDir()
	world := smallWorld(t, filepath.Join(dir, "sim"), 3)
	sim := filepath.Join(dir, "sim")
	history := filepath.Join(sim, "history")
	tc := smallTraining(world.AsOf)
	tc.History, tc.Registry, tc.Baselines, tc.Rounds = history, filepath.Join(dir, "registry"), false, 30
	if _, err := training.Run(ctx, tc); err != nil {
		t.Fatal(err)
	}
	sc := scoring.DefaultConfig()
	sc.Plans, sc.History, sc.AsOf, sc.Registry = []string{filepath.Join(sim, "plan.parquet")}, history, world.AsOf, tc.Registry
	sc.Out, sc.Tokens = filepath.Join(dir, "single"), filepath.Join(sim, "tokens.csv")
	single, err := scoring.Run(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}

	bc := DefaultScoringConfig()
	bc.History, bc.Plans, bc.AsOf, bc.Registry, bc.Out, bc.Tokens = history, sc.Plans, world.AsOf, tc.Registry, filepath.Join(dir, "beam"), sc.Tokens
	p, s := beam.NewPipelineWithRoot()
	if err := Scoring(s, bc); err != nil {
		t.Fatal(err)
	}
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}

	wantHead, want := sortedLines(t, filepath.Join(sc.Out, scoring.PredictionsFile))
	shards, err := filepath.Glob(filepath.Join(bc.Out, "shards", "*", scoring.PredictionsFile))
	if err != nil || len(shards) != world.WABAs {
		t.Fatalf("%d shard prediction files (%v), want one per account (%d)", len(shards), err, world.WABAs)
	}
	var got []string
	for _, f := range shards {
		head, lines := sortedLines(t, f)
		if head != wantHead {
			t.Fatalf("%s header %q, want %q", f, head, wantHead)
		}
		got = append(got, lines...)
	}
	// Sends and campaigns whose features are all exact under account sharding.
	exactSend, exactCamp := map[string]bool{}, map[string]bool{}
	err = pipeline.ReadPlan(ctx, sc.Plans[0], nil, func(b []pipeline.PlannedSend) error {
		for _, p := range b {
			ok := p.CampaignID != "" && p.Template != ""
			exactSend[p.SendID] = ok
			if prev, seen := exactCamp[p.CampaignID]; !seen || prev {
				exactCamp[p.CampaignID] = ok
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	exactLines := func(lines []string, exact map[string]bool) (keep []string, all int) {
		for _, l := range lines {
			id, _, _ := strings.Cut(l, ",")
			if _, known := exact[id]; !known {
				t.Fatalf("line of unknown id %q", id)
			}
			if exact[id] {
				keep = append(keep, l)
			}
		}
		return keep, len(lines)
	}
	slices.Sort(got)
	if len(got) != len(want) {
		t.Fatalf("Beam has %d predictions, single node %d", len(got), len(want))
	}
	gotExact, _ := exactLines(got, exactSend)
	wantExact, _ := exactLines(want, exactSend)
	compareLines(t, "predictions of sends in a campaign with a template", gotExact, wantExact)
	same := 0
	for i := range want {
		if got[i] == want[i] {
			same++
		}
	}

	_, wantCamps := sortedLines(t, filepath.Join(sc.Out, scoring.CampaignsFile))
	_, gotCamps := sortedLines(t, filepath.Join(bc.Out, scoring.CampaignsFile))
	if len(gotCamps) != len(wantCamps) {
		t.Fatalf("Beam has %d campaigns, single node %d", len(gotCamps), len(wantCamps))
	}
	gotCampsExact, _ := exactLines(gotCamps, exactCamp)
	wantCampsExact, _ := exactLines(wantCamps, exactCamp)
	compareLines(t, "campaigns of template sends", gotCampsExact, wantCampsExact)
	t.Logf("predictions: %d of %d lines equal (%d of %d sends in a campaign with a template, all equal); campaigns: %d of %d with only such sends, all equal",
		same, len(want), len(wantExact), len(want), len(wantCampsExact), len(wantCamps))

	var sum Summary
	b, err := os.ReadFile(filepath.Join(bc.Out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Sends != single.Sends || sum.Stale != single.Stale || len(sum.Shards) != world.WABAs {
		t.Errorf("summary: %d sends, %d stale, %d shards; single node %d sends, %d stale, %d accounts",
			sum.Sends, sum.Stale, len(sum.Shards), single.Sends, single.Stale, world.WABAs)
	}
	t.Logf("expected failures: Beam %.1f, single node %.1f", sum.ExpectedFailures, single.ExpectedFailures)
}

func compareLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: Beam %d lines, single node %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: line %d differs:\n Beam   %s\n single %s", what, i, got[i], want[i])
		}
	}
}
