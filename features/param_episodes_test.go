package features

import (
	"math"
	"testing"
)

// TestParamEpisodes: a template's parameter errors persist at a send as
// long as the sender's own earlier episodes lasted; a template fixed
// (enough clean sends) persists no more. Before the episodes, the
// template_params mechanism took a template failing at the cutoff to
// fail at the same rate for the whole plan.
func TestParamEpisodes(t *testing.T) {
	const h = usPerHour
	// history plays: ended episodes of the given length, each of one
	// template with an error every hour and 9 clean sends per error (a
	// rate of 0.1: 30 clean sends end an episode), then 40 clean sends.
	history := func(p *paramEpisodes, lengths ...int) {
		for i, n := range lengths {
			tpl := int32(100 + i)
			for e := 0; e <= n; e++ {
				p.fail(tpl, int64(e)*h+1)
				for range 9 {
					p.send(tpl, 0.1)
				}
			}
			for range 40 {
				p.send(tpl, 0.1)
			}
		}
	}
	six := []int{6, 6, 6, 6, 6, 6, 6, 6, 6, 6}
	tests := []struct {
		name        string
		ended       []int
		ongoing     []int64 // other templates' episodes still going, from their first to their last error, hours
		first, last int64   // the ongoing episode of template 1, hours
		at          int64   // the send, hours
		want        float64
	}{
		{"at the last error", six, nil, 0, 2, 2, 1},
		{"prior alone, a day on", nil, nil, 0, 0, 24, math.Exp(-1)},
		{"episodes of 6 h, 10 h after the last error", six, nil,
			0, 2, 12, (2 * math.Exp(-12.0/24)) / (10 + 2*math.Exp(-2.0/24))},
		{"episodes of 6 h, 2 h after the last error", six, nil,
			0, 2, 4, (10 + 2*math.Exp(-4.0/24)) / (10 + 2*math.Exp(-2.0/24))},
		// Two episodes ended after 6 h, two others are still going after
		// 30 h: Kaplan-Meier S(6) = 1/2 (2 deaths of 4 at risk), not 0.
		{"long episodes not ended yet", []int{6, 6}, []int64{30, 30},
			0, 2, 12, (2*0.5 + 2*math.Exp(-12.0/24)) / (2 + 2*math.Exp(-2.0/24))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p paramEpisodes
			history(&p, tc.ended...)
			if len(p.ended) != len(tc.ended) {
				t.Fatalf("%d episodes ended, want %d", len(p.ended), len(tc.ended))
			}
			const t0 = 1000 * h // time 0 means none
			for i, d := range tc.ongoing {
				p.fail(int32(200+i), t0-d*h)
				p.fail(int32(200+i), t0)
			}
			p.fail(1, t0+tc.first*h)
			p.fail(1, t0+tc.last*h)
			got := float64(p.persist(1, t0+tc.at*h))
			if math.Abs(got-tc.want) > 1e-6 {
				t.Fatalf("persist %.6f, want %.6f", got, tc.want)
			}
		})
	}
	t.Run("fixed", func(t *testing.T) {
		var p paramEpisodes
		p.fail(1, h)
		for range 29 { // a rate of 0.1: 30 clean sends end it
			p.send(1, 0.1)
		}
		if p.persist(1, 2*h) == 0 {
			t.Fatal("the episode ended after 29 clean sends")
		}
		for range 1 {
			p.send(1, 0.1)
		}
		if got := p.persist(1, 2*h); got != 0 || len(p.ended) != 1 {
			t.Fatalf("after 30 clean sends: persist %v, %d ended; want 0 and 1", got, len(p.ended))
		}
		if got := p.persist(2, 2*h); got != 0 {
			t.Fatalf("a template without errors: persist %v", got)
		}
	})
}
