package calibrate

import (
	"fmt"
	"math"
)

// FamilyWeights scale a model's probability of failing with each class:
// P'(fail with c) = W[c] P(fail with c) for classes c >= 1, and P'(fail)
// is their sum (class 0, no failure, takes the rest). The family model's
// split P(c | fail) and P(fail) give P(fail with c) = P(fail) P(c | fail);
// a weight below 1 takes part of class c's probability away from every
// row, and so from P(fail). A nil or empty FamilyWeights is the identity;
// a class past the end of W keeps weight 1.
type FamilyWeights []float64

// Limits of a fitted weight (FitFamilyWeight): a class's probability
// drops by at most this factor. Weights above 1 are not fitted.
const MinFamilyWeight = 0.25

// MinFamilyFailures is the fewest failures (actual or expected) of a class
// in the fitting rows for FitFamilyWeight to move its weight off 1.
const MinFamilyFailures = 30

// FamilyPseudoCount shrinks a weight toward 1: FitFamilyWeight is
// (actual + k) / (expected + k), so that a class with few failures moves
// less than its counts say.
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

// Valid reports whether every weight of a class c >= 1 is within
// (0, 1]: a weight only takes probability away (a larger one could make
// P'(fail) exceed 1).
func (w FamilyWeights) Valid() error {
	for c := 1; c < len(w); c++ {
		if !(w[c] > 0 && w[c] <= 1) {
			return fmt.Errorf("calibrate: family weight %d is %g, want a number in (0, 1]", c, w[c])
		}
	}
	return nil
}

// Apply returns P'(fail) of a row with P(fail) pFail and family split
// cond (P(class c | fail) for c >= 1, any scale; cond[0] is ignored):
// pFail times the weighted mean of the weights over the split. A row
// whose split has no mass keeps pFail.
func (w FamilyWeights) Apply(pFail float64, cond []float64) float64 {
	if len(w) == 0 {
		return pFail
	}
	mass, weighted := 0.0, 0.0
	for c := 1; c < len(cond); c++ {
		mass += cond[c]
		weighted += w.Weight(c) * cond[c]
	}
	if !(mass > 0) {
		return pFail
	}
	return pFail * weighted / mass
}

// FitFamilyWeight is the weight of a class with expected failures
// (its summed probability over the fitting rows) and actual failures:
// (actual + FamilyPseudoCount) / (expected + FamilyPseudoCount), within
// [MinFamilyWeight, 1]; 1 when both are below MinFamilyFailures.
func FitFamilyWeight(expected, actual float64) float64 {
	if math.IsNaN(expected) || math.IsNaN(actual) || (expected < MinFamilyFailures && actual < MinFamilyFailures) {
		return 1
	}
	return math.Min(math.Max((actual+FamilyPseudoCount)/(expected+FamilyPseudoCount), MinFamilyWeight), 1)
}
