package ingest

import (
	"bytes"
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
)

// chunkedRun is what an export of the inputs gave with one chunk size.
type chunkedRun struct {
	events   any
	sum      Summary
	rejects  []Reject
	warnings []string
}

// The lines of an input are parsed in parallel chunks and committed in
// input order: however the input is cut, the events, rejects (their order
// too), counts and warnings are those of one line at a time.
func TestParallelChunksGiveTheSameExport(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	sendLog := read("send-log.ndjson") +
		"\n   \nnot json\nnull\n[1]\n" +
		`{"request_id":"r-9","sent_at":"2026-09-21T13:40:00Z","to":"5511900000001","extra_key":1,"message_id":"wamid.X1"}` + "\n" +
		`{"request_id":"r-10","sent_at":"2026-09-21T13:41:00Z","to":"5511900000002","message_id":"wamid.X1"}` + "\n" + // conflict
		`{"request_id":"r-11","sent_at":"2026-09-21T13:42:00Z","to":"5511900000003","error_code":131026,"error_message":"call 5511987654321"}` + "\n" +
		`{"request_id":"r-12","sent_at":"bad","to":"5511900000004","message_id":"wamid.X2"}` + "\n" +
		`{"request_id":"r-13","sent_at":"2026-09-21T13:43:00Z","to":"5511900000005","message_id":"` + strings.Repeat("w", 3000) + `"}` + "\n" // too long
	webhooks := read("webhook-statuses.ndjson") + "\n{}\n" + read("webhook-account-events.ndjson") + "{\"entry\":[]}\n\"str\"\n" + read("webhook-statuses.ndjson")

	run := func(lines, bytes int) chunkedRun {
		defer func(l, b int) { chunkLines, chunkBytes = l, b }(chunkLines, chunkBytes)
		chunkLines, chunkBytes = lines, bytes
		x, err := New(Options{HashKey: []byte("k"), MaxLineBytes: 2048})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := x.AddSendLogNDJSON(ctx, "send-log.ndjson", strings.NewReader(sendLog)); err != nil {
			t.Fatal(err)
		}
		if err := x.AddWebhooks(ctx, "webhooks.ndjson", strings.NewReader(webhooks)); err != nil {
			t.Fatal(err)
		}
		ev, sum := x.Events()
		return chunkedRun{ev, sum, x.Rejects(), x.Warnings()}
	}
	want := run(1<<30, 1<<30) // the whole input in one chunk
	if len(want.rejects) < 6 || want.sum.Events < 10 || len(want.warnings) == 0 {
		t.Fatalf("the input should give events, rejects and warnings: %d events, %d rejects, warnings %q", want.sum.Events, len(want.rejects), want.warnings)
	}
	for _, c := range []struct{ lines, bytes int }{{1, 1 << 30}, {2, 1 << 30}, {3, 1 << 30}, {1 << 30, 100}, {7, 5000}} {
		got := run(c.lines, c.bytes)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("chunks of %d lines / %d bytes: the export differs from one chunk:\n got %+v\nwant %+v", c.lines, c.bytes, got, want)
		}
	}
}

// A failing OnReject stops the read at that line, whatever the chunks.
func TestParallelStopsAtFailingOnReject(t *testing.T) {
	defer func(l int) { chunkLines = l }(chunkLines)
	chunkLines = 1
	var seen []int
	stop := bytes.ErrTooLarge
	x, err := New(Options{HashKey: []byte("k"), OnReject: func(r Reject) error {
		seen = append(seen, r.Line)
		if len(seen) == 2 {
			return stop
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Repeat("bad\n", 50)
	if err := x.AddWebhooks(context.Background(), "w.ndjson", strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), stop.Error()) {
		t.Fatalf("err = %v, want the OnReject error", err)
	}
	if !reflect.DeepEqual(seen, []int{1, 2}) {
		t.Errorf("rejects passed to OnReject at lines %v, want [1 2]", seen)
	}
}
