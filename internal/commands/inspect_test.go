package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/inspect"
	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/pipeline"
)

// execute runs a freshly built command with args.
func execute(t *testing.T, ctx context.Context, cmd *cobra.Command, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Execute(ctx, cmd, args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeHistory(t *testing.T, dir string, events []pipeline.Event) string {
	t.Helper()
	path := filepath.Join(dir, "history.parquet")
	w, err := pipeline.NewHistoryWriter(path, pipeline.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(events); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestInspectCommand(t *testing.T) {
	const sec = int64(1e6)
	t0 := int64(1790000000) * sec // 2026-09-21T14:13:20Z
	ev := func(id, msg string, ts int64, st pipeline.Status, code int32) pipeline.Event {
		return pipeline.Event{EventID: id, MessageID: msg, Timestamp: ts, Status: st, ErrorCode: code,
			MediaBytes: pipeline.NoMediaBytes, Category: pipeline.CategoryMarketing, MessageType: "template", Recipient: "h:0000000000000001"}
	}
	path := writeHistory(t, t.TempDir(), []pipeline.Event{
		ev("1", "wamid.A", t0, pipeline.StatusAccepted, pipeline.NoErrorCode),
		ev("2", "wamid.A", t0+sec, pipeline.StatusFailed, 131049),
		ev("3", "wamid.B", t0+5*sec, pipeline.StatusAccepted, pipeline.NoErrorCode),
		ev("4", "wamid.B", t0+6*sec, pipeline.StatusDelivered, pipeline.NoErrorCode),
	})
	corrupt := filepath.Join(t.TempDir(), "corrupt.parquet")
	if err := os.WriteFile(corrupt, []byte("PAR1 this is not parquet PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		rows int64  // with exit 0
		msg  string // in stderr otherwise
	}{
		{"all", []string{"--history", path, "--json"}, 0, 4, ""},
		{"from, UTC without zone", []string{"--history", path, "--json", "--from", "2026-09-21 14:13:24"}, 0, 2, ""},
		{"to, a date", []string{"--history", path, "--json", "--to", "2026-09-21"}, 0, 0, ""},
		{"columns", []string{"--history", path, "--json", "--columns", "recipient,category"}, 0, 4, ""},
		{"missing dataset", []string{"--history", filepath.Join(t.TempDir(), "nope")}, exitcode.Input, 0, "nope"},
		{"corrupt file", []string{"--history", corrupt}, exitcode.Input, 0, "corrupt.parquet"},
		{"unknown column", []string{"--history", corrupt, "--columns", "colour"}, exitcode.Usage, 0, `"colour" is not a history column`},
		{"bad time", []string{"--history", corrupt, "--from", "yesterday"}, exitcode.Usage, 0, "--from"},
		{"stray argument", []string{"extra"}, exitcode.Usage, 0, `unexpected argument "extra"`},
		{"Go-style single dash", []string{"-history", path}, exitcode.Usage, 0, "unknown shorthand flag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := execute(t, context.Background(), NewInspect(), tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			if code != 0 {
				if !strings.Contains(stderr, tc.msg) {
					t.Errorf("stderr %q does not mention %q", stderr, tc.msg)
				}
				return
			}
			var s inspect.Summary
			if err := json.Unmarshal([]byte(stdout), &s); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			if s.Rows != tc.rows {
				t.Errorf("rows = %d, want %d", s.Rows, tc.rows)
			}
		})
	}
	code, stdout, stderr := execute(t, context.Background(), NewInspect(), "--history", path)
	if code != 0 || !strings.Contains(stdout, "sends               2, 1 failed (50.00%)") {
		t.Errorf("text output: exit %d\n%s%s", code, stdout, stderr)
	}
}
