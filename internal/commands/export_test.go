package commands

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/simulate"
)

const (
	refSendLog  = "../../pipeline/ingest/testdata/send-log.ndjson"
	refSendCSV  = "../../pipeline/ingest/testdata/send-log.csv"
	refWebhooks = "../../pipeline/ingest/testdata/webhook-statuses.ndjson"
	csvMapping  = "request_id=id,sent_at=created,phone_number_id=sender,recipient=to_number,campaign=campaign," +
		"template=tpl,language=lang,category=kind,message_type=msg_type,media_bytes=media,message_id=wamid," +
		"error_code=err_code,error_message=err_message,error_details=err_details,exploration=explore"
)

// runExport runs `export` with args and the hashing key's variable set as
// vars says (unset when absent), and returns its exit code and output.
func runExport(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv(cli.HashKeyEnv, vars[cli.HashKeyEnv])
	var stdout, stderr bytes.Buffer
	code := cli.Execute(context.Background(), NewExport(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func readHistory(t *testing.T, spec string) []pipeline.Event {
	t.Helper()
	d, err := pipeline.OpenDataset(spec)
	if err != nil {
		t.Fatal(err)
	}
	var events []pipeline.Event
	if err := d.Scan(context.Background(), pipeline.ScanOptions{}, func(b []pipeline.Event) error {
		events = append(events, b...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return events
}

func TestExportUsageErrors(t *testing.T) {
	key := map[string]string{"FAILCAST_HASH_KEY": "k"}
	tests := []struct {
		name   string
		getenv map[string]string
		args   []string
		want   string
	}{
		{"no input", key, []string{"--out", "x"}, "no input"},
		{"no output", key, []string{"--webhooks", refWebhooks}, `required flag(s) "out" not set`},
		{"no hash key", map[string]string(nil), []string{"--webhooks", refWebhooks, "--out", "x"}, "--hash-key"},
		{"key and no-hash", key, []string{"--webhooks", refWebhooks, "--out", "x", "--no-hash"}, "exclude each other"},
		{"partitioned single file", key, []string{"--webhooks", refWebhooks, "--out", "x.parquet", "--partitioned"}, "--partitioned"},
		{"bad format", key, []string{"--send-log", refSendLog, "--send-log-format", "xml", "--out", "x"}, "--send-log-format"},
		{"bad mapping", key, []string{"--send-log", refSendLog, "--map", "colour=x", "--out", "x"}, `unknown field "colour"`},
		{"bad reject rate", key, []string{"--webhooks", refWebhooks, "--max-reject-rate", "2", "--out", "x"}, "--max-reject-rate"},
		{"unknown flag", key, []string{"--webhook", refWebhooks, "--out", "x"}, "unknown flag"},
		{"stray argument", key, []string{"--webhooks", refWebhooks, "--out", "x", "extra"}, "extra"},
		{"key given as a flag value", key, []string{"--webhooks", refWebhooks, "--out", "x", "--hash-key-env", "s3cr3t-key!"}, "not its value"},
		{"bad log format", key, []string{"--webhooks", refWebhooks, "--out", "x", "--log-format", "xml"}, "--log-format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runExport(t, tt.getenv, tt.args...)
			if code != exitcode.Usage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, exitcode.Usage, tt.want)
			}
		})
	}
	dir := t.TempDir()
	unknownExt := filepath.Join(dir, "log.txt")
	os.WriteFile(unknownExt, []byte("{}\n"), 0o644)
	if code, _, stderr := runExport(t, key, "--send-log", unknownExt, "--out", filepath.Join(dir, "out")); code != exitcode.Usage || !strings.Contains(stderr, "--send-log-format") {
		t.Errorf("send log of unknown extension: exit %d, %q", code, stderr)
	}
	if code, _, _ := runExport(t, key, "--help"); code != exitcode.OK {
		t.Errorf("-help: exit %d", code)
	}
}

func TestExportOutputs(t *testing.T) {
	key := map[string]string{"FAILCAST_HASH_KEY": "k"}
	tests := []struct {
		name    string
		out     string // relative to a temp dir
		args    []string
		history string // dataset spec relative to the temp dir
		rejects string
	}{
		{"single file", "h.parquet", nil, "h.parquet", "h.rejects.ndjson"},
		{"directory", "out", nil, "out/history.parquet", "out/rejects.ndjson"},
		{"partitioned", "hist", []string{"--partitioned"}, "hist/dt=2026-09-21/part-0.parquet", "hist/rejects.ndjson"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"--send-log", refSendLog, "--webhooks", refWebhooks, "--out", filepath.Join(dir, tt.out)}, tt.args...)
			code, stdout, stderr := runExport(t, key, args...)
			if code != exitcode.OK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			events := readHistory(t, filepath.Join(dir, tt.history))
			if len(events) != 9 {
				t.Errorf("%d events in the history, want 9", len(events))
			}
			if rej, err := os.ReadFile(filepath.Join(dir, tt.rejects)); err != nil || len(rej) != 0 {
				t.Errorf("reject file: %q, %v; want an empty file", rej, err)
			}
			for _, want := range []string{"events       9 written", "orphans      4", "1 accepted, 2 refused"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("summary lacks %q:\n%s", want, stdout)
				}
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, "*", ".*tmp*"))
			top, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
			if len(leftovers)+len(top) > 0 {
				t.Errorf("temporary files left: %v %v", leftovers, top)
			}
		})
	}
}

// CSV (by flag), gzip-compressed inputs and the NDJSON reference all give
// the same history.
func TestExportFormats(t *testing.T) {
	dir := t.TempDir()
	key := map[string]string{"FAILCAST_HASH_KEY": "k"}
	gz := filepath.Join(dir, "webhooks.ndjson.gz")
	raw, err := os.ReadFile(refWebhooks)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	csvCopy := filepath.Join(dir, "send-log.export") // no telling extension
	csvData, _ := os.ReadFile(refSendCSV)
	os.WriteFile(csvCopy, csvData, 0o644)

	ref := filepath.Join(dir, "ref.parquet")
	if code, _, stderr := runExport(t, key, "--send-log", refSendLog, "--webhooks", refWebhooks, "--out", ref); code != exitcode.OK {
		t.Fatalf("reference export: exit %d: %s", code, stderr)
	}
	alt := filepath.Join(dir, "alt.parquet")
	if code, _, stderr := runExport(t, key, "--send-log", csvCopy, "--send-log-format", "csv", "--map", csvMapping, "--webhooks", gz, "--out", alt); code != exitcode.OK {
		t.Fatalf("csv + gzip export: exit %d: %s", code, stderr)
	}
	if a, b := readHistory(t, ref), readHistory(t, alt); !slices.Equal(a, b) || len(a) != 9 {
		t.Errorf("csv + gzip history differs from the reference (%d vs %d events)", len(b), len(a))
	}
}

func TestExportRejectsAndRate(t *testing.T) {
	dir := t.TempDir()
	key := map[string]string{"FAILCAST_HASH_KEY": "k"}
	raw, _ := os.ReadFile(refWebhooks)
	bad := filepath.Join(dir, "hooks.ndjson")
	// 4 good lines and 2 bad ones: a third of the lines is rejected.
	os.WriteFile(bad, append(append([]byte(nil), raw...), "null\n{\"entry\":[{\"changes\":[{\"value\":{\"statuses\":[{\"status\":\"sent\"}]}}]}]}\n"...), 0o644)
	out := filepath.Join(dir, "h.parquet")
	rejects := filepath.Join(dir, "rejects.ndjson")

	code, stdout, stderr := runExport(t, key, "--webhooks", bad, "--out", out, "--rejects", rejects, "--max-reject-rate", "0.5")
	if code != exitcode.OK {
		t.Fatalf("exit %d with rejects under the limit: %s", code, stderr)
	}
	rej, _ := os.ReadFile(rejects)
	lines := strings.Split(strings.TrimSpace(string(rej)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"line":5,"kind":"null line"`) || !strings.Contains(lines[1], `"line":6,"kind":"missing field"`) {
		t.Errorf("reject file:\n%s", rej)
	}
	if !strings.Contains(stdout, "rejects      2 (2 lines, 33.333% of lines)") || !strings.Contains(stdout, "null line") {
		t.Errorf("summary:\n%s", stdout)
	}
	before, _ := os.ReadFile(out)

	// Above --max-reject-rate: exit 1, the history stays as it was, the
	// reject file says why.
	os.Remove(rejects)
	code, stdout, _ = runExport(t, key, "--webhooks", bad, "--out", out, "--rejects", rejects, "--max-reject-rate", "0.25")
	if code != exitcode.Input {
		t.Errorf("exit %d above --max-reject-rate, want %d", code, exitcode.Input)
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
		t.Error("history rewritten although the reject rate was exceeded")
	}
	if _, err := os.Stat(rejects); err != nil || !strings.Contains(stdout, "not written") {
		t.Errorf("reject file %v; summary:\n%s", err, stdout)
	}
}

// A failed run (here: a missing input) leaves earlier outputs untouched.
func TestFailedRunLeavesOutputs(t *testing.T) {
	dir := t.TempDir()
	key := map[string]string{"FAILCAST_HASH_KEY": "k"}
	out := filepath.Join(dir, "h.parquet")
	if code, _, stderr := runExport(t, key, "--send-log", refSendLog, "--webhooks", refWebhooks, "--out", out); code != exitcode.OK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	hist, _ := os.ReadFile(out)
	rej, _ := os.ReadFile(filepath.Join(dir, "h.rejects.ndjson"))
	code, _, stderr := runExport(t, key, "--send-log", refSendLog, "--webhooks", filepath.Join(dir, "missing.ndjson"), "--out", out)
	if code != exitcode.Input || !strings.Contains(stderr, "missing.ndjson") {
		t.Errorf("exit %d, stderr %q; want %d naming the missing file", code, stderr, exitcode.Input)
	}
	if h, _ := os.ReadFile(out); !bytes.Equal(h, hist) {
		t.Error("history changed by a failed run")
	}
	if r, err := os.ReadFile(filepath.Join(dir, "h.rejects.ndjson")); err != nil || !bytes.Equal(r, rej) {
		t.Error("reject file changed by a failed run")
	}
	entries, _ := os.ReadDir(dir)
	entries = slices.DeleteFunc(entries, func(e os.DirEntry) bool { return e.Name() == ".h.parquet.lock" }) // the export's OS lock, kept
	if len(entries) != 2 {
		t.Errorf("files left after a failed run: %v", entries)
	}
}

func TestNoHashKeepsNumbers(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "h.parquet")
	if code, _, stderr := runExport(t, map[string]string(nil), "--webhooks", refWebhooks, "--out", out, "--no-hash"); code != exitcode.OK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	events := readHistory(t, out)
	if len(events) != 6 || !slices.ContainsFunc(events, func(e pipeline.Event) bool { return e.Recipient == "5511987654321" }) {
		t.Errorf("events %+v", events)
	}
	// The key may come from another variable named by --hash-key-env.
	out2 := filepath.Join(dir, "h2.parquet")
	t.Setenv("OTHER_KEY", "k")
	if code, _, stderr := runExport(t, map[string]string(nil), "--webhooks", refWebhooks, "--out", out2, "--hash-key-env", "OTHER_KEY"); code != exitcode.OK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if e := readHistory(t, out2); e[0].Recipient != pipeline.NewRecipientHasher([]byte("k")).Hash("5511987654321") {
		t.Errorf("first event %+v", e[0])
	}
}

// The simulator's raw forms, exported by the command, give a history
// dataset equal to the simulator's own, row for row and field for field.
func TestRoundTripSimulatorParquet(t *testing.T) {
	dir := t.TempDir()
	cfg := simulate.DefaultConfig()
	cfg.Days, cfg.Recipients, cfg.CampaignsPerDay = 2, 3000, 6
	if testing.Short() {
		cfg.Days = 1
	}
	simDir := filepath.Join(dir, "sim")
	hw, err := pipeline.NewPartitionedHistoryWriter(simDir, pipeline.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var sendLog, webhooks bytes.Buffer
	raw, err := simulate.NewRawWriter(cfg, &sendLog, &webhooks)
	if err != nil {
		t.Fatal(err)
	}
	_, err = simulate.Run(context.Background(), cfg, simulate.SinkFunc(func(b []pipeline.Event) error {
		if err := hw.Write(b); err != nil {
			return err
		}
		return raw.History(b)
	}))
	if err == nil {
		err = errors.Join(raw.Close(), hw.Close())
	}
	if err != nil {
		t.Fatal(err)
	}
	sl, wh := filepath.Join(dir, "send-log.ndjson"), filepath.Join(dir, "webhooks.ndjson")
	os.WriteFile(sl, sendLog.Bytes(), 0o644)
	os.WriteFile(wh, webhooks.Bytes(), 0o644)

	out := filepath.Join(dir, "export")
	code, stdout, stderr := runExport(t, map[string]string{cli.HashKeyEnv: cfg.HashKey},
		"--send-log", sl, "--webhooks", wh, "--out", out, "--partitioned")
	if code != exitcode.OK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "rejects      0 ") || !strings.Contains(stdout, "orphans      0 ") {
		t.Errorf("summary:\n%s", stdout)
	}
	want, got := readHistory(t, simDir), readHistory(t, out)
	if len(want) < 1000 || len(got) != len(want) {
		t.Fatalf("exported %d events, the simulator wrote %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d differs:\nexport    %+v\nsimulator %+v", i, got[i], want[i])
		}
	}
	simFiles, _ := filepath.Glob(filepath.Join(simDir, "dt=*", "*.parquet"))
	outFiles, _ := filepath.Glob(filepath.Join(out, "dt=*", "*.parquet"))
	if len(simFiles) != len(outFiles) {
		t.Errorf("partitions: simulator %d, export %d", len(simFiles), len(outFiles))
	}
}
