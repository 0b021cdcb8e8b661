package features

import (
	"math"
	"testing"
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
