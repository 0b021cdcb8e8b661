package simulate

import (
	"math"
	"testing"
)

// TestSenderHolds checks when the sender calls a campaign off at its
// start: only for an incident it has known of for its reaction time, and
// until a day after the incident is over; flows and scripted campaigns
// never.
func TestSenderHolds(t *testing.T) {
	e, err := newEngine(smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	const at = int64(1_800_000_000) * usSecond
	const never = int64(math.MaxInt64)
	tests := []struct {
		name       string
		checkAfter int64
		tpl        func(*template)
		gap        *interval
		want       bool
	}{
		{"no incident", 2 * usHour, func(*template) {}, nil, false},
		{"paused, known long enough", 2 * usHour, func(t *template) {
			t.pausedUntil, t.errorSince, t.errorAt = at+10*usHour, at-3*usHour, at-usHour
		}, nil, true},
		{"paused, not noticed yet", 2 * usHour, func(t *template) {
			t.pausedUntil, t.errorSince, t.errorAt = at+10*usHour, at-usHour, at-usHour
		}, nil, false},
		{"paused, never looks (flow)", never, func(t *template) {
			t.pausedUntil, t.errorSince, t.errorAt = at+10*usHour, at-30*usHour, at-usHour
		}, nil, false},
		{"scripted campaign", 0, func(t *template) {
			t.pausedUntil, t.errorSince, t.errorAt = at+10*usHour, at-30*usHour, at-usHour
		}, nil, false},
		{"pause over 2 h ago: waits a day", 2 * usHour, func(t *template) {
			t.pausedUntil, t.errorSince, t.errorAt = at-2*usHour, at-70*usHour, at-20*usHour
		}, nil, true},
		{"pause over 30 h ago", 2 * usHour, func(t *template) {
			t.pausedUntil, t.errorSince, t.errorAt = at-30*usHour, at-70*usHour, at-40*usHour
		}, nil, false},
		{"bug seen, not fixed", 2 * usHour, func(t *template) {
			t.bug, t.errorSince, t.errorAt = interval{at - 10*usHour, at + 5*usHour}, at-8*usHour, at-usHour
		}, nil, true},
		{"bug not failed yet", 2 * usHour, func(t *template) {
			t.bug, t.bugFix = interval{at - 10*usHour, math.MaxInt64}, 48*usHour
		}, nil, false},
		{"disabled", 2 * usHour, func(t *template) {
			t.disabledAt, t.errorSince, t.errorAt = at-5*usHour, at-5*usHour, at-4*usHour
		}, nil, true},
		{"token expired, known long enough", 2 * usHour, func(*template) {}, &interval{at - 3*usHour, at + usHour}, true},
		{"token expired, not noticed yet", 2 * usHour, func(*template) {}, &interval{at - usHour, at + usHour}, false},
		{"token expired, never looks", never, func(*template) {}, &interval{at - 3*usHour, at + usHour}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.clone()
			w.templates[0] = template{retiredAt: math.MaxInt64}
			tt.tpl(&w.templates[0])
			w.wabas[0].gaps = nil
			if tt.gap != nil {
				w.wabas[0].gaps = []interval{*tt.gap}
			}
			c := &campaign{waba: 0, template: 0, checkAfter: tt.checkAfter, watched: tt.checkAfter > 0 && tt.checkAfter < never}
			if got := w.holds(c, at); got != tt.want {
				t.Errorf("holds = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestBugFixReplacesVersion checks that a parameter bug lasts from the
// version's first failure until the sender's fix, which ships as a new
// version of the template.
func TestBugFixReplacesVersion(t *testing.T) {
	w, _ := demoWorld(t)
	e := w.eng
	bugs, fixed := 0, 0
	for i := range e.templates {
		tp := &e.templates[i]
		if tp.bugCode == 0 || i == e.scripted.buggyTemplate { // the scripted bug ends after as-of
			continue
		}
		bugs++
		if tp.bugFix > 0 {
			// Never failed: the bug waits for the first send.
			if tp.bug.to != math.MaxInt64 {
				t.Errorf("template %s: bug without a failure ends at %s", tp.name, fmtMicros(tp.bug.to))
			}
			continue
		}
		if d := tp.bug.to - tp.bug.from; d < 12*usHour {
			t.Errorf("template %s: bug lasts %.1f h, want the fix at least 12 h after the first failure", tp.name, float64(d)/float64(usHour))
		}
		if tp.bug.to < e.asOf {
			fixed++
			// Retired by the fix's new version, or earlier by another one.
			if tp.retiredAt > tp.bug.to {
				t.Errorf("template %s: fixed at %s but still used until %s", tp.name, fmtMicros(tp.bug.to), fmtMicros(tp.retiredAt))
			}
		}
	}
	if bugs < 3 || fixed == 0 {
		t.Errorf("%d buggy versions, %d fixed in the history; want several", bugs, fixed)
	}
}
