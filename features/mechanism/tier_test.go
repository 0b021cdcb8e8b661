package mechanism

import (
	"math"
	"testing"

	"github.com/failcast/failcast/features"
)

// TestTemplateParamsShare: the template_params share is the template's
// rate while its error episode holds at the send; the old share was the
// rate whatever the episode.
func TestTemplateParamsShare(t *testing.T) {
	s := Send{Template: true, MessageType: "template"}
	tests := []struct {
		name string
		vals map[string]float32
		want float64
	}{
		{"episode holds", map[string]float32{features.NameTemplateParamErrorRate24h: 0.3, features.NameTemplateParamErrorsPersist: 1}, 0.3},
		{"half likely fixed", map[string]float32{features.NameTemplateParamErrorRate24h: 0.3, features.NameTemplateParamErrorsPersist: 0.5}, 0.15},
		{"episode over", map[string]float32{features.NameTemplateParamErrorRate24h: 0.3, features.NameTemplateParamErrorsPersist: 0}, 0},
		{"below the minimum rate", map[string]float32{features.NameTemplateParamErrorRate24h: 0.01, features.NameTemplateParamErrorsPersist: 1}, 0},
	}
	for _, tc := range tests {
		cols, x := rowOf(tc.vals)
		if got := cols.Shares(&s, x, 0)[TemplateParams]; math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("%s: share %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestTierLedger: a number with a limit of 3 unique recipients in 24 h.
// A send the limit (or a rule) refuses opens no conversation: it does
// not use up a slot, and the admitted sends leaving the window free
// theirs. The feature counts every send's recipient, refused or not; the
// shares alone (the old decision) refused a send whenever that count
// reached the limit.
func TestTierLedger(t *testing.T) {
	const h = int64(3600e6)
	type step struct {
		at      int64   // hours
		recip   string  // recipient
		unique  float32 // the feature: unique recipients in 24 h before the send, refused ones included
		pairH   float32 // the feature: hours since the number's last send to the recipient (1e6 none)
		ruled   bool    // a rule fails the send
		refused bool    // want: the tier limit refuses it
	}
	never := float32(features.NeverHours)
	tests := []struct {
		name  string
		steps []step
	}{
		{"refused sends free their slots when the admitted ones age out", []step{
			{0, "a", 0, never, false, false},
			{0, "b", 1, never, false, false},
			{0, "c", 2, never, false, false},
			{12, "d", 3, never, false, true},
			{12, "e", 4, never, false, true},
			{12, "f", 5, never, false, true},
			// a, b and c left the window; the feature still counts d, e, f.
			{25, "g", 3, never, false, false},
			{25, "h", 4, never, false, false},
		}},
		{"a refused recipient sent to again is still new", []step{
			{0, "a", 0, never, false, false},
			{0, "b", 1, never, false, false},
			{0, "c", 2, never, false, false},
			{12, "d", 3, never, false, true},
			{13, "d", 4, 1, false, true},
			{13, "a", 4, 13, false, false},
		}},
		{"a send a rule fails uses no slot", []step{
			{0, "a", 0, never, false, false},
			{0, "b", 1, never, true, false},
			{0, "c", 2, never, false, false},
			{1, "d", 3, never, false, false},
			{1, "e", 4, never, false, true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l TierLedger
			for i, st := range tc.steps {
				cols, x := rowOf(map[string]float32{
					features.NamePhoneUniqueRecipients24h: st.unique,
					features.NamePhoneTierLimit:           3,
					features.NamePairHoursSincePrevSend:   st.pairH,
				})
				s := Send{At: st.at * h, Template: true, MessageType: "template"}
				ts := TierSend{Phone: "p", Recipient: st.recip, Refused: st.ruled}
				if st.ruled {
					l.Tier(&cols, &s, x, ts, nil)
					continue
				}
				sh := cols.Shares(&s, x, 0)
				l.Tier(&cols, &s, x, ts, &sh)
				if got := sh[TierLimit] == 1; got != st.refused {
					t.Fatalf("step %d (%s at %d h): refused %v, want %v", i, st.recip, st.at, got, st.refused)
				}
			}
		})
	}
}
