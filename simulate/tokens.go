package simulate

import (
	"slices"
	"strings"

	"github.com/failcast/failcast/pipeline"
)

// TokenExpiries returns the token inventory a sender holds at AsOf: one
// row per WABA, ordered by WABA id, with the expiry of the access token
// the WABA's sends use (what Meta's debug_token endpoint reports as
// expires_at). A token already expired at AsOf (not yet renewed) has its
// expiry in the past, at or before AsOf; a valid one expires at its next
// expiry after AsOf. The sender knows only the token it holds: the expiry
// of the token a later renewal brings is not in the inventory, so every
// expiry after the first renewal past AsOf is absent. The result is
// pipeline.WriteTokenExpiries' input (file tokens.csv of cmd/simulate).
func (w *World) TokenExpiries() []pipeline.TokenExpiry {
	e := w.eng
	tokens := make([]pipeline.TokenExpiry, len(e.wabas))
	for i := range e.wabas {
		tokens[i] = pipeline.TokenExpiry{WABAID: e.wabas[i].id, ExpiresAt: tokenExpiryAt(e.wabas[i].gaps, e.asOf)}
	}
	slices.SortFunc(tokens, func(a, b pipeline.TokenExpiry) int { return strings.Compare(a.WABAID, b.WABAID) })
	return tokens
}

// tokenExpiryAt returns the expiry of the token held at asOf, given a
// WABA's expiry gaps ([expiry, renewal), in time order): the start of the
// first gap that ends after asOf. A schedule with no such gap (never the
// case: schedules reach far past any plan) is a token that never expires.
func tokenExpiryAt(gaps []interval, asOf int64) int64 {
	i, _ := slices.BinarySearchFunc(gaps, asOf, func(g interval, t int64) int {
		if g.to <= t {
			return -1
		}
		return 1
	})
	if i == len(gaps) {
		return pipeline.TokenNeverExpires
	}
	return gaps[i].from
}
