package commands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/failcast/failcast/exitcode"
)

// Issue 12 item 5: `--send-log a --send-log b` used to read only b. Every
// occurrence of a repeated input flag is read (commas still work too).
func TestFaultRepeatedSendLogFlag(t *testing.T) {
	dir := t.TempDir()
	key := map[string]string{"FAILCAST_HASH_KEY": "k"}
	raw, _ := os.ReadFile(refSendLog)
	lines := strings.SplitAfter(strings.TrimSpace(string(raw)), "\n")
	a, b := filepath.Join(dir, "a.ndjson"), filepath.Join(dir, "b.ndjson")
	os.WriteFile(a, []byte(lines[0]), 0o644)
	os.WriteFile(b, []byte(strings.Join(lines[1:], "")), 0o644)
	for _, args := range [][]string{
		{"--send-log", a, "--send-log", b},
		{"--send-log", a + "," + b},
	} {
		out := filepath.Join(dir, "h.parquet")
		os.Remove(out)
		code, stdout, stderr := runExport(t, key, append(args, "--webhooks", refWebhooks, "--out", out)...)
		if code != exitcode.OK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		if !strings.Contains(stdout, "1 accepted, 2 refused") || len(readHistory(t, out)) != 9 {
			t.Errorf("%v: summary\n%s", args, stdout)
		}
	}
}

// Issue 12 item 5: an unused CSV column is named in a warning with the
// closest field, on stderr and in the summary.
func TestFaultUnusedColumnWarning(t *testing.T) {
	dir := t.TempDir()
	key := map[string]string{"FAILCAST_HASH_KEY": "k"}
	csv := filepath.Join(dir, "log.csv")
	os.WriteFile(csv, []byte("request_id,sent_at,recipient,message_id,tpl\nr1,2026-09-21T10:00:00Z,5511987654321,wamid.1,promo\n"), 0o644)
	code, stdout, stderr := runExport(t, key, "--send-log", csv, "--out", filepath.Join(dir, "h.parquet"))
	want := "column `tpl` is not used; did you mean --map template=tpl?"
	if code != exitcode.OK || !strings.Contains(stdout, want) || !strings.Contains(stderr, "did you mean --map template=tpl") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}
