package training

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/registry"
)

// trainedRegistry trains one version into a fresh registry and returns
// the registry and the champion's version name.
func trainedRegistry(t *testing.T, hist string) (string, string) {
	t.Helper()
	reg := filepath.Join(t.TempDir(), "registry")
	if code, log := runTrain(t, noBaselines(hist, reg)); code != exitcode.OK {
		t.Fatalf("first run: exit %d\n%s", code, log)
	}
	return reg, current(t, reg)
}

// copyRegistry copies reg's versions and current link to a new directory.
func copyRegistry(t *testing.T, reg string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "registry")
	if err := os.CopyFS(filepath.Join(dst, registry.VersionsDir), os.DirFS(filepath.Join(reg, registry.VersionsDir))); err != nil {
		t.Fatal(err)
	}
	link, err := os.Readlink(filepath.Join(reg, registry.CurrentLink))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(link, filepath.Join(dst, registry.CurrentLink)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func countVersions(t *testing.T, reg string) int {
	t.Helper()
	vs, err := registry.Open(reg).Versions()
	if err != nil {
		t.Fatal(err)
	}
	return len(vs)
}

// TestFaultUnloadableChampion (issue 12 item 14): a champion that cannot
// be loaded used to let any challenger be published without comparison.
// The run now refuses (exit 1, the champion and the problem named, the
// metrics file says so) and leaves the registry as it was; --force
// publishes without comparison and says so.
func TestFaultUnloadableChampion(t *testing.T) {
	hist := history(t)
	base, champion := trainedRegistry(t, hist)
	tests := []struct {
		name    string
		break_  func(t *testing.T, reg string) // makes the champion unloadable
		wantErr string                         // in the error message
		force   bool                           // also check --force
	}{
		{"current outside the registry", func(t *testing.T, reg string) {
			// A complete, valid model, but in a directory of its own.
			outside := filepath.Join(t.TempDir(), "elsewhere", champion)
			if err := os.CopyFS(outside, os.DirFS(filepath.Join(reg, registry.VersionsDir, champion))); err != nil {
				t.Fatal(err)
			}
			relink(t, reg, outside)
		}, "outside the registry", true},
		{"current at a missing version", func(t *testing.T, reg string) {
			relink(t, reg, filepath.Join(registry.VersionsDir, "20200101T000000Z"))
		}, "20200101T000000Z", false},
		{"corrupt champion model file", func(t *testing.T, reg string) {
			p := filepath.Join(reg, registry.VersionsDir, champion, bundle.FailFile)
			raw, _ := os.ReadFile(p)
			raw[len(raw)/2] ^= 0xff
			os.WriteFile(p, raw, 0o644)
		}, bundle.FailFile, true},
		{"corrupt champion metadata", func(t *testing.T, reg string) {
			os.WriteFile(filepath.Join(reg, registry.VersionsDir, champion, artifact.MetadataFile), []byte(`{"format_version": 1, "files": `), 0o644)
		}, artifact.MetadataFile, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := copyRegistry(t, base)
			tc.break_(t, reg)
			linkBefore, _ := os.Readlink(filepath.Join(reg, registry.CurrentLink))
			metricsFile := filepath.Join(t.TempDir(), "train.prom")
			weak := noBaselines(hist, reg)
			weak.Rounds, weak.Depth, weak.EarlyStop, weak.Tolerance, weak.MetricsFile = 1, 1, 0, 0, metricsFile

			code, log := runTrain(t, weak)
			if code != exitcode.Internal {
				t.Fatalf("exit %d, want %d (refused)\n%s", code, exitcode.Internal, log)
			}
			for _, want := range []string{"cannot be loaded", "refusing to promote", "--force", tc.wantErr} {
				if !strings.Contains(log, want) {
					t.Errorf("message lacks %q:\n%s", want, log)
				}
			}
			if got, _ := os.Readlink(filepath.Join(reg, registry.CurrentLink)); got != linkBefore {
				t.Fatalf("current moved from %s to %s", linkBefore, got)
			}
			if n := countVersions(t, reg); n != 1 {
				t.Fatalf("%d versions after a refused run, want 1", n)
			}
			prom, _ := os.ReadFile(metricsFile)
			for _, want := range []string{"failcast_train_champion_unloadable 1", `failcast_train_decision{decision="refused"} 1`, "failcast_train_exit_code 1"} {
				if !strings.Contains(string(prom), want) {
					t.Errorf("metrics file lacks %q:\n%s", want, prom)
				}
			}
			if !tc.force {
				return
			}
			weak.Force = true
			code, log = runTrain(t, weak)
			if code != exitcode.OK || !strings.Contains(log, "published without comparison (--force)") {
				t.Fatalf("--force: exit %d\n%s", code, log)
			}
			v := current(t, reg)
			if md := readMetadata(t, filepath.Join(reg, registry.VersionsDir, v)); md.Extra["champion_unloadable"] != true || md.Extra["forced"] != true {
				t.Fatalf("forced version's metadata: unloadable %v forced %v", md.Extra["champion_unloadable"], md.Extra["forced"])
			}
			prom, _ = os.ReadFile(metricsFile)
			for _, want := range []string{"failcast_train_champion_unloadable 1", `failcast_train_decision{decision="forced"} 1`, "failcast_train_promoted 1"} {
				if !strings.Contains(string(prom), want) {
					t.Errorf("metrics file after --force lacks %q:\n%s", want, prom)
				}
			}
		})
	}
}

// relink points reg's current link at target.
func relink(t *testing.T, reg, target string) {
	t.Helper()
	link := filepath.Join(reg, registry.CurrentLink)
	os.Remove(link)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestFaultRerunSameInputs (issue 12 item 15): a rerun with the same
// as-of, seed, settings and history used to write a second version. It
// now exits 0 and says the inputs are unchanged, also when the dataset
// was copied elsewhere (other paths, other modification times); a
// history that changed trains a new version as usual.
func TestFaultRerunSameInputs(t *testing.T) {
	src, err := os.ReadFile(history(t))
	if err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(t.TempDir(), "a", "history")
	put := func(dir string, data []byte) {
		os.MkdirAll(filepath.Join(dir, "dt=2026-10-31"), 0o755)
		if err := os.WriteFile(filepath.Join(dir, "dt=2026-10-31", "part.parquet"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put(first, src)
	reg, champion := trainedRegistry(t, first)
	md := readMetadata(t, filepath.Join(reg, registry.VersionsDir, champion))
	if md.Inputs == nil || len(md.Inputs.Files) != 1 || md.Inputs.Files[0].Path != "part.parquet" || md.Inputs.Settings["seed"] != "1" {
		t.Fatalf("metadata inputs %+v", md.Inputs)
	}

	copied := filepath.Join(t.TempDir(), "b", "copy")
	put(copied, src)
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(copied, "dt=2026-10-31", "part.parquet"), later, later)
	changed := filepath.Join(t.TempDir(), "c", "history")
	other := writeSynthHistory(t, t.TempDir(), synthOptions{days: 10, sendsPerHr: 12, recipients: 400, badShare: 0.15, seed: 2})
	otherData, _ := os.ReadFile(other)
	put(changed, otherData)

	tests := []struct {
		name         string
		history      string
		seed         uint64
		wantVersions int
		wantDecision string
		wantLog      string
	}{
		{"identical inputs", first, 1, 1, "unchanged", "unchanged: the inputs equal the champion's"},
		{"same data copied elsewhere", copied, 1, 1, "unchanged", "unchanged: the inputs equal the champion's"},
		{"another seed", first, 2, 2, "", "seed"},
		{"history changed", changed, 1, 3, "", "file part.parquet changed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			time.Sleep(1100 * time.Millisecond) // version names have one-second resolution
			cfg := noBaselines(tc.history, reg)
			cfg.Seed = tc.seed
			cfg.MetricsFile = filepath.Join(t.TempDir(), "train.prom")
			code, log := runTrain(t, cfg)
			if code != exitcode.OK {
				t.Fatalf("exit %d\n%s", code, log)
			}
			if n := countVersions(t, reg); n != tc.wantVersions {
				t.Fatalf("%d versions, want %d\n%s", n, tc.wantVersions, log)
			}
			if !strings.Contains(log, tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, log)
			}
			prom, _ := os.ReadFile(cfg.MetricsFile)
			unchanged := strings.Contains(string(prom), `failcast_train_decision{decision="unchanged"} 1`)
			if unchanged != (tc.wantDecision == "unchanged") || !strings.Contains(string(prom), "failcast_train_exit_code 0") {
				t.Errorf("metrics file:\n%s", prom)
			}
		})
	}
}
