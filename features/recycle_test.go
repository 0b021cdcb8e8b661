package features

import (
	"context"
	"math"
	"slices"
	"testing"
)

// TestScorerRecycle: tables handed back with Recycle, scribbled over
// first, give later batches the same tables as fresh memory does.
func TestScorerRecycle(t *testing.T) {
	events := generateAll(smallGen(53))
	asOf := day0 + 5*usPerDay
	plan := planOf(events, asOf)
	if len(plan) < 40 {
		t.Fatalf("plan of %d sends, want at least 40", len(plan))
	}
	newScorer := func() *Scorer {
		sc, err := NewScorer(context.Background(), &memSource{events: events}, DefaultConfig(), asOf)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	fresh, recycled := newScorer(), newScorer()
	for lo, size := 0, 17; lo < len(plan); lo, size = lo+size, size%23+7 {
		batch := plan[lo:min(lo+size, len(plan))]
		want, err := fresh.Next(batch)
		if err != nil {
			t.Fatal(err)
		}
		got, err := recycled.Next(batch)
		if err != nil {
			t.Fatal(err)
		}
		if got.Rows != want.Rows || !slices.Equal(got.Names, want.Names) || !slices.Equal(got.ID, want.ID) ||
			!slices.Equal(got.Stale, want.Stale) || !slices.Equal(got.Time, want.Time) || !slices.Equal(got.Recipient, want.Recipient) ||
			!slices.Equal(got.Country, want.Country) {
			t.Fatalf("batch at %d: recycled table differs from a fresh one in its rows, names or identity", lo)
		}
		for i := range want.X {
			if math.Float32bits(got.X[i]) != math.Float32bits(want.X[i]) {
				t.Fatalf("batch at %d: value %d (%s) is %v, want %v", lo, i, want.Names[i%len(want.Names)], got.X[i], want.X[i])
			}
		}
		for i := range got.X {
			got.X[i] = float32(math.NaN())
		}
		for i := range got.Stale {
			got.Stale[i] = !got.Stale[i]
		}
		got.Names[0] = "scribbled"
		rows := got.Rows
		recycled.Recycle(got)
		// Every identity column keeps its memory for the next batch.
		for name, col := range map[string][]string{"id": got.ID, "campaign": got.CampaignID, "phone": got.PhoneNumberID,
			"recipient": got.Recipient, "country": got.Country} {
			if len(col) != 0 || cap(col) < rows {
				t.Fatalf("batch at %d: recycled %s column has length %d, capacity %d (want 0 and >= %d)", lo, name, len(col), cap(col), rows)
			}
		}
	}
}
