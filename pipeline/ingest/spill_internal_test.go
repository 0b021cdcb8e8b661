package ingest

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeRun writes rows (in order) as one run file of s.
func writeRun(t *testing.T, s *spill, rows []row) {
	t.Helper()
	f, err := os.Create(filepath.Join(s.dir, "run-test-"+string(rune('a'+len(s.runs)))))
	if err != nil {
		t.Fatal(err)
	}
	run := &runFile{f: f}
	var b []byte
	var off int64
	for i := range rows {
		if d := dayOf(rows[i].ts); len(run.days) == 0 || run.days[len(run.days)-1].day != d {
			if n := len(run.days); n > 0 {
				run.days[n-1].end = off
			}
			run.days = append(run.days, daySeg{day: d, off: off})
		}
		rec := appendRow(nil, &rows[i])
		b = binary.AppendUvarint(b, uint64(len(rec)))
		b = append(b, rec...)
		off = int64(len(b))
	}
	run.days[len(run.days)-1].end = off
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	s.runs = append(s.runs, run)
}

// The runs of several groups merge in (timestamp, event id) order, day by
// day; an event two runs hold (an event id hash shared by two message ids)
// is read once, the one first in the input, as the in-memory join keeps
// it, and counted as a duplicate (an orphan one as an orphan less).
func TestNewEventsMergesRuns(t *testing.T) {
	s, err := newSpill(filepath.Join(t.TempDir(), "out"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const day = microsPerDay
	writeRun(t, s, []row{{ts: 10, id: 5, seq: 1, msg: "a"}, {ts: 20, id: 1, seq: 9, msg: "b2", orphan: true}, {ts: day + 1, id: 3, seq: 4, msg: "c"}})
	writeRun(t, s, []row{{ts: 10, id: 2, seq: 7, msg: "d"}, {ts: 20, id: 1, seq: 3, msg: "b1"}, {ts: 30, id: 0, seq: 8, msg: "e"}})
	writeRun(t, s, []row{{ts: day + 1, id: 1, seq: 2, msg: "f"}})
	if got := s.days(); len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Fatalf("days %v, want [0 1]", got)
	}
	for _, tc := range []struct {
		day  int64
		all  bool
		want string
	}{{0, false, "d a b1 e"}, {1, false, "f c"}, {0, true, "d a b1 e f c"}} {
		m := s.newEvents(tc.day, tc.all)
		got := ""
		for o := m.peek(); o != nil; o = m.peek() {
			if got != "" {
				got += " "
			}
			got += strings.Clone(o.msg) // o.msg is the run's buffer
			m.pop()
		}
		if err := m.err(); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("day %d (all %v): %q, want %q", tc.day, tc.all, got, tc.want)
		}
		want := int64(0)
		if tc.day == 0 {
			want = 1 // the event of runs 1 and 2, an orphan in run 1
		}
		if m.Duplicates != want || m.Orphans != want {
			t.Errorf("day %d (all %v): %d duplicates, %d orphans; want %d of each", tc.day, tc.all, m.Duplicates, m.Orphans, want)
		}
	}
}

// Buckets are grouped within the budget, in a multiple of the workers
// (one group per worker when all fit), of about equal size, every bucket
// in one group, in order.
func TestGroupBuckets(t *testing.T) {
	sizes := func(n int, f func(i int) int64) []bucketFile {
		b := make([]bucketFile, n)
		for i := range b {
			b[i].n = f(i)
		}
		return b
	}
	for _, tc := range []struct {
		name          string
		buckets       []bucketFile
		budget        int64
		workers       int
		groups        int // 0: any multiple of workers
		maxOverBudget bool
	}{
		{"all fit, 2 workers", sizes(128, func(int) int64 { return 100 }), 1 << 30, 2, 2, false},
		{"all fit, 1 worker", sizes(128, func(int) int64 { return 100 }), 1 << 30, 1, 1, false},
		{"7 budgets' worth, 2 workers", sizes(128, func(int) int64 { return 1000 }), 128 * 1000 * spillBytesFactor / 7, 2, 8, false},
		{"uneven", sizes(128, func(i int) int64 { return int64(500 + 37*(i%11)) }), 9000 * spillBytesFactor, 2, 0, false},
		{"empty buckets", sizes(128, func(i int) int64 { return int64(i % 2 * 700) }), 5000 * spillBytesFactor, 3, 0, false},
		{"a bucket above the budget", sizes(16, func(i int) int64 { return int64(1 + 10000*(i/15)) }), 100 * spillBytesFactor, 2, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			groups := groupBuckets(tc.buckets, tc.budget, tc.workers)
			if tc.groups > 0 && len(groups) != tc.groups {
				t.Errorf("%d groups, want %d", len(groups), tc.groups)
			}
			if len(groups)%tc.workers != 0 && len(groups) != len(tc.buckets) {
				t.Errorf("%d groups: not a multiple of %d workers", len(groups), tc.workers)
			}
			n, lo, hi := 0, int64(1<<62), int64(0)
			for _, g := range groups {
				var size int64
				for i := range g {
					if &g[i] != &tc.buckets[n] {
						t.Fatalf("bucket %d not in order", n)
					}
					size += g[i].n
					n++
				}
				if len(g) > 1 && size*spillBytesFactor > tc.budget {
					t.Errorf("a group of %d buckets, %d bytes: above the budget", len(g), size)
				}
				lo, hi = min(lo, size), max(hi, size)
			}
			if n != len(tc.buckets) {
				t.Fatalf("%d of %d buckets grouped", n, len(tc.buckets))
			}
			var largest int64
			for i := range tc.buckets {
				largest = max(largest, tc.buckets[i].n)
			}
			if !tc.maxOverBudget && hi-lo > 2*largest {
				t.Errorf("group sizes %d to %d: uneven", lo, hi)
			}
		})
	}
}
