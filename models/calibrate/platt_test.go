package calibrate

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
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
