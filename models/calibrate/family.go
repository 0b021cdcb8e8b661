package calibrate

import (
	"errors"
	"fmt"
	"math"
)

// FamilyMaps calibrate a model's probability of failing with each class:
// P'(fail with c) = min(P, M[c].Apply(P)) for P = P(fail with c), classes
// c >= 1, and P'(fail) is their sum (class 0, no failure, takes the rest).
// The family model's split P(c | fail) and P(fail) give
// P(fail with c) = P(fail) P(c | fail). A map only takes probability away
// (the min): a class the model spreads thinly over sends that do not fail
// with it loses that mass, while its confident probabilities, which a map
// steeper than the identity (A > 1) keeps, stay. A nil or empty FamilyMaps
// is the identity; a class past its end, or with the zero Platt, keeps its
// probability.
type FamilyMaps []Platt

// MinFamilyWeight is the smallest factor the intercept-only map of a class
// with few failures (FamilyWeightMap) scales its probability by.
const MinFamilyWeight = 0.25

// FamilyPseudoCount shrinks an intercept-only map toward the identity: its
// factor is (actual + k) / (expected + k).
const FamilyPseudoCount = 20.0

// MinFamilyFailures is the fewest failures (actual or expected) of a class
// in the fitting rows for FitFamilyMap to move it off the identity.
const MinFamilyFailures = 30

// Map returns the map of class c (Identity when M does not set one).
func (m FamilyMaps) Map(c int) Platt {
	if c <= 0 || c >= len(m) || m[c] == (Platt{}) {
		return Identity
	}
	return m[c]
}

// Identity reports whether m changes nothing.
func (m FamilyMaps) Identity() bool {
	for c := 1; c < len(m); c++ {
		if m.Map(c) != Identity {
			return false
		}
	}
	return true
}

// Valid reports whether every map of a class c >= 1 is monotone
// increasing and finite (the zero Platt stands for the identity).
func (m FamilyMaps) Valid() error {
	for c := 1; c < len(m); c++ {
		if err := m.Map(c).Valid(); err != nil {
			return fmt.Errorf("class %d: %w", c, err)
		}
	}
	return nil
}

// ApplyClass returns the calibrated probability of class c for its
// probability p: min(p, M[c].Apply(p)).
func (m FamilyMaps) ApplyClass(c int, p float64) float64 {
	mp := m.Map(c)
	if mp == Identity {
		return p
	}
	return math.Min(p, mp.Apply(p))
}

// Apply returns P'(fail) of a row with P(fail) pFail and family split
// cond (P(class c | fail) for c >= 1, any scale; cond[0] is ignored): the
// sum of the classes' calibrated probabilities. A row whose split has no
// mass keeps pFail.
func (m FamilyMaps) Apply(pFail float64, cond []float64) float64 {
	if len(m) == 0 {
		return pFail
	}
	mass := 0.0
	for c := 1; c < len(cond); c++ {
		mass += cond[c]
	}
	if !(mass > 0) {
		return pFail
	}
	out := 0.0
	for c := 1; c < len(cond); c++ {
		out += m.ApplyClass(c, pFail*cond[c]/mass)
	}
	return out
}

// FamilyWeightMap is the intercept-only map of a class with expected
// failures (its summed probability over the fitting rows) and actual
// failures, too few to fit a slope: sigmoid(logit(p) + log(w)), about w*p
// for small p, with w = (actual + FamilyPseudoCount) / (expected +
// FamilyPseudoCount) within [MinFamilyWeight, 1].
func FamilyWeightMap(expected, actual float64) Platt {
	w := math.Min(math.Max((actual+FamilyPseudoCount)/(expected+FamilyPseudoCount), MinFamilyWeight), 1)
	if w == 1 || math.IsNaN(w) {
		return Identity
	}
	return Platt{A: 1, B: math.Log(w)}
}

// FitFamilyMap fits the map of one class on its probabilities p (P(fail
// with the class)) and labels (failed with the class): a Platt map
// (FitPlatt) when there are at least MinPositives failures, else the
// intercept-only FamilyWeightMap; the identity when both the failures
// and the summed probability are below MinFamilyFailures.
func FitFamilyMap(p []float64, labels []bool) (Platt, error) {
	if len(p) != len(labels) {
		return Platt{}, fmt.Errorf("calibrate: %d probabilities for %d labels", len(p), len(labels))
	}
	expected, actual := 0.0, 0.0
	for i, v := range p {
		expected += v
		if labels[i] {
			actual++
		}
	}
	if expected < MinFamilyFailures && actual < MinFamilyFailures {
		return Identity, nil
	}
	m, err := FitPlatt(p, labels)
	if errors.Is(err, ErrTooFew) {
		return FamilyWeightMap(expected, actual), nil
	}
	return m, err
}
