package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

// writeHistory writes events to dir/history.parquet and returns the path.
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

func event(id, msg string, ts int64, st pipeline.Status, code int32) pipeline.Event {
	return pipeline.Event{EventID: id, MessageID: msg, Timestamp: ts, Status: st, ErrorCode: code,
		MediaBytes: pipeline.NoMediaBytes, Category: pipeline.CategoryMarketing, MessageType: "template", Recipient: "h:0000000000000001"}
}

func TestSummary(t *testing.T) {
	const sec = int64(1e6)
	t0 := int64(1790000000) * sec
	events := []pipeline.Event{
		event("1", "wamid.A", t0, pipeline.StatusAccepted, pipeline.NoErrorCode),
		event("2", "wamid.A", t0+sec, pipeline.StatusSent, pipeline.NoErrorCode),
		event("3", "wamid.A", t0+2*sec, pipeline.StatusDelivered, pipeline.NoErrorCode),
		event("4", "wamid.B", t0+3*sec, pipeline.StatusAccepted, pipeline.NoErrorCode),
		event("5", "wamid.B", t0+4*sec, pipeline.StatusFailed, 131049),
		event("6", "req-7", t0+5*sec, pipeline.StatusFailed, 130429), // refused by the API
		event("7", "wamid.C", t0+6*sec, pipeline.StatusAccepted, pipeline.NoErrorCode),
		event("8", "wamid.C", t0+7*sec, pipeline.StatusFailed, 131049),
	}
	path := writeHistory(t, t.TempDir(), events)

	tests := []struct {
		name string
		args []string
		rows int64
	}{
		{"all columns", nil, 8},
		{"projection", []string{"--columns", "recipient"}, 8},
		{"time range", []string{"--from", "2026-09-21T14:13:23Z"}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"--history", path, "--json"}, tc.args...)
			if code := run(context.Background(), args, &out, &errOut); code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			var s summary
			if err := json.Unmarshal(out.Bytes(), &s); err != nil {
				t.Fatal(err)
			}
			if s.Rows != tc.rows {
				t.Fatalf("rows = %d, want %d", s.Rows, tc.rows)
			}
			if tc.rows == 8 {
				if s.Sends != 4 || s.Failures != 3 {
					t.Errorf("sends, failures = %d, %d; want 4, 3", s.Sends, s.Failures)
				}
				if s.ByFamily["recipient"] != 2 || s.ByFamily["throttle"] != 1 {
					t.Errorf("by family = %v", s.ByFamily)
				}
				if len(s.TopCodes) == 0 || s.TopCodes[0].Code != 131049 || s.TopCodes[0].Count != 2 {
					t.Errorf("top codes = %+v", s.TopCodes)
				}
			}
		})
	}

	var out bytes.Buffer
	if code := run(context.Background(), []string{"--history", path}, &out, &out); code != exitOK {
		t.Fatalf("text output: exit %d: %s", code, out.String())
	}
	for _, want := range []string{"sends               4, 3 failed (75.00%)", "131049", "per-user marketing limit"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.parquet")
	if err := os.WriteFile(corrupt, []byte("PAR1 this is not parquet PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"missing dataset", []string{"--history", filepath.Join(dir, "nope")}, exitInput, "nope"},
		{"corrupt file", []string{"--history", corrupt}, exitInput, "corrupt.parquet"},
		{"unknown column", []string{"--history", corrupt, "--columns", "colour"}, exitUsage, `"colour" is not a history column`},
		{"bad time", []string{"--history", corrupt, "--from", "yesterday"}, exitUsage, "--from"},
		{"stray argument", []string{"extra"}, exitUsage, "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), tc.args, &out, &errOut); code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tc.msg) {
				t.Errorf("error %q does not mention %q", errOut.String(), tc.msg)
			}
		})
	}
}
