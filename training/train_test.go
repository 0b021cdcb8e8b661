package training

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/internal/memlimit"
	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/registry"
	"github.com/failcast/failcast/models/report"
)

// sharedHistory is one synthetic history file shared by the tests that
// only read it.
var (
	sharedHistoryDir string
	sharedHistory    = sync.OnceValues(func() (string, error) {
		dir, err := os.MkdirTemp("", "failcast-train-test")
		if err != nil {
			return "", err
		}
		sharedHistoryDir = dir
		return synthHistory(dir, defaultSynth())
	})
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedHistoryDir != "" {
		os.RemoveAll(sharedHistoryDir)
	}
	os.Exit(code)
}

func history(t *testing.T) string {
	t.Helper()
	p, err := sharedHistory()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fastConfig is the config of a quick training run on the synthetic data.
func fastConfig(hist, reg string) Config {
	c := DefaultConfig()
	c.History, c.Registry, c.AsOf = hist, reg, testAsOf
	c.TrainDays, c.ValidDays, c.Rounds, c.Depth, c.EarlyStop = 6, 2, 40, 4, 10
	c.MinRows, c.MinFailures, c.BaselineRows = 200, 10, 3000
	return c
}

// runTrain runs training and returns its exit code and log.
func runTrain(t *testing.T, cfg Config) (int, string) {
	t.Helper()
	var log bytes.Buffer
	cfg.Log = slog.New(slog.NewTextHandler(&log, nil))
	res, err := Run(context.Background(), cfg)
	if (err == nil) != (res != nil) {
		t.Fatalf("Run returned result %v and error %v", res, err)
	}
	return exitcode.Of(err), log.String()
}

// noBaselines is fastConfig without the baselines.
func noBaselines(hist, reg string) Config {
	c := fastConfig(hist, reg)
	c.Baselines = false
	return c
}

func current(t *testing.T, reg string) string {
	t.Helper()
	v, _, err := registry.Open(reg).Current()
	if err != nil {
		t.Fatalf("current champion: %v", err)
	}
	return v
}

func readMetadata(t *testing.T, dir string) artifact.Metadata {
	t.Helper()
	a, err := artifact.Open(dir, features.SchemaHash())
	if err != nil {
		t.Fatal(err)
	}
	return a.Metadata
}

func TestTrainPublishesThenComparesWithChampion(t *testing.T) {
	hist := history(t)
	reg := filepath.Join(t.TempDir(), "registry")
	metricsFile := filepath.Join(t.TempDir(), "train.prom")

	featuresOut := filepath.Join(t.TempDir(), "f.parquet")
	cfg := fastConfig(hist, reg)
	cfg.MetricsFile, cfg.FeaturesOut = metricsFile, featuresOut
	code, log := runTrain(t, cfg)
	if code != exitcode.OK {
		t.Fatalf("first run exit %d\n%s", code, log)
	}
	if fi, err := os.Stat(featuresOut); err != nil || fi.Size() < 1000 {
		t.Fatalf("--features-out: %v", err)
	}
	first := current(t, reg)
	dir := filepath.Join(reg, registry.VersionsDir, first)
	b, err := bundle.Load(dir, features.SchemaHash())
	if err != nil {
		t.Fatalf("champion does not load: %v", err)
	}
	md := b.Metadata
	if md.Metrics.Binary == nil || !(md.Metrics.Binary.PRAUC > 2*md.Metrics.Binary.BaseRate) {
		t.Fatalf("the model learned little: %+v", md.Metrics.Binary)
	}
	if md.Champion == nil || md.Champion.ComparedWith != "" || !md.Champion.Promoted {
		t.Fatalf("first run champion record %+v", md.Champion)
	}
	if _, ok := b.Threshold(bundle.ThresholdHigh); !ok || b.Lead != 4*time.Hour || b.LikelyCodes["throttle"] != 130429 {
		t.Fatalf("thresholds/extras: lead %v codes %v", b.Lead, b.LikelyCodes)
	}
	for _, f := range []string{report.FileName, report.PRChart, report.ROCChart, report.CalibrationChart, report.ImportanceChart, report.ClassChart} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("version lacks %s: %v", f, err)
		}
	}
	md1, _ := os.ReadFile(filepath.Join(dir, report.FileName))
	for _, want := range []string{"**Promoted.**", "| gbdt |", "| logistic regression |", "| random forest |", "| rule: recipient_last_outcome_family |", "## Error families"} {
		if !bytes.Contains(md1, []byte(want)) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	prom, _ := os.ReadFile(metricsFile)
	for _, want := range []string{"failcast_train_exit_code 0", "failcast_train_promoted 1", "failcast_train_last_success_timestamp_seconds", "failcast_train_valid_pr_auc"} {
		if !strings.Contains(string(prom), want) {
			t.Errorf("metrics file lacks %q:\n%s", want, prom)
		}
	}

	// Second run, same data and seed: the champion is scored on the same
	// validation window and over the backtest, ties, and stays (the
	// challenger saw no newer data).
	time.Sleep(1100 * time.Millisecond) // version names have one-second resolution
	cfg.FeaturesOut, cfg.Baselines = "", false
	code, log = runTrain(t, cfg)
	if code != exitcode.OK {
		t.Fatalf("second run exit %d\n%s", code, log)
	}
	if current(t, reg) != first {
		t.Fatal("a tie on the same data replaced the champion")
	}
	vs0, _ := registry.Open(reg).Versions()
	second := vs0[len(vs0)-1].Name
	md2 := readMetadata(t, filepath.Join(reg, registry.VersionsDir, second))
	if bt, ok := md2.Extra["champion_backtest"].(map[string]any); !ok || bt["verdict"] != "tie" || md2.Champion.Promoted {
		t.Fatalf("same recipe and data: backtest %v, promoted %v; want a tie, kept", md2.Extra["champion_backtest"], md2.Champion.Promoted)
	}
	if md2.Champion.ComparedWith != first || md2.Champion.ChampionValue != md2.Champion.ChallengerValue {
		t.Fatalf("same seed and data should tie with the champion: %+v", md2.Champion)
	}
	if !strings.Contains(log, "champion evaluated on the same validation window") {
		t.Fatalf("log does not show the comparison:\n%s", log)
	}
	// The same model twice: every bootstrap replicate ties.
	if got := md2.Extra["champion_difference_95"]; fmt.Sprint(got) != "[0 0]" || md2.Extra["challenger_better_share"] != 0.0 {
		t.Fatalf("bootstrap of a tie: interval %v, better share %v; want [0 0] and 0", got, md2.Extra["challenger_better_share"])
	}

	// A much weaker challenger is kept out; exit 0 and a clear line.
	time.Sleep(1100 * time.Millisecond)
	weak := cfg
	weak.Rounds, weak.Depth, weak.EarlyStop, weak.Tolerance = 1, 1, 0, 0
	code, log = runTrain(t, weak)
	if code != exitcode.OK || !strings.Contains(log, "kept out") {
		t.Fatalf("weak challenger: exit %d\n%s", code, log)
	}
	if current(t, reg) != first {
		t.Fatal("a worse challenger replaced the champion")
	}
	vs, _ := registry.Open(reg).Versions()
	if len(vs) != 3 {
		t.Fatalf("%d versions, want 3 (the kept-out one is stored too)", len(vs))
	}
	prom, _ = os.ReadFile(metricsFile)
	if !strings.Contains(string(prom), "failcast_train_promoted 0") {
		t.Fatalf("metrics after refusal:\n%s", prom)
	}
	keptOut, _ := os.ReadFile(filepath.Join(vs[2].Dir, report.FileName))
	if !bytes.Contains(keptOut, []byte("**Kept out")) {
		t.Fatal("kept-out report does not say so")
	}
	if !bytes.Contains(keptOut, []byte("the challenger is better in 0.0% of 200 replicates")) {
		t.Fatalf("kept-out report does not give the bootstrap of the difference:\n%s", keptOut)
	}

	// --force promotes it anyway; --keep 2 prunes the oldest.
	time.Sleep(1100 * time.Millisecond)
	weak.Force, weak.Keep = true, 2
	code, log = runTrain(t, weak)
	if code != exitcode.OK || !strings.Contains(log, "--force") {
		t.Fatalf("forced run: exit %d\n%s", code, log)
	}
	vs, _ = registry.Open(reg).Versions()
	if len(vs) != 2 || !vs[1].Current {
		t.Fatalf("after --force --keep 2: %+v", vs)
	}
}

func TestTrainIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("trains twice")
	}
	hist := history(t)
	root := t.TempDir()
	var prs, thr [2]float64
	var files [2]map[string]string
	for i := range prs {
		reg := filepath.Join(root, fmt.Sprint(i))
		if code, log := runTrain(t, noBaselines(hist, reg)); code != exitcode.OK {
			t.Fatalf("exit %d\n%s", code, log)
		}
		md := readMetadata(t, filepath.Join(reg, registry.VersionsDir, current(t, reg)))
		prs[i], thr[i], files[i] = md.Metrics.Binary.PRAUC, md.Thresholds[bundle.ThresholdMedium].Value, md.Files
	}
	if prs[0] != prs[1] || thr[0] != thr[1] {
		t.Fatalf("same seed, data and as-of gave PR-AUC %v and thresholds %v", prs, thr)
	}
	for _, f := range []string{bundle.FailFile, bundle.FamilyFile} {
		if files[0][f] == "" || files[0][f] != files[1][f] {
			t.Fatalf("%s differs between identical runs: %s vs %s", f, files[0][f], files[1][f])
		}
	}
}

func TestTrainRefusesLockedRegistry(t *testing.T) {
	hist := history(t)
	reg := filepath.Join(t.TempDir(), "registry")
	holder := registry.Open(reg)
	lock, err := holder.Lock(context.Background(), "other run", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	start := time.Now()
	code, log := runTrain(t, fastConfig(hist, reg))
	if code != exitcode.Locked {
		t.Fatalf("exit %d, want %d\n%s", code, exitcode.Locked, log)
	}
	if !strings.Contains(log, fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(log, "started at") {
		t.Fatalf("message does not name the holder:\n%s", log)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("a locked run should exit at once")
	}
	if _, err := os.Stat(filepath.Join(reg, registry.VersionsDir)); !os.IsNotExist(err) {
		t.Fatal("a locked run wrote into the registry")
	}
}

func TestTrainRecoversStaleLock(t *testing.T) {
	hist := history(t)
	reg := filepath.Join(t.TempDir(), "registry")
	os.MkdirAll(reg, 0o755)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf(`{"pid":%d,"started_at":"2026-10-31T02:00:00Z","owner":"failcast train"}`, cmd.Process.Pid)
	os.WriteFile(filepath.Join(reg, registry.LockFile), []byte(stale), 0o644)
	// A staging directory left by the dead run.
	leftover := filepath.Join(reg, registry.VersionsDir, ".tmp-20261031T020000Z-123")
	os.MkdirAll(leftover, 0o755)

	code, log := runTrain(t, noBaselines(hist, reg))
	if code != exitcode.OK {
		t.Fatalf("exit %d\n%s", code, log)
	}
	if !strings.Contains(log, "stale lock") || !strings.Contains(log, "leftover") {
		t.Fatalf("log does not report the recovery:\n%s", log)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Fatal("leftover staging directory not removed")
	}
	if _, err := os.Stat(filepath.Join(reg, registry.LockFile)); !os.IsNotExist(err) {
		t.Fatal("lock not released")
	}
}

func TestTrainInterruptedBeforePromotion(t *testing.T) {
	hist := history(t)
	reg := filepath.Join(t.TempDir(), "registry")
	if code, log := runTrain(t, noBaselines(hist, reg)); code != exitcode.OK {
		t.Fatalf("exit %d\n%s", code, log)
	}
	champion := current(t, reg)
	time.Sleep(1100 * time.Millisecond)

	cfg := noBaselines(hist, reg)
	cfg.Force = true // same data: a tie keeps the champion unless forced
	cfg.beforePromote = func() error { return errors.New("simulated crash") }
	res, err := Run(context.Background(), cfg)
	if err == nil || exitcode.Of(err) != exitcode.Internal || res != nil {
		t.Fatalf("crashed run: res %v err %v", res, err)
	}
	if got := current(t, reg); got != champion {
		t.Fatalf("champion changed to %s by a run that died before promoting", got)
	}
	if _, err := bundle.Load(filepath.Join(reg, registry.CurrentLink), features.SchemaHash()); err != nil {
		t.Fatalf("champion no longer loads: %v", err)
	}
	if _, err := os.Stat(filepath.Join(reg, registry.LockFile)); !os.IsNotExist(err) {
		t.Fatal("lock left behind by a run that returned an error")
	}
}

// TestTrainUnusableChampionIsReplaced: a champion the scorer would refuse
// (other feature schema, other feature names, no thresholds) cannot be
// compared and is replaced even by a weak challenger.
func TestTrainUnusableChampionIsReplaced(t *testing.T) {
	hist := history(t)
	tests := []struct {
		name    string
		edit    func(m map[string]any)
		wantLog string
	}{
		{"other feature schema", func(m map[string]any) { m["feature_schema_hash"] = "0000" }, "feature schema differs"},
		{"other feature names", func(m map[string]any) {
			names := m["feature_names"].([]any)
			names[0], names[1] = names[1], names[0]
		}, "feature names differ"},
		{"no thresholds", func(m map[string]any) { delete(m, "thresholds") }, "thresholds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := filepath.Join(t.TempDir(), "registry")
			if code, log := runTrain(t, noBaselines(hist, reg)); code != exitcode.OK {
				t.Fatalf("exit %d\n%s", code, log)
			}
			champion := current(t, reg)
			// Pretend the champion was written by another build.
			mdPath := filepath.Join(reg, registry.VersionsDir, champion, artifact.MetadataFile)
			raw, _ := os.ReadFile(mdPath)
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			tc.edit(m)
			raw, _ = json.Marshal(m)
			os.WriteFile(mdPath, raw, 0o644)
			time.Sleep(1100 * time.Millisecond)

			weak := noBaselines(hist, reg)
			weak.Rounds, weak.Depth, weak.Tolerance = 1, 1, 0
			code, log := runTrain(t, weak)
			if code != exitcode.OK {
				t.Fatalf("exit %d\n%s", code, log)
			}
			if current(t, reg) == champion || !strings.Contains(log, tc.wantLog) || strings.Contains(log, "champion evaluated") {
				t.Fatalf("a champion that cannot be evaluated should be replaced:\n%s", log)
			}
		})
	}
}

func TestTrainBadInput(t *testing.T) {
	hist := history(t)
	noFail := synthOptions{days: 10, sendsPerHr: 4, recipients: 100, noFailures: true, seed: 3}
	noFailHist := writeSynthHistory(t, t.TempDir(), noFail)
	badSchema := filepath.Join(t.TempDir(), "bad.parquet")
	if err := writeWrongSchema(badSchema); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		edit     func(*Config)
		wantCode int
		wantLog  string
	}{
		{"missing history", func(c *Config) { c.History = filepath.Join(t.TempDir(), "nope") }, exitcode.Input, "no such file"},
		{"no failures", func(c *Config) { c.History = noFailHist }, exitcode.Input, "no failed sends"},
		{"as-of before the data", func(c *Config) { c.AsOf = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) }, exitcode.Input, "training window is empty"},
		{"as-of long after the data", func(c *Config) { c.AsOf = time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC) }, exitcode.Input, "before the validation window"},
		{"too few rows", func(c *Config) { c.MinRows = 10000000 }, exitcode.Input, "--min-rows"},
		{"warm-up longer than the history", func(c *Config) { c.Warmup = 2000 * time.Hour }, exitcode.Input, "no training window is left"},
		{"schema mismatch", func(c *Config) { c.History = badSchema }, exitcode.Input, "timestamp"},
		{"negative warm-up", func(c *Config) { c.Warmup = -time.Hour }, exitcode.Usage, "--warmup"},
		{"no registry", func(c *Config) { c.Registry = "" }, exitcode.Usage, "--registry is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := filepath.Join(t.TempDir(), "registry")
			metricsFile := filepath.Join(t.TempDir(), "m.prom")
			// A previous success whose time must survive the failure.
			os.WriteFile(metricsFile, []byte("failcast_train_last_success_timestamp_seconds 1.7e+09\n"), 0o644)
			cfg := fastConfig(hist, reg)
			cfg.MetricsFile = metricsFile
			tc.edit(&cfg)
			code, log := runTrain(t, cfg)
			if code != tc.wantCode || !strings.Contains(log, tc.wantLog) {
				t.Fatalf("exit %d (want %d), log lacks %q:\n%s", code, tc.wantCode, tc.wantLog, log)
			}
			if cfg.Registry == "" {
				return
			}
			if _, _, err := registry.Open(reg).Current(); !errors.Is(err, registry.ErrNoChampion) {
				t.Fatalf("a failed run published something: %v", err)
			}
			prom, _ := os.ReadFile(metricsFile)
			if !strings.Contains(string(prom), fmt.Sprintf("failcast_train_exit_code %d", tc.wantCode)) ||
				!strings.Contains(string(prom), "failcast_train_last_success_timestamp_seconds 1.7e+09") {
				t.Fatalf("metrics file after failure:\n%s", prom)
			}
		})
	}
}

func TestInterruptedByContext(t *testing.T) {
	hist := history(t)
	reg := filepath.Join(t.TempDir(), "registry")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var log bytes.Buffer
	cfg := fastConfig(hist, reg)
	cfg.Log = slog.New(slog.NewTextHandler(&log, nil))
	_, err := Run(ctx, cfg)
	if code := exitcode.Of(err); code != exitcode.Internal || !errors.Is(err, context.Canceled) || !strings.Contains(log.String(), "interrupted") {
		t.Fatalf("exit %d, err %v\n%s", code, err, log.String())
	}
	if _, err := os.Stat(filepath.Join(reg, registry.LockFile)); !os.IsNotExist(err) {
		t.Fatal("an interrupted run left its lock")
	}
}

func TestMemoryLimit(t *testing.T) {
	if got := MemoryLimit(1 << 30); got != 1<<30 {
		t.Errorf("MemoryLimit(1GiB) = %d, want the given limit", got)
	}
	restore := memlimit.Set(2 << 30)
	if got := MemoryLimit(0); got != 2<<30 {
		t.Errorf("MemoryLimit(0) under GOMEMLIMIT 2GiB = %d, want 2GiB", got)
	}
	restore()
	if memlimit.Soft() != 0 {
		t.Skip("the test process runs under GOMEMLIMIT")
	}
	want := DefaultMemoryLimit
	if phys := memlimit.Physical() / 4 * 3; phys > 0 {
		want = min(want, phys)
	}
	if cg := memlimit.Cgroup(); cg > 0 {
		want = cg / 4 * 3
	}
	if got := MemoryLimit(0); got != want || got <= 0 {
		t.Errorf("MemoryLimit(0) = %d, want %d (a default, never none)", got, want)
	}
}
