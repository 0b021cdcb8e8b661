package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/pipeline/ingest"
)

// spillInputs writes a simulated world's raw forms with what real inputs
// carry besides: the reference examples (account events, refused sends),
// send-log lines given twice and lines reusing a wamid for another
// recipient (conflicts), webhook lines given twice, and statuses whose
// sends are missing (orphans). It returns the send logs and webhook
// files.
func spillInputs(t testing.TB, dir string, days int) (sendLogs, hooks []string) {
	t.Helper()
	cfg := smallWorld(days)
	_, sendLog, webhooks := simulateRaw(t, cfg)
	logLines := bytes.SplitAfter(sendLog, []byte("\n"))
	hookLines := bytes.SplitAfter(webhooks, []byte("\n"))
	var extraLog bytes.Buffer
	for i, l := range logLines[100:] {
		switch {
		case i%97 == 0:
			extraLog.Write(l) // the same record again: a duplicate
		case i%89 == 0 && bytes.Contains(l, []byte(`"to":"`)):
			extraLog.Write(bytes.Replace(l, []byte(`"to":"`), []byte(`"to":"9`), 1)) // another recipient: a conflict
		}
	}
	write := func(name string, parts ...[]byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Join(parts, nil), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sendLogs = []string{
		write("send-log.ndjson", logLines[100:]...), // the first 100 sends are missing: their statuses are orphans
		write("send-log-again.ndjson", extraLog.Bytes()),
		write("send-log-example.ndjson", readTestdata(t, "send-log.ndjson")),
	}
	hooks = []string{
		write("webhooks.ndjson", webhooks),
		write("webhooks-again.ndjson", hookLines[:len(hookLines)/10]...),
		write("webhooks-example.ndjson", readTestdata(t, "webhook-statuses.ndjson"), readTestdata(t, "webhook-account-events.ndjson")),
	}
	return sendLogs, hooks
}

func spillConfig(out string, partitioned bool, sendLogs, hooks []string, limit int64) ingest.ExportConfig {
	cfg := ingest.DefaultExportConfig()
	cfg.SendLogs, cfg.Webhooks, cfg.Out, cfg.Partitioned = sendLogs, hooks, out, partitioned
	cfg.HashKey, cfg.MemoryLimit, cfg.MaxRejectRate = []byte(smallWorld(1).HashKey), limit, 1
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

// files returns the contents of the files under dir by relative path.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		m[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sameFiles(t *testing.T, what string, a, b map[string][]byte) {
	t.Helper()
	if len(a) != len(b) {
		t.Errorf("%s: %d files against %d", what, len(a), len(b))
	}
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s: %s differs (%d bytes against %d)", what, name, len(data), len(b[name]))
		}
	}
}

// An export whose events do not fit its memory budget joins them a group
// of buckets at a time and merges the groups' runs; its history is the
// in-memory join's, byte for byte (single file and partitioned, fresh and
// merged into), with the same counts and rejects.
func TestSpillMatchesInMemory(t *testing.T) {
	dir := t.TempDir()
	sendLogs, hooks := spillInputs(t, dir, 2)
	ctx := context.Background()

	// The in-memory join (Exporter.WriteEvents), written as an export
	// writes a single file.
	var rejects []ingest.Reject
	x, err := ingest.New(ingest.Options{HashKey: []byte(smallWorld(1).HashKey), OnReject: func(r ingest.Reject) error {
		rejects = append(rejects, r)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range sendLogs {
		if err := x.AddSendLogNDJSON(ctx, p, bytes.NewReader(mustRead(t, p))); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range hooks {
		if err := x.AddWebhooks(ctx, p, bytes.NewReader(mustRead(t, p))); err != nil {
			t.Fatal(err)
		}
	}
	ref := filepath.Join(dir, "ref", "history.parquet")
	w, err := pipeline.NewHistoryWriter(ref, pipeline.WriteOptions{HashKeyFingerprint: pipeline.HashKeyFingerprint([]byte(smallWorld(1).HashKey))})
	if err != nil {
		t.Fatal(err)
	}
	want, err := x.WriteEvents(ctx, 1<<14, w.Write)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if want.Duplicates == 0 || want.OrphanStatuses == 0 || want.RejectsByKind[ingest.KindConflict] == 0 || want.Refused == 0 || want.AccountEventCount() == 0 {
		t.Fatalf("the inputs do not cover duplicates, orphans, conflicts, refused sends and account events: %+v", want)
	}

	for _, tc := range []struct {
		name  string
		limit int64
		multi bool
	}{{"one group per core", 0, false}, {"many groups", 1 << 20, true}} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"), "history.parquet")
			sum, err := ingest.Export(ctx, spillConfig(out, false, sendLogs, hooks, tc.limit))
			if err != nil {
				t.Fatal(err)
			}
			if (sum.Groups > runtime.GOMAXPROCS(0)) != tc.multi {
				t.Fatalf("%d groups, want more than one per core: %v", sum.Groups, tc.multi)
			}
			if !bytes.Equal(mustRead(t, out), mustRead(t, ref)) {
				t.Errorf("the history differs from the in-memory join's")
			}
			got := sum.Summary
			for _, c := range []struct {
				name      string
				got, want int64
			}{{"events", got.Events, want.Events}, {"duplicates", got.Duplicates, want.Duplicates}, {"orphans", got.OrphanStatuses, want.OrphanStatuses},
				{"accepted", got.Accepted, want.Accepted}, {"refused", got.Refused, want.Refused}, {"rejects", got.Rejects, want.Rejects},
				{"conflicts", got.RejectsByKind[ingest.KindConflict], want.RejectsByKind[ingest.KindConflict]}, {"masked", got.MaskedValues, want.MaskedValues},
				{"unresolved", got.UnresolvedDisplayNumbers, want.UnresolvedDisplayNumbers}, {"written", sum.Written, want.Events}} {
				if c.got != c.want {
					t.Errorf("%s: %d, in memory %d", c.name, c.got, c.want)
				}
			}
			// The same rejects; conflicts (found when buckets are
			// joined) come last, in input order.
			var refLines, gotLines []string
			for _, r := range rejects {
				refLines = append(refLines, fmt.Sprintf("%s:%d %s %s", r.Source, r.Line, r.Kind, r.Reason))
			}
			for _, l := range bytes.Split(bytes.TrimSpace(mustRead(t, sum.RejectsFile)), []byte("\n")) {
				r := ingest.Reject{}
				if err := json.Unmarshal(l, &r); err != nil {
					t.Fatal(err)
				}
				gotLines = append(gotLines, fmt.Sprintf("%s:%d %s %s", r.Source, r.Line, r.Kind, r.Reason))
			}
			slices.Sort(refLines)
			slices.Sort(gotLines)
			if !slices.Equal(refLines, gotLines) {
				t.Errorf("rejects differ:\nin memory %q\nspilled   %q", refLines, gotLines)
			}
		})
	}

	// Partitioned, and a second batch merged into the first: the same
	// files with one group and with many.
	more, moreHooks := spillInputs(t, t.TempDir(), 1) // overlaps the first batch: events already present, late days
	outs := map[int64]string{}
	for _, limit := range []int64{0, 1 << 20} {
		out := filepath.Join(dir, fmt.Sprintf("part-%d", limit))
		outs[limit] = out
		if _, err := ingest.Export(ctx, spillConfig(out, true, sendLogs, hooks, limit)); err != nil {
			t.Fatal(err)
		}
	}
	sameFiles(t, "partitioned", files(t, outs[0]), files(t, outs[1<<20]))
	var present [2]int64
	for i, limit := range []int64{0, 1 << 20} {
		sum, err := ingest.Export(ctx, spillConfig(outs[limit], true, more, moreHooks, limit))
		if err != nil {
			t.Fatal(err)
		}
		present[i] = sum.AlreadyPresent
	}
	if present[0] == 0 || present[0] != present[1] {
		t.Errorf("events already present in the second batch: %v, want equal and some", present)
	}
	sameFiles(t, "merged", files(t, outs[0]), files(t, outs[1<<20]))
}

// The memory budget, not the input, bounds the events joined at once: with
// the same budget, twice the input is joined in about twice the groups of
// about the same size.
func TestSpillBoundsMemory(t *testing.T) {
	ctx := context.Background()
	const limit = 1 << 20
	var largest, groups [2]int
	var events [2]int64
	for i, days := range []int{1, 2} {
		dir := t.TempDir()
		sendLogs, hooks := spillInputs(t, dir, days)
		sum, err := ingest.Export(ctx, spillConfig(filepath.Join(dir, "out"), true, sendLogs, hooks, limit))
		if err != nil {
			t.Fatal(err)
		}
		largest[i], groups[i], events[i] = sum.LargestGroup, sum.Groups, sum.Events
		if left, _ := filepath.Glob(filepath.Join(dir, ".out.tmp-*")); len(left) > 0 {
			t.Errorf("spill files left: %v", left)
		}
	}
	t.Logf("events %v, groups %v, largest group %v", events, groups, largest)
	if events[1] < 3*events[0]/2 {
		t.Fatalf("the second input is not much larger: %v events", events)
	}
	if groups[0] < 2 || groups[1] < 3*groups[0]/2 {
		t.Errorf("groups %v: want several, more for the larger input", groups)
	}
	if largest[1] > 3*largest[0]/2 {
		t.Errorf("largest group %v: grows with the input", largest)
	}
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
