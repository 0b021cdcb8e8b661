package calibrate

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// draw returns n rows whose true probability is sigmoid(a*logit(s)+b) for
// a score s uniform in (0, 1): a miscalibrated model with a known map.
func draw(n int, a, b float64, seed uint64) ([]float64, []bool) {
	rng := rand.New(rand.NewPCG(seed, 1))
	scores := make([]float64, n)
	labels := make([]bool, n)
	for i := range scores {
		s := 0.01 + 0.98*rng.Float64()
		scores[i] = s
		labels[i] = rng.Float64() < sigmoid(a*logit(s)+b)
	}
	return scores, labels
}

func TestFitPlattRecoversMap(t *testing.T) {
	tests := []struct {
		name string
		a, b float64
	}{
		{"calibrated", 1, 0},
		{"under-forecast", 1.2, 0.8},
		{"over-confident", 0.6, -0.3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			scores, labels := draw(40000, tc.a, tc.b, 7)
			c, err := FitPlatt(scores, labels)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(c.A-tc.a) > 0.06 || math.Abs(c.B-tc.b) > 0.06 {
				t.Errorf("fitted a=%.3f b=%.3f, want about a=%g b=%g", c.A, c.B, tc.a, tc.b)
			}
			// Calibration in the large: the mean of the mapped scores is the
			// observed rate.
			sum, pos := 0.0, 0
			for i, s := range scores {
				sum += c.Apply(s)
				if labels[i] {
					pos++
				}
			}
			if got, want := sum/float64(len(scores)), float64(pos)/float64(len(scores)); math.Abs(got-want) > 0.005 {
				t.Errorf("mean calibrated p %.4f, observed rate %.4f", got, want)
			}
		})
	}
}

func TestFitPlattTooFew(t *testing.T) {
	scores := []float64{0.1, 0.2, 0.9}
	labels := []bool{false, false, true}
	if _, err := FitPlatt(scores, labels); !errors.Is(err, ErrTooFew) {
		t.Fatalf("err = %v, want ErrTooFew", err)
	}
	if _, err := FitPlatt([]float64{0.5, math.NaN()}, []bool{true, false}); err == nil {
		t.Fatal("NaN score accepted")
	}
}

func TestPlattMonotoneAndIdentity(t *testing.T) {
	c := Platt{A: 1.3, B: 0.7}
	prev := -1.0
	for _, p := range []float64{0, 1e-9, 0.01, 0.2, 0.5, 0.8, 0.99, 1} {
		v := c.Apply(p)
		if v < prev || v < 0 || v > 1 {
			t.Fatalf("Apply(%g) = %g after %g: not a monotone probability", p, v, prev)
		}
		prev = v
		if got := Identity.Apply(p); math.Abs(got-math.Min(math.Max(p, eps), 1-eps)) > 1e-12 {
			t.Fatalf("Identity.Apply(%g) = %g", p, got)
		}
	}
	if (Platt{A: -1}).Valid() == nil || (Platt{}).Valid() == nil {
		t.Fatal("a non-increasing map is valid")
	}
}

func ExampleFitPlatt() {
	// A model that says 0.1 where one in five fails, and 0.5 where four in five do.
	var scores []float64
	var labels []bool
	for i := range 100 {
		scores = append(scores, 0.1, 0.5)
		labels = append(labels, i%5 == 0, i%5 != 0)
	}
	c, _ := FitPlatt(scores, labels)
	fmt.Printf("0.1 -> %.2f, 0.5 -> %.2f (Platt's smoothed targets pull a little toward 0.5)\n", c.Apply(0.1), c.Apply(0.5))
	// Output: 0.1 -> 0.21, 0.5 -> 0.79 (Platt's smoothed targets pull a little toward 0.5)
}

// TestFitPlattOuterKnownCause: a calibrated model, and a known cause that
// fails a share of some rows on its own (what scoring adds to the model's
// probability). A map fitted on the scores alone takes the cause's
// failures for the model's and lifts every row: the combined probability
// then over-forecasts. Fitted through the outer map it stays about the
// identity, and the combined probabilities sum to the failures.
func TestFitPlattOuterKnownCause(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	const n = 60000
	scores := make([]float64, n)
	labels := make([]bool, n)
	outer := make([]Outer, n)
	for i := range scores {
		p := 0.02 + 0.2*rng.Float64()*rng.Float64()
		scores[i] = p
		outer[i] = IdentityOuter
		switch {
		case i%5 == 0: // a mechanism failing 60% of the row's sends, the model's causes still apply
			outer[i] = Outer{C: 0.6, D: 0.4}
		case i%7 == 0: // a certain one (a closed window)
			outer[i] = Outer{C: 1, D: 0}
		}
		labels[i] = rng.Float64() < outer[i].Apply(p)
	}
	sumWith := func(c Platt) (expected, actual float64) {
		for i, s := range scores {
			expected += outer[i].Apply(c.Apply(s))
			if labels[i] {
				actual++
			}
		}
		return expected, actual
	}
	naive, err := FitPlatt(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	fit, err := FitPlattOuter(scores, labels, outer)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(fit.A-1) > 0.1 || math.Abs(fit.B) > 0.25 {
		t.Errorf("fitted through the outer map a=%.3f b=%.3f, want about the identity", fit.A, fit.B)
	}
	e, a := sumWith(fit)
	if math.Abs(e/a-1) > 0.02 {
		t.Errorf("combined expected failures %.0f, actual %.0f: want within 2%%", e, a)
	}
	if e, a := sumWith(naive); !(e/a-1 > 0.15) {
		t.Errorf("the map fitted on the scores alone gives %.0f expected for %.0f actual: the test no longer shows the double count", e, a)
	}
	if _, err := FitPlattOuter(scores, labels, outer[:3]); err == nil {
		t.Error("outer maps of another length accepted")
	}
	bad := slices.Clone(outer)
	bad[0] = Outer{C: 0.7, D: 0.7}
	if _, err := FitPlattOuter(scores, labels, bad); err == nil {
		t.Error("an outer map above 1 accepted")
	}
}
