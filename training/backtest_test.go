package training

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
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
