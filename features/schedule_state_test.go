package features

import (
	"math/rand/v2"
	"testing"
)

// TestPairsMatchReference checks the pair bookkeeping of the schedule
// state (one pair kept per recipient, the rest in a map, ends found by
// time or through the queue) against a plain map of last sends: the
// unique recipients of each phone in the trailing 24 h and the pair gaps
// must agree at every send, for recipients messaged from one number or
// from several at once.
func TestPairsMatchReference(t *testing.T) {
	tests := []struct {
		name               string
		phones, recipients int
		meanGapUS          float64
	}{
		{"one phone", 1, 20, 3600e6},
		{"few phones, dense", 3, 8, 600e6},
		{"many phones", 6, 30, 1800e6},
		{"same instant bursts", 4, 5, 1e6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.phones), uint64(tc.recipients)))
			s := newScheduleState()
			last := map[uint64]int64{} // reference: pair -> last send µs
			ts := day0
			overflowSeen := false
			for i := range 20000 {
				if rng.IntN(4) != 0 { // a quarter of sends share the time of the previous one
					ts += int64(rng.ExpFloat64() * tc.meanGapUS)
				}
				r := record{kind: recSend, ts: ts, row: -1, ids: entityIDs{phone: int32(rng.IntN(tc.phones)), recip: int32(rng.IntN(tc.recipients))}}
				s.ensure(&r.ids)
				s.advance(ts)
				for k, v := range last {
					if v <= ts-usPerDay {
						delete(last, k)
					}
				}
				want := map[int32]int32{}
				for k := range last {
					want[int32(k>>32)]++
				}
				for p := range int32(len(s.phoneDay)) {
					if got := s.phoneDay[p].uniq; got != want[p] {
						t.Fatalf("send %d at %d: phone %d has %d unique recipients in 24 h, want %d", i, ts, p, got, want[p])
					}
				}
				k := pairKey(r.ids.phone, r.ids.recip)
				wantTs, wantOK := last[k]
				gotTs, gotOK := s.pairLast(r.ids.phone, r.ids.recip)
				if gotOK && gotTs <= ts-usPerDay {
					gotOK = false // over by its time
				}
				if gotOK != wantOK || (wantOK && gotTs != wantTs) {
					t.Fatalf("send %d: pair last send %d/%v, want %d/%v", i, gotTs, gotOK, wantTs, wantOK)
				}
				s.add(&r)
				last[k] = ts
				overflowSeen = overflowSeen || len(s.pair) > 0
			}
			if tc.phones > 1 && !overflowSeen {
				t.Fatal("no recipient had pairs with two numbers at once: the test misses the overflow map")
			}
		})
	}
}
