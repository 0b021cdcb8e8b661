package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/pipeline"
)

// day0 is 2026-09-20 00:00 UTC in Unix seconds.
const day0 = 1789862400

// writeBatch writes a send log of n sends on the given day (0-based from
// day0) and their delivered statuses one hour later, plus extra webhook
// lines; it returns the two paths.
func writeBatch(t *testing.T, dir, name string, day, n int, extraHooks ...string) (string, string) {
	t.Helper()
	var sl, wh strings.Builder
	for i := range n {
		ts := day0 + day*86400 + 3600 + i*60
		id := fmt.Sprintf("wamid.d%d-%d", day, i)
		fmt.Fprintf(&sl, `{"request_id":"r-%d-%d","sent_at":%d,"request":{"to":"55119%08d","type":"text"},"response":{"messages":[{"id":%q}]}}`+"\n", day, i, ts, i, id)
		fmt.Fprintf(&wh, `{"entry":[{"id":"880","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"301"},"statuses":[{"id":%q,"status":"delivered","timestamp":"%d","recipient_id":"55119%08d"}]}}]}]}`+"\n", id, ts+3600, i)
	}
	for _, h := range extraHooks {
		wh.WriteString(h + "\n")
	}
	a, b := filepath.Join(dir, name+"-send.ndjson"), filepath.Join(dir, name+"-hooks.ndjson")
	os.WriteFile(a, []byte(sl.String()), 0o644)
	os.WriteFile(b, []byte(wh.String()), 0o644)
	return a, b
}

// lateStatus is a read status of day's send i, arriving at ts.
func lateStatus(day, i int, ts int64) string {
	return fmt.Sprintf(`{"entry":[{"id":"880","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"301"},"statuses":[{"id":"wamid.d%d-%d","status":"read","timestamp":"%d","recipient_id":"55119%08d"}]}}]}]}`, day, i, ts, i)
}

func testConfig(out string, partitioned bool, sendLogs, hooks []string) ExportConfig {
	cfg := DefaultExportConfig()
	cfg.SendLogs, cfg.Webhooks, cfg.Out, cfg.Partitioned, cfg.HashKey = sendLogs, hooks, out, partitioned, []byte("k")
	cfg.Logger = discardLogger()
	return cfg
}

func readAll(t *testing.T, spec string) []pipeline.Event {
	t.Helper()
	d, err := pipeline.OpenDataset(spec)
	if err != nil {
		t.Fatal(err)
	}
	var out []pipeline.Event
	if err := d.Scan(context.Background(), pipeline.ScanOptions{}, func(b []pipeline.Event) error {
		out = append(out, b...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func countByDay(events []pipeline.Event) map[string]int {
	m := map[string]int{}
	for _, e := range events {
		m[e.Time().UTC().Format(time.DateOnly)]++
	}
	return m
}

// Issue 12 item 1: a second batch (a later day plus a late status for an
// earlier day) used to replace the earlier day's partition with the one
// late row. Now it merges, and the same batch twice is the same as once.
func TestFaultIncrementalExportMerges(t *testing.T) {
	for _, partitioned := range []bool{true, false} {
		t.Run(fmt.Sprintf("partitioned=%v", partitioned), func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "history")
			if !partitioned {
				out += ".parquet"
			}
			s1, h1 := writeBatch(t, dir, "b1", 0, 50)
			if _, err := Export(context.Background(), testConfig(out, partitioned, []string{s1}, []string{h1})); err != nil {
				t.Fatal(err)
			}
			first := readAll(t, out)
			if got := countByDay(first); got["2026-09-20"] != 100 {
				t.Fatalf("first export: %v", got)
			}
			// Day 2's log, and a read status for day 0's send 3 that
			// arrives late (on day 0 still: its partition must be merged).
			s2, h2 := writeBatch(t, dir, "b2", 2, 30, lateStatus(0, 3, day0+80000))
			sum, err := Export(context.Background(), testConfig(out, partitioned, []string{s2}, []string{h2}))
			if err != nil {
				t.Fatal(err)
			}
			second := readAll(t, out)
			if got := countByDay(second); got["2026-09-20"] != 101 || got["2026-09-22"] != 60 || len(second) != 161 {
				t.Fatalf("after the second batch: %v (%d events), want 101 on 09-20 and 60 on 09-22", got, len(second))
			}
			if partitioned && (sum.Days != 2 || sum.Existing != 100) {
				t.Errorf("summary: %d days rewritten, %d existing kept; want 2, 100", sum.Days, sum.Existing)
			}
			// The same batch again: nothing changes.
			sum, err = Export(context.Background(), testConfig(out, partitioned, []string{s2}, []string{h2}))
			if err != nil {
				t.Fatal(err)
			}
			if again := readAll(t, out); !slices.Equal(again, second) {
				t.Errorf("re-exporting the same batch changed the history: %d -> %d events", len(second), len(again))
			}
			if sum.AlreadyPresent != 61 {
				t.Errorf("already present %d, want 61", sum.AlreadyPresent)
			}
		})
	}
}

// Issue 12 item 2: a run whose lines are all rejected (here a JSON array
// .json file and zone-less times) used to exit 0 and replace a good
// history with an empty one. Now it fails as bad input and the history
// stays.
func TestFaultAllRejectedLeavesHistory(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "history")
	s1, h1 := writeBatch(t, dir, "b1", 0, 20)
	if _, err := Export(context.Background(), testConfig(out, true, []string{s1}, []string{h1})); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, out)
	array := filepath.Join(dir, "send-log.json")
	os.WriteFile(array, []byte("[\n  {\"request_id\": \"r1\"},\n  {\"request_id\": \"r2\"}\n]\n"), 0o644)
	zoneless := filepath.Join(dir, "zoneless.csv")
	os.WriteFile(zoneless, []byte("request_id,sent_at,recipient,message_id\nr1,2026-09-20 09:01:00,5511987654321,wamid.z1\nr2,2026-09-20 09:02:00,5511987654322,wamid.z2\n"), 0o644)
	empty := filepath.Join(dir, "empty.ndjson")
	os.WriteFile(empty, nil, 0o644)
	tests := []struct {
		name   string
		inputs []string
		want   string
	}{
		{"json array", []string{array}, "JSON array"},
		{"zone-less times", []string{zoneless}, "--max-reject-rate"},
		{"no events", []string{empty}, "no event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Export(context.Background(), testConfig(out, true, tt.inputs, nil))
			if exitcode.Of(err) != exitcode.Input || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v (exit %d), want input error containing %q", err, exitcode.Of(err), tt.want)
			}
			if after := snapshot(t, out); !maps_equal(before, after) {
				t.Errorf("history changed by a failed run:\nbefore %v\nafter  %v", keys(before), keys(after))
			}
		})
	}
	// An --out of the other layout, or a plain file, is refused.
	for _, tc := range []struct {
		out         string
		partitioned bool
	}{{out, false}, {filepath.Join(dir, "b1-send.ndjson"), true}} {
		if _, err := Export(context.Background(), testConfig(tc.out, tc.partitioned, []string{s1}, nil)); exitcode.Of(err) != exitcode.Input {
			t.Errorf("--out %s (partitioned %v): %v, want an input error", tc.out, tc.partitioned, err)
		}
	}
	if after := snapshot(t, out); !maps_equal(before, after) {
		t.Error("history changed by a refused run")
	}
	// With --timezone the zone-less file exports.
	cfg := testConfig(out, true, []string{zoneless}, nil)
	cfg.Timezone = "UTC"
	if sum, err := Export(context.Background(), cfg); err != nil || sum.Events != 2 {
		t.Errorf("with --timezone: %v", err)
	}
}

// snapshot maps every history file under dir (rejects excluded) to its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			b, _ := os.ReadFile(p)
			m[p] = string(b)
		}
		return nil
	})
	return m
}

func maps_equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var k []string
	for p := range m {
		k = append(k, filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p))
	}
	slices.Sort(k)
	return k
}

// Issue 12 item 17 (export): a partitioned export killed (SIGKILL) after
// it wrote some days used to leave new partitions next to old ones. Now
// the dataset switches as a whole: killed before the switch, the old
// dataset is intact; the next run removes the killed run's staging files
// (and its lock was released by the kernel) and completes.
func TestFaultKilledExportDoesNotMixDays(t *testing.T) {
	if os.Getenv("FAILCAST_TEST_KILL_EXPORT") != "" {
		killedExportHelper()
		return
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "history")
	s1, h1 := writeBatch(t, dir, "b1", 0, 20)
	if _, err := Export(context.Background(), testConfig(out, true, []string{s1}, []string{h1})); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, out)
	// Batch 2 touches day 0 (a late status) and adds days 1 and 2.
	s2, h2 := writeBatch(t, dir, "b2", 1, 10, lateStatus(0, 1, day0+80000))
	s3, h3 := writeBatch(t, dir, "b3", 2, 10)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFaultKilledExportDoesNotMixDays$")
	cmd.Env = append(os.Environ(), "FAILCAST_TEST_KILL_EXPORT="+strings.Join([]string{out, s2, s3, h2, h3}, "|"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper: %v, want killed by SIGKILL; stderr %s", err, stderr.String())
	}
	if after := snapshot(t, out); !maps_equal(before, after) {
		t.Fatalf("a killed export changed the dataset:\nbefore %v\nafter  %v", keys(before), keys(after))
	}
	stages, _ := filepath.Glob(filepath.Join(dir, ".history.stage-*"))
	if len(stages) != 1 {
		t.Fatalf("staging directories after the kill: %v, want the killed run's one", stages)
	}
	spills, _ := filepath.Glob(filepath.Join(dir, ".history.tmp-spill-*"))
	if len(spills) != 1 {
		t.Fatalf("spill directories after the kill: %v, want the killed run's one", spills)
	}
	sum, err := Export(context.Background(), testConfig(out, true, []string{s2, s3}, []string{h2, h3}))
	if err != nil {
		t.Fatalf("the run after a killed one: %v", err)
	}
	if want := []string{stages[0], spills[0]}; !slices.Equal(sum.Cleaned, want) {
		t.Errorf("cleaned %v, want %v", sum.Cleaned, want)
	}
	for _, pattern := range []string{".history.stage-*", ".history.tmp-*"} {
		if left, _ := filepath.Glob(filepath.Join(dir, pattern)); len(left) != 0 {
			t.Errorf("leftovers of the killed run: %v", left)
		}
	}
	if got := countByDay(readAll(t, out)); got["2026-09-20"] != 41 || got["2026-09-21"] != 20 || got["2026-09-22"] != 20 {
		t.Errorf("days after the rerun: %v", got)
	}
}

// killedExportHelper runs an export that kills its own process just
// before the switch (as `kill -9` would at the worst moment).
func killedExportHelper() {
	p := strings.Split(os.Getenv("FAILCAST_TEST_KILL_EXPORT"), "|")
	testHookBeforeSwitch = func() { syscall.Kill(os.Getpid(), syscall.SIGKILL); select {} }
	_, err := Export(context.Background(), testConfig(p[0], true, p[1:3], p[3:5]))
	fmt.Fprintln(os.Stderr, "export returned instead of being killed:", err)
	os.Exit(3)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Issue 12 item 19: the reject file holds raw input lines (raw numbers);
// it was chmodded 0644 whatever the umask. It now gets 0666 &^ umask.
func TestFaultRejectFileHonoursUmask(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	dir := t.TempDir()
	s1, h1 := writeBatch(t, dir, "b1", 0, 20, "null")
	cfg := testConfig(filepath.Join(dir, "history"), true, []string{s1}, []string{h1})
	if _, err := Export(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "history", "rejects.ndjson"))
	if err != nil || st.Mode().Perm() != 0o640 || st.Size() == 0 {
		t.Errorf("reject file: %v, %v; want mode 0640 and the reject", st.Mode(), err)
	}
}
