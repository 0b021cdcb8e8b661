package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failcast/failcast/features"
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

// fastArgs are the flags of a quick training run on the synthetic data.
func fastArgs(hist, reg string, extra ...string) []string {
	return append([]string{
		"--history", hist, "--registry", reg, "--as-of", testAsOf.Format(time.RFC3339),
		"--train-days", "6", "--valid-days", "2", "--rounds", "40", "--depth", "4", "--early-stop", "10",
		"--min-rows", "200", "--min-failures", "10", "--baseline-rows", "3000", "--progress", "never",
	}, extra...)
}

// runTrain runs the command in-process and returns its exit code and log.
func runTrain(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	code := run(context.Background(), args, &stderr)
	return code, stderr.String()
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
	code, log := runTrain(t, fastArgs(hist, reg, "--metrics-file", metricsFile, "--features-out", featuresOut)...)
	if code != exitOK {
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
	// validation window, ties, and the challenger is promoted.
	time.Sleep(1100 * time.Millisecond) // version names have one-second resolution
	code, log = runTrain(t, fastArgs(hist, reg, "--metrics-file", metricsFile, "--baselines=false")...)
	if code != exitOK {
		t.Fatalf("second run exit %d\n%s", code, log)
	}
	second := current(t, reg)
	if second == first {
		t.Fatal("second run did not publish a new version")
	}
	md2 := readMetadata(t, filepath.Join(reg, registry.VersionsDir, second))
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
	weak := fastArgs(hist, reg, "--rounds", "1", "--depth", "1", "--early-stop", "0", "--tolerance", "0", "--metrics-file", metricsFile, "--baselines=false")
	code, log = runTrain(t, weak...)
	if code != exitOK || !strings.Contains(log, "kept out") {
		t.Fatalf("weak challenger: exit %d\n%s", code, log)
	}
	if current(t, reg) != second {
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
	code, log = runTrain(t, append(weak, "--force", "--keep", "2")...)
	if code != exitOK || !strings.Contains(log, "--force") {
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
		if code, log := runTrain(t, fastArgs(hist, reg, "--baselines=false")...); code != exitOK {
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
	code, log := runTrain(t, fastArgs(hist, reg)...)
	if code != exitLocked {
		t.Fatalf("exit %d, want %d\n%s", code, exitLocked, log)
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

	code, log := runTrain(t, fastArgs(hist, reg, "--baselines=false")...)
	if code != exitOK {
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
	if code, log := runTrain(t, fastArgs(hist, reg, "--baselines=false")...); code != exitOK {
		t.Fatalf("exit %d\n%s", code, log)
	}
	champion := current(t, reg)
	time.Sleep(1100 * time.Millisecond)

	cfg, err := parseConfig(fastArgs(hist, reg, "--baselines=false"), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	tr := &trainer{cfg: cfg, log: newLogger("text", &logBuf), console: &console{w: &logBuf}, now: time.Now,
		beforePromote: func() error { return errors.New("simulated crash") }}
	res, err := tr.run(context.Background())
	if err == nil || exitCode(err) != exitInternal || res != nil {
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

func TestTrainChampionWithOtherSchemaIsReplaced(t *testing.T) {
	hist := history(t)
	reg := filepath.Join(t.TempDir(), "registry")
	if code, log := runTrain(t, fastArgs(hist, reg, "--baselines=false")...); code != exitOK {
		t.Fatalf("exit %d\n%s", code, log)
	}
	champion := current(t, reg)
	// Pretend the champion was trained by a build with other features.
	mdPath := filepath.Join(reg, registry.VersionsDir, champion, artifact.MetadataFile)
	raw, _ := os.ReadFile(mdPath)
	var m map[string]any
	json.Unmarshal(raw, &m)
	m["feature_schema_hash"] = "0000"
	raw, _ = json.Marshal(m)
	os.WriteFile(mdPath, raw, 0o644)
	time.Sleep(1100 * time.Millisecond)

	code, log := runTrain(t, fastArgs(hist, reg, "--baselines=false", "--rounds", "1", "--depth", "1")...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, log)
	}
	if current(t, reg) == champion || !strings.Contains(log, "feature schema differs") {
		t.Fatalf("a champion that cannot be evaluated should be replaced:\n%s", log)
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
		args     []string
		wantCode int
		wantLog  string
	}{
		{"missing history", []string{"--history", filepath.Join(t.TempDir(), "nope")}, exitData, "no such file"},
		{"no failures", []string{"--history", noFailHist}, exitData, "no failed sends"},
		{"as-of before the data", []string{"--as-of", "2020-01-01"}, exitData, "training window is empty"},
		{"as-of long after the data", []string{"--as-of", "2027-06-01"}, exitData, "before the validation window"},
		{"too few rows", []string{"--min-rows", "10000000"}, exitData, "--min-rows"},
		{"warm-up longer than the history", []string{"--warmup", "2000h"}, exitData, "no training window is left"},
		{"schema mismatch", []string{"--history", badSchema}, exitData, "timestamp"},
		{"unknown flag", []string{"--nope"}, exitUsage, "flag provided but not defined"},
		{"bad duration", []string{"--lead", "soon"}, exitUsage, "duration"},
		{"bad log format", []string{"--log-format", "xml"}, exitUsage, "--log-format"},
		{"negative warm-up", []string{"--warmup", "-1h"}, exitUsage, "--warmup"},
		{"positional argument", []string{"extra"}, exitUsage, "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := filepath.Join(t.TempDir(), "registry")
			metricsFile := filepath.Join(t.TempDir(), "m.prom")
			// A previous success whose time must survive the failure.
			os.WriteFile(metricsFile, []byte("failcast_train_last_success_timestamp_seconds 1.7e+09\n"), 0o644)
			args := append(fastArgs(hist, reg, "--metrics-file", metricsFile), tc.args...)
			code, log := runTrain(t, args...)
			if code != tc.wantCode || !strings.Contains(log, tc.wantLog) {
				t.Fatalf("exit %d (want %d), log lacks %q:\n%s", code, tc.wantCode, tc.wantLog, log)
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

func TestHelp(t *testing.T) {
	code, out := runTrain(t, "--help")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var names []string
	c := defaultConfig()
	var ignored string
	flagSet(&c, &ignored).VisitAll(func(f *flagT) { names = append(names, f.Name) })
	for _, n := range names {
		if !strings.Contains(out, "--"+n+" ") && !strings.Contains(out, "--"+n+"\n") {
			t.Errorf("--help does not document --%s", n)
		}
	}
	for _, want := range []string{"Exit codes:", "4  the registry is locked", "(out/registry)", "(4h0m0s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

type flagT = flag.Flag

func TestJSONLogs(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry")
	code, out := runTrain(t, "--log-format", "json", "--history", filepath.Join(t.TempDir(), "none"), "--registry", reg)
	if code != exitData {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["msg"] == nil {
			t.Fatalf("not a JSON log line: %q", l)
		}
	}
	if !strings.Contains(lines[len(lines)-1], `"exit_code":3`) {
		t.Fatalf("last line %s", lines[len(lines)-1])
	}
}

func TestInterruptedByContext(t *testing.T) {
	hist := history(t)
	reg := filepath.Join(t.TempDir(), "registry")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stderr bytes.Buffer
	code := run(ctx, fastArgs(hist, reg), &stderr)
	if code != exitInternal || !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(reg, registry.LockFile)); !os.IsNotExist(err) {
		t.Fatal("an interrupted run left its lock")
	}
}
