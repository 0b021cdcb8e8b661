package calibrate

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFamilyWeightMap(t *testing.T) {
	tests := []struct {
		name             string
		expected, actual float64
		want             float64 // the factor on a small probability
	}{
		{"over-forecast", 380, 80, 100.0 / 400},
		{"shrunk toward 1", 100, 60, 80.0 / 120},
		{"floor", 1000, 0, MinFamilyWeight},
		{"never above 1", 50, 500, 1},
	}
	for _, tc := range tests {
		m := FamilyWeightMap(tc.expected, tc.actual)
		if got := m.Apply(1e-4) / 1e-4; math.Abs(got-tc.want) > 1e-3 {
			t.Errorf("%s: FamilyWeightMap(%v, %v) scales 1e-4 by %v, want %v", tc.name, tc.expected, tc.actual, got, tc.want)
		}
	}
	if FamilyWeightMap(50, 500) != Identity {
		t.Error("an under-forecast class must keep the identity")
	}
}

// TestFitFamilyMap: with enough failures the map has a slope: a class
// whose low probabilities never fail and whose high ones are right keeps
// the high ones and loses the low ones. With few, a constant factor; with
// almost none either way, the identity.
func TestFitFamilyMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var p []float64
	var y []bool
	for i := 0; i < 20000; i++ {
		if i%20 == 0 {
			p, y = append(p, 0.4), append(y, rng.Float64() < 0.4)
		} else {
			p, y = append(p, 0.03), append(y, false)
		}
	}
	m, err := FitFamilyMap(p, y)
	if err != nil {
		t.Fatal(err)
	}
	fm := FamilyMaps{Identity, m}
	if q := fm.ApplyClass(1, 0.4); q < 0.3 {
		t.Errorf("map %+v takes 0.4 to %.3f, want at least 0.3", m, q)
	}
	if q := fm.ApplyClass(1, 0.03); q > 0.01 {
		t.Errorf("map %+v takes 0.03 to %.4f, want at most 0.01", m, q)
	}
	few := make([]bool, len(p)) // no failure at all: too few to fit a slope
	if m, err := FitFamilyMap(p, few); err != nil || m.A != 1 || !(m.B < 0) {
		t.Errorf("no failures: %+v, %v; want the intercept-only map", m, err)
	}
	if m, _ := FitFamilyMap([]float64{0.01, 0.02}, []bool{false, true}); m != Identity {
		t.Errorf("almost no mass: %+v, want the identity", m)
	}
}

func TestFamilyMapsApply(t *testing.T) {
	half := Platt{A: 1, B: math.Log(0.5)} // about p/2 for small p
	m := FamilyMaps{Identity, half, {}}
	got := m.Apply(0.01, []float64{0.9, 0.05, 0.05})
	if want := 0.005 + half.Apply(0.005); math.Abs(got-want) > 1e-12 {
		t.Errorf("Apply = %v, want %v", got, want)
	}
	if got := m.Apply(0.4, []float64{1, 0, 0}); got != 0.4 {
		t.Errorf("no split: %v, want 0.4", got)
	}
	if got := FamilyMaps(nil).Apply(0.4, []float64{0, 1, 0}); got != 0.4 {
		t.Errorf("nil maps: %v", got)
	}
	up := FamilyMaps{Identity, {A: 1, B: 2}} // a map above the identity never raises
	if got := up.ApplyClass(1, 0.1); got != 0.1 {
		t.Errorf("a map above the identity raised 0.1 to %v", got)
	}
	if m.Map(2) != Identity || m.Map(7) != Identity || m.Map(0) != Identity {
		t.Error("an unset class must map as the identity")
	}
	if (FamilyMaps{Identity, {A: -1}}).Valid() == nil {
		t.Error("a decreasing map passed Valid")
	}
	if !(FamilyMaps{Identity, Identity, {}}).Identity() || m.Identity() {
		t.Error("Identity")
	}
}
