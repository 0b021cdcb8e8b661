package inspect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/inspect"
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

// smallHistory is eight events: three messages (two failed with 131049)
// and a request the API refused (130429).
func smallHistory(t *testing.T) string {
	const sec = int64(1e6)
	t0 := int64(1790000000) * sec
	return writeHistory(t, t.TempDir(), []pipeline.Event{
		event("1", "wamid.A", t0, pipeline.StatusAccepted, pipeline.NoErrorCode),
		event("2", "wamid.A", t0+sec, pipeline.StatusSent, pipeline.NoErrorCode),
		event("3", "wamid.A", t0+2*sec, pipeline.StatusDelivered, pipeline.NoErrorCode),
		event("4", "wamid.B", t0+3*sec, pipeline.StatusAccepted, pipeline.NoErrorCode),
		event("5", "wamid.B", t0+4*sec, pipeline.StatusFailed, 131049),
		event("6", "req-7", t0+5*sec, pipeline.StatusFailed, 130429), // refused by the API
		event("7", "wamid.C", t0+6*sec, pipeline.StatusAccepted, pipeline.NoErrorCode),
		event("8", "wamid.C", t0+7*sec, pipeline.StatusFailed, 131049),
	})
}

func TestSummarize(t *testing.T) {
	path := smallHistory(t)
	tests := []struct {
		name string
		opts inspect.Options
		rows int64
		cols int
	}{
		{"all columns", inspect.Options{}, 8, len(pipeline.HistoryColumns)},
		{"projection", inspect.Options{Columns: []string{"recipient", "status"}}, 8, 5},
		{"time range", inspect.Options{From: time.Date(2026, 9, 21, 14, 13, 23, 0, time.UTC)}, 5, len(pipeline.HistoryColumns)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.History = path
			s, err := inspect.Summarize(context.Background(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if s.Rows != tc.rows || s.ColumnsScanned != tc.cols {
				t.Fatalf("rows, columns = %d, %d; want %d, %d", s.Rows, s.ColumnsScanned, tc.rows, tc.cols)
			}
			if tc.rows != 8 {
				return
			}
			if s.Sends != 4 || s.Failures != 3 {
				t.Errorf("sends, failures = %d, %d; want 4, 3", s.Sends, s.Failures)
			}
			if s.ByFamily["recipient"] != 2 || s.ByFamily["throttle"] != 1 {
				t.Errorf("by family = %v", s.ByFamily)
			}
			if len(s.TopCodes) == 0 || s.TopCodes[0].Code != 131049 || s.TopCodes[0].Count != 2 {
				t.Errorf("top codes = %+v", s.TopCodes)
			}
		})
	}
}

func TestSummaryOutputs(t *testing.T) {
	s, err := inspect.Summarize(context.Background(), inspect.Options{History: smallHistory(t)})
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sends               4, 3 failed (75.00%)", "131049", "per-user marketing limit"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, text.String())
		}
	}
	if err := s.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back inspect.Summary
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Rows != 8 || back.Failures != 3 {
		t.Errorf("JSON round trip: %+v, %v", back, err)
	}
}

func TestSummarizeErrors(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.parquet")
	if err := os.WriteFile(corrupt, []byte("PAR1 this is not parquet PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		opts inspect.Options
		code int
		msg  string
	}{
		{"missing dataset", context.Background(), inspect.Options{History: filepath.Join(dir, "nope")}, exitcode.Input, "nope"},
		{"corrupt file", context.Background(), inspect.Options{History: corrupt}, exitcode.Input, "corrupt.parquet"},
		{"unknown column", context.Background(), inspect.Options{History: corrupt, Columns: []string{"colour"}}, exitcode.Usage, `"colour" is not a history column`},
		{"interrupted", cancelled, inspect.Options{History: smallHistory(t)}, exitcode.Internal, "context canceled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := inspect.Summarize(tc.ctx, tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if got := exitcode.Of(err); got != tc.code {
				t.Errorf("exit class %d, want %d (%v)", got, tc.code, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
			if tc.code == exitcode.Internal && !errors.Is(err, context.Canceled) {
				t.Errorf("interrupted scan: %v is not context.Canceled", err)
			}
		})
	}
}

func ExampleSummarize() {
	s, err := inspect.Summarize(context.Background(), inspect.Options{History: "testdata/none"})
	fmt.Println(s == nil, exitcode.Name(exitcode.Of(err)))
	// Output: true input
}
