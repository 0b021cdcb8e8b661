package calibrate

import (
	"math"
	"testing"
)

func TestFitFamilyWeight(t *testing.T) {
	tests := []struct {
		name             string
		expected, actual float64
		want             float64
	}{
		{"over-forecast", 380, 80, 100.0 / 400},
		{"shrunk toward 1", 100, 60, 80.0 / 120},
		{"floor", 1000, 0, MinFamilyWeight},
		{"never above 1", 50, 500, 1},
		{"too few failures", 25, 5, 1},
	}
	for _, tc := range tests {
		if got := FitFamilyWeight(tc.expected, tc.actual); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: FitFamilyWeight(%v, %v) = %v, want %v", tc.name, tc.expected, tc.actual, got, tc.want)
		}
	}
}

func TestFamilyWeightsApply(t *testing.T) {
	w := FamilyWeights{1, 0.5, 1}
	if got := w.Apply(0.4, []float64{0.9, 0.05, 0.05}); math.Abs(got-0.3) > 1e-12 {
		t.Errorf("Apply = %v, want 0.3 (half of class 1's half taken away)", got)
	}
	if got := w.Apply(0.4, []float64{1, 0, 0}); got != 0.4 {
		t.Errorf("no split: %v, want 0.4", got)
	}
	if got := FamilyWeights(nil).Apply(0.4, []float64{0, 1, 0}); got != 0.4 {
		t.Errorf("nil weights: %v", got)
	}
	if w.Weight(7) != 1 || w.Weight(0) != 1 {
		t.Error("a class past the weights or class 0 must weigh 1")
	}
	if (FamilyWeights{1, 1.5}).Valid() == nil || (FamilyWeights{1, 0}).Valid() == nil || (FamilyWeights{1, math.NaN()}).Valid() == nil {
		t.Error("a weight outside (0, 1] passed Valid")
	}
	if !(FamilyWeights{1, 1}).Identity() || w.Identity() {
		t.Error("Identity")
	}
}
