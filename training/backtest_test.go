package training

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/registry"
)

// TestSeedOnlyChangeIsATie: two seeds, same data. On the validation window
// alone a seed can move PR-AUC by more than the tolerance (promotion by
// noise); over the backtest the difference's interval holds 0, so the
// champion stays unless --force.
func TestSeedOnlyChangeIsATie(t *testing.T) {
	hist := history(t)
	reg := filepath.Join(t.TempDir(), "registry")
	cfg := noBaselines(hist, reg)
	cfg.Seed = 1
	if code, log := runTrain(t, cfg); code != exitcode.OK {
		t.Fatalf("exit %d\n%s", code, log)
	}
	champion := current(t, reg)

	for _, tc := range []struct {
		name        string
		force       bool
		wantPromote bool
	}{
		{"seed 2 ties and the champion stays", false, false},
		{"--force promotes it", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			time.Sleep(1100 * time.Millisecond) // version names have one-second resolution
			c := cfg
			c.Seed, c.Force = 2, tc.force
			code, log := runTrain(t, c)
			if code != exitcode.OK {
				t.Fatalf("exit %d\n%s", code, log)
			}
			if !strings.Contains(log, "verdict=tie") {
				t.Fatalf("a seed-only change is not a tie:\n%s", log)
			}
			if got := current(t, reg) != champion; got != tc.wantPromote {
				t.Fatalf("promoted %v, want %v\n%s", got, tc.wantPromote, log)
			}
		})
	}
	vs, _ := registry.Open(reg).Versions()
	if len(vs) != 3 {
		t.Fatalf("%d versions, want 3", len(vs))
	}
}

func TestTQuantile(t *testing.T) {
	for _, tc := range []struct {
		dof  int
		want float64
	}{{0, 1.96}, {1, 12.706}, {2, 4.303}, {10, 2.228}, {50, 1.96}} {
		if got := tQuantile975(tc.dof); got != tc.want {
			t.Errorf("tQuantile975(%d) = %g, want %g", tc.dof, got, tc.want)
		}
	}
}

// The backtest decides between recipes; in a tie, which model serves
// depends on the data it saw and on the build that trained it. A champion
// from another build (an upgrade: new calibration, new mechanisms) used to
// stay on a tie, so an upgraded failcast kept serving the old build's
// model on the same data.
func TestDecideBacktestTie(t *testing.T) {
	asOf := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	build := artifact.CodeVersion()
	tests := []struct {
		name         string
		verdict      string
		champAsOf    time.Time
		champBuild   string
		wantPromoted bool
	}{
		{"tie, same data and build", "tie", asOf, build, false},
		{"tie, newer data", "tie", asOf.Add(-24 * time.Hour), build, true},
		{"tie, another build", "tie", asOf, "0123456789abcdef", true},
		{"tie, build unknown to the champion", "tie", asOf, "devel", true},
		{"worse, another build", "worse", asOf, "0123456789abcdef", false},
		{"better, same build", "better", asOf, build, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTrainer(Config{AsOf: asOf, Tolerance: 0.005, Log: slog.New(slog.DiscardHandler)})
			champ := artifact.Metadata{CodeVersion: tt.champBuild, Extra: map[string]any{"as_of": tt.champAsOf.Format(time.RFC3339)}}
			res := &Result{Backtest: &BacktestComparison{Verdict: tt.verdict}}
			tr.decideBacktest(champ, res)
			if res.Promoted != tt.wantPromoted {
				t.Errorf("promoted = %v, want %v (%s)", res.Promoted, tt.wantPromoted, res.Reason)
			}
		})
	}
}
