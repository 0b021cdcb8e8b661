package commands

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/failcast/failcast/exitcode"
)

// A directory of the receiver's files (closed ones gzipped, one plain file
// still being written, a plain copy beside its finished gzip) exports like
// the same bodies in one plain file.
func TestExportCollectedDirectory(t *testing.T) {
	key := map[string]string{"FAILCAST_HASH_KEY": "k"}
	raw, err := os.ReadFile(refWebhooks)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("reference has %d lines, want at least 3", len(lines))
	}
	gz := func(s string) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(s))
		zw.Close()
		return buf.Bytes()
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "webhooks")
	os.Mkdir(in, 0o755)
	files := map[string][]byte{
		"webhooks-20260921T13-000001.ndjson.gz": gz(lines[0]),
		"webhooks-20260921T13-000002.ndjson.gz": gz(lines[1]),
		"webhooks-20260921T13-000002.ndjson":    []byte(lines[1]), // must not be read twice
		"webhooks-20260921T14-000003.ndjson":    []byte(strings.Join(lines[2:], "")),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(in, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ref := filepath.Join(dir, "ref.parquet")
	if code, _, stderr := runExport(t, key, "--send-log", refSendLog, "--webhooks", refWebhooks, "--out", ref); code != exitcode.OK {
		t.Fatalf("reference export: exit %d: %s", code, stderr)
	}
	got := filepath.Join(dir, "dir.parquet")
	code, stdout, stderr := runExport(t, key, "--send-log", refSendLog, "--webhooks", in, "--out", got)
	if code != exitcode.OK {
		t.Fatalf("directory export: exit %d: %s", code, stderr)
	}
	if want := "lines        3 send log, " + strconv.Itoa(len(lines)) + " webhook"; !strings.Contains(stdout, want) {
		t.Errorf("summary lacks %q:\n%s", want, stdout)
	}
	a, b := readHistory(t, ref), readHistory(t, got)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("directory export has %d events, reference %d", len(b), len(a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("event %d differs:\n%+v\n%+v", i, b[i], a[i])
		}
	}

	// gzip is told by content: a gzip file without .gz in its name.
	disguised := filepath.Join(dir, "webhooks.ndjson")
	os.WriteFile(disguised, gz(string(raw)), 0o644)
	if code, _, stderr := runExport(t, key, "--send-log", refSendLog, "--webhooks", disguised, "--out", filepath.Join(dir, "d.parquet")); code != exitcode.OK {
		t.Fatalf("gzip without .gz: exit %d: %s", code, stderr)
	}
	if c := readHistory(t, filepath.Join(dir, "d.parquet")); len(c) != len(a) {
		t.Errorf("gzip without .gz: %d events, want %d", len(c), len(a))
	}

	// An empty directory is named.
	empty := t.TempDir()
	if code, _, stderr := runExport(t, key, "--webhooks", empty, "--out", filepath.Join(dir, "e.parquet")); code != exitcode.Input || !strings.Contains(stderr, empty) {
		t.Errorf("empty directory: exit %d, stderr %s", code, stderr)
	}
}
