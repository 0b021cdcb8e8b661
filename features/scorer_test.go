package features

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

func TestScorerOrderErrors(t *testing.T) {
	events := generateAll(smallGen(51))
	asOf := day0 + 5*usPerDay
	cfg := DefaultConfig()
	plan := planOf(events, asOf)[:20]
	newScorer := func() *Scorer {
		sc, err := NewScorer(context.Background(), &memSource{events: events}, cfg, asOf)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	tests := []struct {
		name  string
		batch func() []pipeline.PlannedSend
		want  []string
	}{
		{"decreasing within a batch", func() []pipeline.PlannedSend {
			b := append([]pipeline.PlannedSend(nil), plan[:5]...)
			b[3].ScheduledAt = b[2].ScheduledAt - 1
			return b
		}, []string{plan[3].SendID, plan[2].SendID, "non-decreasing"}},
		{"before as-of", func() []pipeline.PlannedSend {
			b := append([]pipeline.PlannedSend(nil), plan[:2]...)
			b[0].ScheduledAt = asOf - 1
			return b
		}, []string{plan[0].SendID, "as-of"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScorer()
			_, err := sc.Next(tc.batch())
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			// A refused batch changes nothing.
			got, err := sc.Next(plan)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := newScorer().Next(plan)
			for i := range want.X {
				if math.Float32bits(got.X[i]) != math.Float32bits(want.X[i]) {
					t.Fatalf("after a refused batch, value %d is %v, want %v", i, got.X[i], want.X[i])
				}
			}
		})
	}
	sc := newScorer()
	if _, err := sc.Next(plan[5:10]); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Next(plan[:5]); err == nil || !strings.Contains(err.Error(), plan[0].SendID) {
		t.Fatalf("a batch earlier than the previous one: err = %v, want one naming %s", err, plan[0].SendID)
	}
}

func TestScorerStaleAndSchedule(t *testing.T) {
	events := generateAll(smallGen(52))
	asOf := day0 + 5*usPerDay
	cfg := DefaultConfig()
	sc, err := NewScorer(context.Background(), &memSource{events: events}, cfg, asOf)
	if err != nil {
		t.Fatal(err)
	}
	base := planOf(events, 0)[0]
	mk := func(id string, at int64) pipeline.PlannedSend {
		p := base
		p.SendID, p.ScheduledAt, p.Recipient, p.Category = id, at, "h:scorer-test", pipeline.CategoryMarketing
		return p
	}
	h := cfg.MaxHorizon().Microseconds()
	tab, err := sc.Next([]pipeline.PlannedSend{
		mk("a", asOf), mk("b", asOf), mk("c", asOf+usPerHour), mk("d", asOf+h), mk("e", asOf+h+1),
	})
	if err != nil {
		t.Fatal(err)
	}
	wantStale := []bool{false, false, false, false, true}
	// Plan sends count for later ones, not for ones at the same time; d and
	// e are more than 24 h after a-c.
	wantMkt24 := []float32{0, 0, 2, 0, 1}
	wantMkt7 := []float32{0, 0, 2, 3, 4}
	for i := range tab.Rows {
		if tab.Stale[i] != wantStale[i] {
			t.Errorf("row %s: stale %v, want %v", tab.ID[i], tab.Stale[i], wantStale[i])
		}
		if got := tab.At(i, "recipient_marketing_24h"); got != wantMkt24[i] {
			t.Errorf("row %s: recipient_marketing_24h %v, want %v", tab.ID[i], got, wantMkt24[i])
		}
		if got := tab.At(i, "recipient_marketing_7d"); got != wantMkt7[i] {
			t.Errorf("row %s: recipient_marketing_7d %v, want %v", tab.ID[i], got, wantMkt7[i])
		}
		if got, want := tab.At(i, "horizon_hours"), float32(float64(tab.Time[i]-asOf)/float64(usPerHour)); got != want {
			t.Errorf("row %s: horizon %v, want %v", tab.ID[i], got, want)
		}
	}
	if got := tab.At(2, "pair_hours_since_prev_send"); got != 1 {
		t.Errorf("pair gap %v h, want 1", got)
	}
}

// TestScorerMemoryBounded: a long plan over a fixed audience leaves the
// scorer's state the size of that audience and of one day of sends.
func TestScorerMemoryBounded(t *testing.T) {
	events := generateAll(smallGen(53))
	asOf := events[len(events)-1].Timestamp + 1
	sc, err := NewScorer(context.Background(), &memSource{events: events}, DefaultConfig(), asOf)
	if err != nil {
		t.Fatal(err)
	}
	base := planOf(events, 0)[0]
	recipientsBefore := sc.eng.sched.state.recip.len()
	const perBatch, batches, gap = 500, 40, int64(60e6) // a send a minute for ~14 days
	at := asOf
	for b := range batches {
		batch := make([]pipeline.PlannedSend, perBatch)
		for i := range batch {
			p := base
			p.SendID = fmt.Sprintf("s%d-%d", b, i)
			p.Recipient = fmt.Sprintf("h:%016x", i%50)
			p.ScheduledAt = at
			at += gap
			batch[i] = p
		}
		tab, err := sc.Next(batch)
		if err != nil {
			t.Fatal(err)
		}
		if tab.Rows != perBatch {
			t.Fatalf("batch %d: %d rows", b, tab.Rows)
		}
	}
	s := sc.eng.sched.state
	if got := s.recip.len(); got > recipientsBefore+50 {
		t.Errorf("%d recipients in the state, want <= %d", got, recipientsBefore+50)
	}
	if live, dayOfSends := len(s.day)-s.dayHead, int(usPerDay/gap)+1; live > dayOfSends {
		t.Errorf("trailing-24-h queue holds %d sends, want <= %d", live, dayOfSends)
	}
	if cap(s.day) > 4*(int(usPerDay/gap)+4096) {
		t.Errorf("trailing-24-h queue capacity %d grew with the plan", cap(s.day))
	}
	if n := len(sc.eng.out.fifo) - sc.eng.out.fifoHead; n != 0 {
		t.Errorf("%d outcome records pending; plan sends must not add any", n)
	}
	if n := len(sc.eng.sched.deferred); n > 1 {
		t.Errorf("%d deferred sends, want <= 1", n)
	}
}

// TestScorerNextFeatures: NextFeatures gives Next's feature values and
// stale flags, batch after batch (the tables recycled in between), and
// no identity columns.
func TestScorerNextFeatures(t *testing.T) {
	events := generateAll(smallGen(54))
	asOf := day0 + 5*usPerDay
	plan := planOf(events, asOf)
	if len(plan) < 30 {
		t.Fatalf("%d plan sends, want at least 30", len(plan))
	}
	newScorer := func() *Scorer {
		sc, err := NewScorer(context.Background(), &memSource{events: events}, DefaultConfig(), asOf)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	full, only := newScorer(), newScorer()
	for lo := 0; lo < len(plan); lo += 7 {
		batch := plan[lo:min(lo+7, len(plan))]
		want, err := full.Next(batch)
		if err != nil {
			t.Fatal(err)
		}
		got, err := only.NextFeatures(batch)
		if err != nil {
			t.Fatal(err)
		}
		if got.Rows != want.Rows || len(got.X) != len(want.X) || !slices.Equal(got.Stale, want.Stale) || !slices.Equal(got.Names, want.Names) {
			t.Fatalf("batch at %d: %d rows, %d values, stale %v; want %d, %d, %v", lo, got.Rows, len(got.X), got.Stale, want.Rows, len(want.X), want.Stale)
		}
		for i := range want.X {
			if math.Float32bits(got.X[i]) != math.Float32bits(want.X[i]) {
				t.Fatalf("batch at %d: value %d is %v, want %v", lo, i, got.X[i], want.X[i])
			}
		}
		if len(got.ID) != 0 || len(got.Recipient) != 0 || len(got.Time) != 0 || len(want.ID) != want.Rows {
			t.Fatalf("batch at %d: NextFeatures has %d ids, Next %d", lo, len(got.ID), len(want.ID))
		}
		full.Recycle(want)
		only.Recycle(got)
	}
}
