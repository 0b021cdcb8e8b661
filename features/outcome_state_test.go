package features

import (
	"math"
	"testing"
	"time"
)

func TestExpNeg(t *testing.T) {
	for _, x := range []float64{0, 1e-9, 1e-6, 5e-4, 9.99e-4, 1e-3, 0.5, 3, 40} {
		got, want := expNeg(x), math.Exp(-x)
		if math.Abs(got-want) > 1e-12*want {
			t.Errorf("expNeg(%g) = %.17g, want %.17g", x, got, want)
		}
	}
}

func TestTierOf(t *testing.T) {
	tests := []struct {
		reached int32
		want    float32
	}{{0, 250}, {250, 250}, {251, 2000}, {2000, 2000}, {9999, 10000}, {100000, 100000}, {100001, UnlimitedTier}}
	for _, tc := range tests {
		if got := tierOf(tc.reached); got != tc.want {
			t.Errorf("tierOf(%d) = %v, want %v", tc.reached, got, tc.want)
		}
	}
}

func TestHourAndWeekday(t *testing.T) {
	for _, us := range []int64{0, 1, -1, day0, day0 + 13*usPerHour + 59*60*usPerSec, -usPerDay*3 - 5, -usPerSec, 1<<52 + 12345, -(1 << 52), 86399*usPerSec + 999999} {
		tm := time.UnixMicro(us).UTC()
		h, w := hourAndWeekday(us)
		if h != int64(tm.Hour()) || w != int64(tm.Weekday()) {
			t.Errorf("hourAndWeekday(%d) = %d, %d; want %d, %d (%s)", us, h, w, tm.Hour(), tm.Weekday(), tm)
		}
	}
}

// TestDecayFactors checks the factors made from one exponential against
// exp(-dt/tau) for each time constant, to float32 precision.
func TestDecayFactors(t *testing.T) {
	for _, dt := range []float64{0, 1e-3, 0.5, 1, 7, 59, 3600, 4000, 86400, 3 * 86400, 7 * 86400, 30 * 86400, 200 * 86400, 5000 * 86400} {
		for _, tc := range []struct {
			name string
			tau  *[3]float64
			f    func(float64) [3]float32
		}{{"recipient", &recipTau, recipFactors}, {"group", &groupTau, groupFactorsOf}} {
			got := tc.f(dt)
			for i, tau := range tc.tau {
				want := math.Exp(-dt / tau)
				if d := math.Abs(float64(got[i]) - want); d > 1e-7*want && d > 1e-38 {
					t.Errorf("%s factor %d at dt %g s = %.9g, want %.9g", tc.name, i, dt, got[i], want)
				}
			}
		}
	}
}
