package calibrate

import (
	"errors"
	"fmt"
	"math"
)

// FamilyWeights reweight a family model's P(class | fail): the
// recalibrated split is P'(c | fail) = W[c] P(c | fail) / sum over c' >= 1
// of W[c'] P(c' | fail), for classes c >= 1 (class 0, no failure, is not
// reweighted). It moves failure mass between the classes and leaves
// P(fail) alone: it is the family split's calibration, as Platt is
// P(fail)'s. A nil or empty FamilyWeights is the identity; a class past
// the end of W keeps weight 1.
type FamilyWeights []float64

// Limits of a fitted weight: a class's share moves by at most this factor
// either way, whatever one window's counts say.
const (
	MaxFamilyWeight = 4.0
	MinFamilyWeight = 1 / MaxFamilyWeight
)

// MinFamilyFailures is the fewest failures (actual or expected) of a class
// in the fitting window for FitFamilyWeights to give it a weight of its
// own; a rarer class keeps weight 1.
const MinFamilyFailures = 30

// FamilyPseudoCount shrinks a weight toward 1: the fit matches
// (actual + k) / (expected + k) rather than actual / expected, so that a
// class with few failures moves less than its counts say.
const FamilyPseudoCount = 20.0

// Weight returns the weight of class c (1 when W does not set it).
func (w FamilyWeights) Weight(c int) float64 {
	if c <= 0 || c >= len(w) {
		return 1
	}
	return w[c]
}

// Identity reports whether w changes nothing.
func (w FamilyWeights) Identity() bool {
	for c := 1; c < len(w); c++ {
		if w[c] != 1 {
			return false
		}
	}
	return true
}

// Valid reports whether every weight of a class c >= 1 is finite and
// positive.
func (w FamilyWeights) Valid() error {
	for c := 1; c < len(w); c++ {
		if !(w[c] > 0) || math.IsInf(w[c], 0) {
			return fmt.Errorf("calibrate: family weight %d is %g, want a finite positive number", c, w[c])
		}
	}
	return nil
}

// Apply reweights row in place: row[c] for c >= 1 is P(class c | fail)
// or P(fail with class c) (any scale); their sum is kept, so a row of
// unconditional probabilities still sums to P(fail). row[0] is left as it
// is. A row whose reweighted mass is 0 is left as it is.
func (w FamilyWeights) Apply(row []float64) {
	if len(w) == 0 {
		return
	}
	before, after := 0.0, 0.0
	for c := 1; c < len(row); c++ {
		before += row[c]
		after += w.Weight(c) * row[c]
	}
	if !(after > 0) || !(before > 0) {
		return
	}
	k := before / after
	for c := 1; c < len(row); c++ {
		row[c] *= w.Weight(c) * k
	}
}

// ErrNoFamilies is returned (wrapped) by FitFamilyWeights when no class
// has enough failures to be weighted.
var ErrNoFamilies = errors.New("calibrate: no family has enough failures to fit a weight")

// FitFamilyWeights fits one weight per class so that the expected
// failures of every class match its actual failures, in proportion:
// expected(w)[c] is the summed P(fail with class c) of the fitting rows
// under weights w (the caller's whole pipeline, mechanisms included), and
// actual[c] the rows' failures of class c. Only the split is fitted: the
// targets are the actual counts scaled to the expected total, so a P(fail)
// that over- or under-forecasts every class alike leaves the weights at 1.
// Classes with fewer than MinFamilyFailures failures, actual and
// expected, keep weight 1, and so do the classes fixed names (nil: none;
// a class c >= len(fixed) is not fixed); the others are fitted by
// iterative proportional fitting with FamilyPseudoCount and clamped to
// [MinFamilyWeight, MaxFamilyWeight].
func FitFamilyWeights(classes int, expected func(FamilyWeights) []float64, actual []float64, fixed []bool) (FamilyWeights, error) {
	if len(actual) != classes {
		return nil, fmt.Errorf("calibrate: %d actual counts for %d classes", len(actual), classes)
	}
	w := make(FamilyWeights, classes)
	for c := range w {
		w[c] = 1
	}
	e := expected(w)
	if len(e) != classes {
		return nil, fmt.Errorf("calibrate: %d expected counts for %d classes", len(e), classes)
	}
	free := make([]bool, classes)
	n := 0
	for c := 1; c < classes; c++ {
		if c < len(fixed) && fixed[c] {
			continue
		}
		if actual[c] >= MinFamilyFailures || e[c] >= MinFamilyFailures {
			free[c] = true
			n++
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("%w (none with at least %d failures)", ErrNoFamilies, MinFamilyFailures)
	}
	for iter := 0; iter < 200; iter++ {
		totE, totA := 0.0, 0.0
		for c := 1; c < classes; c++ {
			totE += e[c]
			totA += actual[c]
		}
		if !(totE > 0) || !(totA > 0) {
			return nil, fmt.Errorf("calibrate: %g expected and %g actual failures, want both positive", totE, totA)
		}
		moved := 0.0
		for c := 1; c < classes; c++ {
			if !free[c] {
				continue
			}
			target := actual[c] * totE / totA
			nw := w[c] * (target + FamilyPseudoCount) / (e[c] + FamilyPseudoCount)
			nw = math.Min(math.Max(nw, MinFamilyWeight), MaxFamilyWeight)
			moved = math.Max(moved, math.Abs(math.Log(nw/w[c])))
			w[c] = nw
		}
		e = expected(w)
		if moved < 1e-4 {
			break
		}
	}
	if err := w.Valid(); err != nil {
		return nil, err
	}
	return w, nil
}
