package stats

import (
	"math"
	"testing"
)

func TestSpread(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name           string
		vs             []float64
		median, lo, hi float64
		n              int
	}{
		{"odd count", []float64{3, 1, 2}, 2, 1, 3, 3},
		{"even count: the middle two's mean", []float64{4, 1, 3, 2}, 2.5, 1, 4, 4},
		{"NaN and Inf left out", []float64{nan, 5, inf, 1}, 3, 1, 5, 2},
		{"one value", []float64{7}, 7, 7, 7, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, lo, hi, n := Spread(tt.vs)
			if m != tt.median || lo != tt.lo || hi != tt.hi || n != tt.n {
				t.Fatalf("Spread(%v) = %v, %v, %v, %d; want %v, %v, %v, %d", tt.vs, m, lo, hi, n, tt.median, tt.lo, tt.hi, tt.n)
			}
		})
	}
	if m, lo, hi, n := Spread([]float64{nan}); !math.IsNaN(m) || !math.IsNaN(lo) || !math.IsNaN(hi) || n != 0 {
		t.Fatalf("Spread(NaN) = %v, %v, %v, %d; want NaN, NaN, NaN, 0", m, lo, hi, n)
	}
}
