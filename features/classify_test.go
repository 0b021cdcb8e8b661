package features

import (
	"context"
	"math"
	"testing"
	"time"
)

func TestRecipInterner(t *testing.T) {
	r := newRecipInterner()
	keys := []string{"h:00000000000000aa", "h:00000000000000AA", "h:00000000000000ab", "+55 11 9999", "", "h:0000000000000aa"}
	ids := map[string]int32{}
	for range 2 {
		for _, k := range keys {
			id := r.id(k)
			if prev, ok := ids[k]; ok && prev != id {
				t.Fatalf("%q: id %d then %d", k, prev, id)
			}
			ids[k] = id
			if r.names[id] != k {
				t.Fatalf("names[%d] = %q, want %q", id, r.names[id], k)
			}
		}
	}
	seen := map[int32]string{}
	for k, id := range ids {
		if other, dup := seen[id]; dup {
			t.Fatalf("%q and %q share id %d", k, other, id)
		}
		seen[id] = k
	}
}

// TestLabelWindow: a failure labels its send only within LabelWindow.
// A later failure of a message still remembered (for at least two
// LabelWindows) is a late outcome, counted, and no send of its own; one
// of a message forgotten longer ago cannot be told from a refused send.
func TestLabelWindow(t *testing.T) {
	cfg := DefaultConfig()
	w := cfg.LabelWindow.Microseconds()
	tests := []struct {
		name     string
		failAt   int64 // after the send
		wantFail bool
		wantLate int64
		wantRows int
	}{
		{"at once", 5e6, true, 0, 10},
		{"at the window's end", w, true, 0, 10},
		{"after the window", w + 1, false, 1, 10},
		{"two windows after", 2 * w, false, 1, 10},
		{"forgotten", 3*w + w/2, false, 0, 11},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s scenario
			t0 := day0 + usPerDay
			s.send("m1", t0, "r1", "p1", "t1")
			// Traffic in between makes the message tables rotate.
			for i := int64(1); i < 10; i++ {
				s.send("x"+time.Duration(i).String(), t0+i*w/4, "r2", "p1", "t1")
			}
			s.fail("m1", t0+tc.failAt, "r1", "p1", "t1", 131026)
			s.send("last", t0+4*w, "r2", "p1", "t1")
			sortEvents(s.events)
			tab, err := BuildTraining(context.Background(), &memSource{events: s.events}, cfg, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if tab.ID[0] != "m1" || tab.Failed[0] != tc.wantFail {
				t.Fatalf("row 0 %s failed=%v, want m1 failed=%v", tab.ID[0], tab.Failed[0], tc.wantFail)
			}
			// m1 and 9 others; "last" is within LabelDelay of the end.
			if tab.Rows != tc.wantRows {
				t.Fatalf("%d rows, want %d", tab.Rows, tc.wantRows)
			}
			res, err := run(context.Background(), &memSource{events: s.events}, cfg, newEngine(cfg.TrainingCutoff), newEntities(), math.MaxInt64, math.MaxInt64, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.late != tc.wantLate {
				t.Fatalf("%d late outcomes, want %d", res.late, tc.wantLate)
			}
		})
	}
}
