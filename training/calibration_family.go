package training

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/failcast/failcast/features/mechanism"
	"github.com/failcast/failcast/models/calibrate"
	"github.com/failcast/failcast/pipeline"
)

// familyCalibration is the calibration of the family split: one weight
// per family on the family model's P(family | fail)
// (calibrate.FamilyWeights), fitted on the validation window so that
// scoring's expected failures per family (the model's split of the
// calibrated P(fail), combined with the known mechanisms) match the
// window's, in proportion.
//
// The family model learns the split of the training window's failures.
// Where a known mechanism explains a family on the plan (the tier limit
// for quality, the throughput for throttle), scoring replaces the model's
// probability of that family on the sends the mechanism touches, but the
// model still spreads that family's probability thinly over every other
// send, where it learned it from the sends the mechanism explained in
// training: summed over a plan, that thin mass over-forecasts the family.
// The weights take it off where the validation window shows it.
//
// Kept only when it helps out of time, like the Platt map: weights fitted
// on the first half of the validation window (by time) must bring the
// second half's expected failures of a family closer to its actual
// failures; only the families for which they do are weighted (the others
// keep weight 1), refitted on the whole window.
type familyCalibration struct {
	kept    bool
	weights calibrate.FamilyWeights
	rows    int    // validation rows fitted on (no rule decides them)
	note    string // for the report
	// On the fitted rows: failures per family, and scoring's expected
	// failures without and with the weights.
	actual, before, after []float64
	check                 familyCheck
}

// familyCheck is the out-of-time check of the family weights.
type familyCheck struct {
	done                  bool
	fitRows, testRows     int
	weights               calibrate.FamilyWeights // fitted on the first half
	actual, without, with []float64               // on the second half, per family
	helped                []bool                  // per family: with is closer to actual than without
	reason                string                  // why it was not done
}

// familyExpected sums, over rows, scoring's P(fail with family f) under
// family weights w: the calibrated P(fail) q split by the family model
// (split: any scale per row), reweighted, then combined with the row's
// mechanisms (mechanism.Combine), as the Scorer does.
func familyExpected(rows []int, q []float64, split [][]float64, shares []mechanism.Shares, w calibrate.FamilyWeights) []float64 {
	out := make([]float64, pipeline.NumFamilies)
	for _, k := range rows {
		pf := q[k]
		var fam [pipeline.NumFamilies]float64
		copy(fam[1:], split[k][min(1, len(split[k])):])
		w.Apply(fam[:])
		mass := 0.0
		for f := 1; f < len(fam); f++ {
			mass += fam[f]
		}
		for f := 1; f < len(fam); f++ {
			if mass > 0 {
				fam[f] *= pf / mass
			}
		}
		fam[0] = 1 - pf
		mechanism.Combine(&pf, &fam, &shares[k])
		for f := 1; f < len(fam); f++ {
			out[f] += fam[f]
		}
	}
	return out
}

// familyActual counts the failures of rows per family.
func familyActual(s *Tables, rows []int) []float64 {
	out := make([]float64, pipeline.NumFamilies)
	for _, k := range rows {
		i := s.Valid[k]
		if s.ValidLabels[k] && int(s.Table.Family[i]) < len(out) {
			out[s.Table.Family[i]]++
		}
	}
	return out
}

// calibrateFamily fits the family weights on the validation rows no rule
// decides (familyCalibration). q is the calibrated P(fail) of every
// validation row (the model's through the Platt map, when kept), split
// its family split (nil: no family head, nothing to fit), ruled and
// shares from validationShares.
func (t *trainer) calibrateFamily(s *Tables, q []float64, split [][]float64, ruled []bool, shares []mechanism.Shares) familyCalibration {
	var fc familyCalibration
	if split == nil || len(split) != len(q) || len(s.Table.Family) != s.Table.Rows {
		fc.note = "No family calibration: no family split on the validation window."
		return fc
	}
	var rows []int
	for k := range q {
		if !ruled[k] {
			rows = append(rows, k)
		}
	}
	fc.rows = len(rows)
	fc.actual = familyActual(s, rows)
	fc.before = familyExpected(rows, q, split, shares, nil)
	fc.after = fc.before
	fit := func(rows []int, fixed []bool) (calibrate.FamilyWeights, error) {
		return calibrate.FitFamilyWeights(pipeline.NumFamilies, func(w calibrate.FamilyWeights) []float64 {
			return familyExpected(rows, q, split, shares, w)
		}, familyActual(s, rows), fixed)
	}
	fc.check = t.checkFamilyOutOfTime(s, rows, q, split, shares, fit)
	if !fc.check.done {
		fc.note = "No family calibration: " + fc.check.reason + "."
		t.log.Info("no family calibration", "reason", fc.check.reason)
		return fc
	}
	fixed := make([]bool, pipeline.NumFamilies)
	helpedAny := false
	for f := 1; f < pipeline.NumFamilies; f++ {
		fixed[f] = !fc.check.helped[f]
		helpedAny = helpedAny || fc.check.helped[f]
	}
	if !helpedAny {
		fc.note = "No family calibration: weights fitted on the first half of the validation window bring no family's expected failures closer to its actual failures on the second half. " + fc.describe()
		t.log.Info("family calibration does not help out of time; none stored", "check", fc.check.String())
		return fc
	}
	w, err := fit(rows, fixed)
	if err != nil {
		fc.note = fmt.Sprintf("No family calibration: %v.", err)
		if !errors.Is(err, calibrate.ErrNoFamilies) {
			t.log.Warn("no family calibration", "err", err)
		}
		return fc
	}
	fc.kept, fc.weights = true, w
	fc.after = familyExpected(rows, q, split, shares, w)
	fc.note = fmt.Sprintf("The family split is calibrated: the family model's P(family | fail) is reweighted per family (%s), fitted on the %d validation sends no rule decides "+
		"so that scoring's expected failures per family, after the known mechanisms, match the window's in proportion; a family is weighted only when weights fitted on the first half "+
		"of the window bring its expected failures closer to its actual failures on the second half. %s", familyWeightsString(w), len(rows), fc.describe())
	t.log.Info("family calibration fitted on validation", "weights", familyWeightsString(w), "rows", len(rows), "by_family", fc.byFamily(), "check", fc.check.String())
	return fc
}

// checkFamilyOutOfTime fits the weights on the first half (by time) of
// rows and measures, per family, the expected failures of the second
// half with and without them.
func (t *trainer) checkFamilyOutOfTime(s *Tables, rows []int, q []float64, split [][]float64, shares []mechanism.Shares,
	fit func([]int, []bool) (calibrate.FamilyWeights, error)) familyCheck {
	var ck familyCheck
	if len(rows) == 0 {
		ck.reason = "no validation rows outside the rules"
		return ck
	}
	times := make([]int64, len(rows))
	for j, k := range rows {
		times[j] = s.Table.Time[s.Valid[k]]
	}
	sorted := append([]int64(nil), times...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a] < sorted[b] })
	mid := sorted[len(sorted)/2]
	var first, second []int
	for j, k := range rows {
		if times[j] < mid {
			first = append(first, k)
		} else {
			second = append(second, k)
		}
	}
	w, err := fit(first, nil)
	if err != nil {
		ck.reason = fmt.Sprintf("the first half of the validation window cannot fit family weights: %v", err)
		return ck
	}
	ck.done, ck.fitRows, ck.testRows, ck.weights = true, len(first), len(second), w
	ck.actual = familyActual(s, second)
	ck.without = familyExpected(second, q, split, shares, nil)
	ck.with = familyExpected(second, q, split, shares, w)
	ck.helped = make([]bool, pipeline.NumFamilies)
	for f := 1; f < pipeline.NumFamilies; f++ {
		if w.Weight(f) == 1 {
			continue
		}
		ck.helped[f] = math.Abs(ck.with[f]-ck.actual[f]) < math.Abs(ck.without[f]-ck.actual[f])
	}
	return ck
}

// familyWeightsString lists the weights other than 1 by family name.
func familyWeightsString(w calibrate.FamilyWeights) string {
	var parts []string
	for f := 1; f < len(w); f++ {
		if w[f] != 1 {
			parts = append(parts, fmt.Sprintf("%s %.3f", pipeline.Family(f), w[f]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// byFamily lists, per family with failures or expected failures, the
// validation window's actual failures and the expected ones without and
// with the weights.
func (fc *familyCalibration) byFamily() string {
	var parts []string
	for f := 1; f < len(fc.actual); f++ {
		if fc.actual[f] < 1 && fc.before[f] < 1 && fc.after[f] < 1 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.0f -> %.0f vs %.0f", pipeline.Family(f), fc.before[f], fc.after[f], fc.actual[f]))
	}
	return strings.Join(parts, "; ")
}

// String is the check's figures per weighted family: expected on the
// second half without -> with the first half's weight, against actual.
func (ck *familyCheck) String() string {
	if !ck.done {
		return "not done: " + ck.reason
	}
	var parts []string
	for f := 1; f < len(ck.actual); f++ {
		if ck.weights.Weight(f) == 1 {
			continue
		}
		verdict := "worse"
		if ck.helped[f] {
			verdict = "helps"
		}
		parts = append(parts, fmt.Sprintf("%s w=%.3f %.0f -> %.0f vs %.0f (%s)", pipeline.Family(f), ck.weights.Weight(f), ck.without[f], ck.with[f], ck.actual[f], verdict))
	}
	return strings.Join(parts, "; ")
}

// describe is the report's account of the family calibration: expected
// failures per family on the validation window, and the out-of-time check.
func (fc *familyCalibration) describe() string {
	out := "Expected failures per family on the validation window without -> with the weights, against actual: " + fc.byFamily() + "."
	if fc.check.done {
		out += fmt.Sprintf(" Out of time (weights fitted on the first half, %d sends; measured on the second, %d sends): %s.", fc.check.fitRows, fc.check.testRows, fc.check.String())
	}
	return out
}

// metadata is the family calibration's record in metadata.json
// (extra.family_calibration_check).
func (fc *familyCalibration) metadata() map[string]any {
	names := func(v []float64) map[string]float64 {
		m := map[string]float64{}
		for f := 1; f < len(v); f++ {
			if v[f] != 0 {
				m[pipeline.Family(f).String()] = v[f]
			}
		}
		return m
	}
	m := map[string]any{"kept": fc.kept, "rows": fc.rows, "actual": names(fc.actual), "expected_without": names(fc.before), "expected_with": names(fc.after)}
	if fc.kept {
		m["weights"] = names(fc.weights)
	}
	if ck := fc.check; ck.done {
		m["out_of_time"] = map[string]any{"fit_rows": ck.fitRows, "test_rows": ck.testRows, "weights": names(ck.weights),
			"actual": names(ck.actual), "expected_without": names(ck.without), "expected_with": names(ck.with)}
	} else {
		m["out_of_time"] = map[string]any{"not_done": ck.reason}
	}
	return m
}
