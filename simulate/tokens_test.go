package simulate

import (
	"context"
	"slices"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

func TestTokenExpiryAt(t *testing.T) {
	gaps := []interval{{100, 110}, {200, 205}, {300, 320}}
	tests := []struct {
		name string
		asOf int64
		want int64
	}{
		{"before every gap", 50, 100},
		{"just before an expiry", 99, 100},
		{"at an expiry: already expired", 100, 100},
		{"inside a gap: already expired", 105, 100},
		{"at a renewal: the next expiry", 110, 200},
		{"between gaps", 150, 200},
		{"inside the last gap", 319, 300},
		{"after the last renewal", 320, pipeline.TokenNeverExpires},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tokenExpiryAt(gaps, tt.asOf); got != tt.want {
				t.Errorf("tokenExpiryAt(%v, %d) = %d, want %d", gaps, tt.asOf, got, tt.want)
			}
		})
	}
	if got := tokenExpiryAt(nil, 0); got != pipeline.TokenNeverExpires {
		t.Errorf("no gaps: expiry %d, want never", got)
	}
}

// wabaIndex maps the world's WABA ids to their indices.
func wabaIndex(w *World) map[string]int {
	index := map[string]int{}
	for i := range w.eng.wabas {
		index[w.eng.wabas[i].id] = i
	}
	return index
}

func TestTokenExpiries(t *testing.T) {
	tests := []struct {
		name   string
		config func() Config
	}{
		{"small", smallConfig},
		{"small, more WABAs", func() Config {
			c := smallConfig()
			c.WABAs, c.PhoneNumbers = 7, 8
			return c
		}},
		{"small, no plan", func() Config {
			c := smallConfig()
			c.PlanDays = 0
			return c
		}},
		{"small, other seed", func() Config {
			c := smallConfig()
			c.Seed = 7
			return c
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.config()
			w, err := Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			asOf, planEnd := cfg.asOf(), cfg.planEnd()
			tokens := w.TokenExpiries()
			index := wabaIndex(w)
			if len(tokens) != cfg.WABAs {
				t.Fatalf("%d tokens for %d WABAs", len(tokens), cfg.WABAs)
			}
			seen := map[string]bool{}
			for i, tok := range tokens {
				wb, ok := index[tok.WABAID]
				if !ok || seen[tok.WABAID] {
					t.Fatalf("row %d: WABA %q unknown or repeated", i, tok.WABAID)
				}
				seen[tok.WABAID] = true
				if i > 0 && tokens[i-1].WABAID >= tok.WABAID {
					t.Errorf("rows not ordered by WABA id at %d", i)
				}
				if tok.ExpiresAt == pipeline.TokenNeverExpires {
					t.Fatalf("WABA %d: token never expires; every simulated token does", wb)
				}
				if !w.eng.tokenExpired(wb, tok.ExpiresAt) {
					t.Errorf("WABA %d: token not expired at its expiry %s", wb, fmtMicros(tok.ExpiresAt))
				}
				if tok.ExpiresAt <= asOf {
					// Already expired: still so at as-of.
					if !w.eng.tokenExpired(wb, asOf) {
						t.Errorf("WABA %d: expiry %s is before as-of but the token is valid at as-of", wb, fmtMicros(tok.ExpiresAt))
					}
					continue
				}
				// Valid from as-of up to its expiry: no earlier expiry is left out.
				for _, at := range []int64{asOf, tok.ExpiresAt - 1} {
					if w.eng.tokenExpired(wb, at) {
						t.Errorf("WABA %d: token expired at %s, before its expiry %s", wb, fmtMicros(at), fmtMicros(tok.ExpiresAt))
					}
				}
				for _, g := range w.eng.wabas[wb].gaps {
					if g.from < tok.ExpiresAt && g.to > asOf {
						t.Errorf("WABA %d: gap [%s, %s) between as-of and the expiry %s", wb, fmtMicros(g.from), fmtMicros(g.to), fmtMicros(tok.ExpiresAt))
					}
				}
			}
			// WABA 0's token is scripted to expire during the plan (14 h
			// after as-of without a plan).
			waba0 := tokens[slices.IndexFunc(tokens, func(tok pipeline.TokenExpiry) bool { return index[tok.WABAID] == 0 })]
			end := planEnd
			if cfg.PlanDays == 0 {
				end = asOf + usDay
			}
			if waba0.ExpiresAt <= asOf || waba0.ExpiresAt >= end {
				t.Errorf("WABA 0's token expires at %s, want inside (%s, %s)", fmtMicros(waba0.ExpiresAt), fmtMicros(asOf), fmtMicros(end))
			}
			if again := w.TokenExpiries(); !slices.Equal(again, tokens) {
				t.Error("TokenExpiries is not stable")
			}
			w2, err := Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if again := w2.TokenExpiries(); !slices.Equal(again, tokens) {
				t.Error("same config, different token inventory")
			}
		})
	}
}

// TestTokenExpiriesDefaultWorld checks the demo world: WABA 0's token
// expires inside the plan window, and every plan send refused with 190 is
// scheduled at or after its WABA's expiry in the inventory.
func TestTokenExpiriesDefaultWorld(t *testing.T) {
	w, plan, outcomes := demoPlan(t)
	cfg := w.Config()
	index := wabaIndex(w)
	expiresAt := map[string]int64{}
	for _, tok := range w.TokenExpiries() {
		expiresAt[tok.WABAID] = tok.ExpiresAt
		if index[tok.WABAID] == 0 && (tok.ExpiresAt <= cfg.asOf() || tok.ExpiresAt >= cfg.planEnd()) {
			t.Errorf("WABA 0's token expires at %s, want inside the plan window (%s, %s)",
				fmtMicros(tok.ExpiresAt), fmtMicros(cfg.asOf()), fmtMicros(cfg.planEnd()))
		}
	}
	if len(expiresAt) != cfg.WABAs {
		t.Fatalf("%d tokens for %d WABAs", len(expiresAt), cfg.WABAs)
	}
	refused := 0
	for i, o := range outcomes {
		if o.ErrorCode != 190 {
			continue
		}
		refused++
		p := plan[i]
		exp, ok := expiresAt[p.WABAID]
		if !ok {
			t.Fatalf("send %s: WABA %q has no token row", p.SendID, p.WABAID)
		}
		if exp == pipeline.TokenNeverExpires || p.ScheduledAt < exp {
			t.Errorf("send %s refused with 190 at %s, before its WABA's token expires at %s",
				p.SendID, fmtMicros(p.ScheduledAt), fmtMicros(exp))
		}
	}
	if refused == 0 {
		t.Error("no plan send refused with 190: the scripted expiry of WABA 0 did not show")
	}
}
