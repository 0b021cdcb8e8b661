package scoring

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models/drift"
	"github.com/failcast/failcast/models/gbdt"
	"github.com/failcast/failcast/scoring/predictions"
)

func TestReasonsColumn(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.csv")
	writePlanCSV(t, plan, demoPlan())
	names := features.Names()
	for _, mode := range []Reasons{ReasonsOff, ReasonsFlagged, ReasonsAll} {
		t.Run(string(mode), func(t *testing.T) {
			out := filepath.Join(dir, string(mode))
			cfg := scoreConfig(w, out, plan)
			cfg.Reasons = mode
			mustRun(t, cfg)
			header, rows := readCSV(t, filepath.Join(out, PredictionsFile))
			if header[len(header)-1] != predictions.ColReasons {
				t.Fatalf("last column %q, want %q", header[len(header)-1], predictions.ColReasons)
			}
			withReasons := 0
			for _, r := range rows {
				cell := r[predictions.ColReasons]
				flagged := r[predictions.ColRisk] != "low"
				want := mode == ReasonsAll || mode == ReasonsFlagged && flagged
				if (cell != "") != want {
					t.Fatalf("mode %s, risk %s: reasons %q", mode, r[predictions.ColRisk], cell)
				}
				if cell == "" {
					continue
				}
				withReasons++
				fs, vs, err := ParseReasons(cell)
				if err != nil {
					t.Fatal(err)
				}
				if len(fs) == 0 || len(fs) > TopReasons {
					t.Fatalf("reasons %q: %d features, want 1..%d", cell, len(fs), TopReasons)
				}
				for k, f := range fs {
					if !slices.Contains(names, f) {
						t.Fatalf("reasons %q name unknown feature %q", cell, f)
					}
					if k > 0 && math.Abs(vs[k]) > math.Abs(vs[k-1]) {
						t.Fatalf("reasons %q not sorted by absolute contribution", cell)
					}
				}
			}
			if mode != ReasonsOff && withReasons == 0 {
				t.Fatalf("mode %s: no send got reasons", mode)
			}
		})
	}
}

// TestReasonsAgreeWithExplain: a send's reasons cell holds the three
// largest contributions `explain` prints, and explain's base value plus
// contributions is the model's log-odds.
func TestReasonsAgreeWithExplain(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.csv")
	sends := demoPlan()
	writePlanCSV(t, plan, sends)
	cfg := scoreConfig(w, filepath.Join(dir, "score"), plan)
	cfg.Reasons = ReasonsAll
	mustRun(t, cfg)
	_, rows := readCSV(t, filepath.Join(cfg.Out, PredictionsFile))
	byID := map[string]map[string]string{}
	for _, r := range rows {
		byID[r[predictions.ColSendID]] = r
	}
	same := 0
	for _, id := range []string{sends[0].SendID, sends[401].SendID, sends[len(sends)-1].SendID} {
		e, err := ExplainSend(context.Background(), cfg, id)
		if err != nil {
			t.Fatalf("explain %s: %v", id, err)
		}
		sum := e.Bias
		for _, c := range e.Contributions {
			sum += c.Contribution
		}
		if math.Abs(sum-e.Logit) > 1e-9 || math.Abs(e.Residual) > 1e-9 {
			t.Errorf("%s: bias + contributions = %v, log-odds %v", id, sum, e.Logit)
		}
		if len(e.Contributions) != len(features.Names()) {
			t.Errorf("%s: %d contributions, want every feature", id, len(e.Contributions))
		}
		r := byID[id]
		// No token inventory or calibration here: p_fail is the model's
		// own probability, or higher where a known mechanism (such as a
		// rate above the number's throughput) applies; explain shows the
		// model's.
		got, err := strconv.ParseFloat(r[predictions.ColPFail], 64)
		if err != nil {
			t.Fatal(err)
		}
		switch want := FormatProb(e.PFail); {
		case r[predictions.ColPFail] == want:
			same++
		case got < e.PFail-1e-4:
			t.Errorf("%s: predictions.csv p_fail %v below the model's %v (mechanisms never lower it)", id, got, e.PFail)
		}
		fs, vs, _ := ParseReasons(r[predictions.ColReasons])
		for k := range fs {
			c := e.Contributions[k]
			if fs[k] != c.Feature || math.Abs(vs[k]-c.Contribution) > 0.005+1e-9 {
				t.Errorf("%s: reason %d is %s %+.2f, explain's %s %+.4f", id, k, fs[k], vs[k], c.Feature, c.Contribution)
			}
		}
		var b strings.Builder
		if err := e.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"base value", e.Contributions[0].Feature, "before any adjustment"} {
			if !strings.Contains(b.String(), s) {
				t.Errorf("explain text lacks %q:\n%s", s, b.String())
			}
		}
	}
	if same == 0 {
		t.Error("no send's p_fail is the model's own: the comparison checked nothing")
	}

	if _, err := ExplainSend(context.Background(), cfg, "no-such-send"); exitcode.Of(err) != exitcode.Input || !strings.Contains(err.Error(), "no-such-send") {
		t.Errorf("unknown send: %v, want an input error naming it", err)
	}
}

// TestReasonsNeedCover: a model saved without node cover (an earlier
// build) is refused with --reasons, named, and scores without it.
func TestReasonsNeedCover(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "old-model")
	trainWithoutExtras = true
	err := trainBundle(w.history, model, "20261001T000000Z-old", features.SchemaHash())
	trainWithoutExtras = false
	if err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "plan.csv")
	writePlanCSV(t, plan, demoPlan())
	cfg := scoreConfig(w, filepath.Join(dir, "score"), plan)
	cfg.Model, cfg.Reasons = model, ReasonsFlagged
	_, err, _ = runScore(t, cfg)
	if exitcode.Of(err) != exitcode.Input || !strings.Contains(err.Error(), "node cover") || !strings.Contains(err.Error(), "--reasons off") {
		t.Fatalf("reasons from a model without cover: %v (exit %d), want an input error", err, exitcode.Of(err))
	}
	if _, err := os.Stat(filepath.Join(cfg.Out, PredictionsFile)); !os.IsNotExist(err) {
		t.Error("predictions.csv written by the refused run")
	}
	cfg.Reasons = ReasonsOff
	res, summary, _ := mustRun(t, cfg)
	if res.Drift == nil || res.Drift.Reference || !strings.Contains(summary, "drift: not measured") {
		t.Errorf("model without drift reference: drift %+v, summary:\n%s", res.Drift, summary)
	}
	if _, err := ExplainSend(context.Background(), cfg, demoPlan()[0].SendID); exitcode.Of(err) != exitcode.Input {
		t.Errorf("explain with a model without cover: %v, want an input error", err)
	}
}

func TestAppendParseReasons(t *testing.T) {
	names := []string{"a", "b", "c"}
	tests := []struct {
		top  []gbdt.Reason
		want string
	}{
		{nil, ""},
		{[]gbdt.Reason{{Feature: 2, Contribution: 2.314}}, "c:+2.31"},
		{[]gbdt.Reason{{Feature: 0, Contribution: -1.005}, {Feature: 1, Contribution: 0.5}, {Feature: 2, Contribution: -0.001}}, "a:-1.00; b:+0.50; c:-0.00"},
	}
	for _, tt := range tests {
		got := string(AppendReasons(nil, names, tt.top))
		if got != tt.want {
			t.Errorf("AppendReasons(%v) = %q, want %q", tt.top, got, tt.want)
		}
		fs, vs, err := ParseReasons(got)
		if err != nil || len(fs) != len(tt.top) {
			t.Errorf("ParseReasons(%q) = %v %v %v", got, fs, vs, err)
		}
	}
	for _, bad := range []string{"a", ":+1", "a:x"} {
		if _, _, err := ParseReasons(bad); err == nil {
			t.Errorf("ParseReasons(%q): want an error", bad)
		}
	}
}

// TestDriftReport: a run measures every feature of the plan against the
// model's training distributions and writes drift.json; the summary names
// the drifted features.
func TestDriftReport(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.csv")
	writePlanCSV(t, plan, demoPlan())
	cfg := scoreConfig(w, filepath.Join(dir, "score"), plan)
	res, summary, _ := mustRun(t, cfg)
	d := res.Drift
	if d == nil || !d.Reference || d.Rows != int64(res.Sends) || len(d.Features) != len(features.Names()) {
		t.Fatalf("drift report %+v, want every feature over %d sends", d, res.Sends)
	}
	b, err := os.ReadFile(filepath.Join(cfg.Out, DriftFile))
	if err != nil || !strings.Contains(string(b), `"psi"`) {
		t.Fatalf("drift.json: %v\n%s", err, b)
	}
	// The demo plan is two bursts of one template each a few hours after
	// as-of: its schedule features (sends in the trailing second) and the
	// horizon are far from two weeks of daily campaigns.
	if len(d.Drifted) == 0 || !strings.Contains(summary, "drift: ") {
		t.Errorf("drifted %v; summary:\n%s", d.Drifted, summary)
	}
	// The summary names only the drifted features the model leans on, a
	// subset of the drifted ones.
	if len(d.Material) == 0 || len(d.Material) >= len(d.Drifted) || !strings.Contains(summary, d.Material[0]) {
		t.Errorf("material %v of drifted %v; summary:\n%s", d.Material, d.Drifted, summary)
	}
	for _, name := range d.Material {
		if !slices.Contains(d.Drifted, name) {
			t.Errorf("material feature %s is not drifted", name)
		}
	}
}

func TestMaterialDrift(t *testing.T) {
	ds := []drift.FeatureDrift{
		{Name: "a", PSI: 0.5, Status: drift.StatusDrifted},
		{Name: "b", PSI: 3, Status: drift.StatusDrifted},
		{Name: "c", PSI: 0.05, Status: drift.StatusStable},
		{Name: "d", PSI: 0.3, Status: drift.StatusDrifted},
	}
	tests := []struct {
		name       string
		importance []float64
		want       []string
	}{
		{"only drifted features with enough gain, largest PSI first", []float64{10, 1, 89, 0}, []string{"a"}},
		{"all drifted ones used", []float64{25, 25, 25, 25}, []string{"b", "a", "d"}},
		{"a model without gain", []float64{0, 0, 0, 0}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, x := range materialDrift(ds, tc.importance, 0.02) {
				got = append(got, x.Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
