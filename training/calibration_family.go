package training

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/failcast/failcast/features/mechanism"
	"github.com/failcast/failcast/models/calibrate"
	"github.com/failcast/failcast/pipeline"
)

// familyCalibration is the calibration of the families' probabilities:
// one map per family a known mechanism covers, on the model's
// P(fail with family f) = P(fail) P(f | fail), which only takes
// probability away (calibrate.FamilyMaps: min(p, sigmoid(a logit(p) + b)));
// P(fail) becomes the mapped families' sum.
//
// Why those families, and why only down: the models learn from the
// training window's failures, including those a known mechanism explains
// (a campaign above its number's throughput, the tier limit, a template's
// broken parameters, a closed window, media above the limit). Scoring
// replaces the model's probability of that family wherever the mechanism
// applies (mechanism.Combine), but the model also spreads it thinly over
// every other send, which resembles the sends the mechanism failed in
// training without being limited: summed over a plan, that thin mass
// over-forecasts the family (the demo's recipient and seed 3's throttle
// families by a quarter to a third). The map is fitted on the validation
// sends no rule and no mechanism touches, one-vs-rest (failed with the
// family or not): a Platt map when the family has enough failures there
// (steeper than the identity, it takes the thin mass and keeps the
// confident probabilities, where the model sees the family's cause
// itself), else a constant factor, their failures over their summed
// probability (calibrate.FitFamilyMap). A family the mechanisms do not
// cover (an outage's transient errors, a paused template) is left as the
// model learned it: one window's count of such bursts says little about
// the next.
//
// A map is kept only when it helps out of time, like the Platt map of
// P(fail): the map fitted on the first half of those sends (by time) must
// lower the family's log-loss on the second half, in campaigns holding
// most of its sends; it is then refitted on the whole window.
type familyCalibration struct {
	kept bool
	maps calibrate.FamilyMaps
	rows int    // validation rows fitted on (no rule decides them, no mechanism touches them)
	note string // for the report
	// On the fitting rows, per family: failures and summed probability.
	actual, expected []float64
	check            familyCheck
	// Per family, on the validation rows no rule decides: failures, and
	// scoring's expected failures (through the mechanisms) from the model
	// as it is and as stored (the maps and the Platt map). Set by report.
	byActual, byBefore, byAfter []float64
}

// familyCheck is the out-of-time check of the family maps.
type familyCheck struct {
	done              bool
	fitRows, testRows int
	maps              calibrate.FamilyMaps // fitted on the first half
	// On the second half, per family: failures, expected failures without
	// and with the first half's map, log-loss without and with it, and
	// the share of its sends in campaigns whose log-loss it lowers.
	actual, without, with []float64
	lossWithout, lossWith []float64
	broad                 []float64
	helped                []bool
	reason                string // why it was not done
}

// mechanismFamilies are the families a known mechanism covers.
func mechanismFamilies() []bool {
	out := make([]bool, pipeline.NumFamilies)
	for m := mechanism.Mechanism(0); m < mechanism.NumMechanisms; m++ {
		out[m.Family()] = true
	}
	return out
}

// calibrateFamily fits the family maps (familyCalibration) on the
// model's P(fail) valid and family split pFamily (nil: no family head,
// nothing to fit) of the validation rows.
func (t *trainer) calibrateFamily(s *Tables, valid []float64, pFamily [][]float64) familyCalibration {
	var fc familyCalibration
	if pFamily == nil || len(pFamily) != len(valid) || len(s.Table.Family) != s.Table.Rows {
		fc.note = "No family calibration: no family split on the validation window."
		return fc
	}
	ruled, _, shares, _ := validationShares(s, pFamily)
	var rows []int
	for k := range valid {
		if !ruled[k] && !shares[k].Any() {
			rows = append(rows, k)
		}
	}
	fc.rows = len(rows)
	fc.expected, fc.actual = familySums(s, rows, valid, pFamily)
	fc.check = checkFamilyOutOfTime(s, rows, valid, pFamily)
	if !fc.check.done {
		fc.note = "No family calibration: " + fc.check.reason + "."
		t.log.Info("no family calibration", "reason", fc.check.reason)
		return fc
	}
	maps := make(calibrate.FamilyMaps, pipeline.NumFamilies)
	errs := make([]error, pipeline.NumFamilies)
	for f := range maps {
		maps[f] = calibrate.Identity
	}
	eachFamily(func(f int) {
		if fc.check.helped[f] {
			p, y := familyColumn(s, rows, pFamily, f)
			if m, err := calibrate.FitFamilyMap(p, y); err != nil {
				errs[f] = err
			} else {
				maps[f] = m
			}
		}
	})
	for f, err := range errs {
		if err != nil {
			t.log.Warn("family calibration: a map does not fit; the family keeps its probability", "family", pipeline.Family(f).String(), "err", err)
		}
	}
	if maps.Identity() {
		fc.note = "No family calibration: no family's map fitted on the first half of the validation window lowers its log-loss on the second half in campaigns holding most of its sends. " + fc.check.String()
		t.log.Info("family calibration does not help out of time; none stored", "check", fc.check.String())
		return fc
	}
	fc.kept, fc.maps = true, maps
	t.log.Info("family calibration fitted on validation", "maps", familyMapsString(maps), "rows", len(rows), "check", fc.check.String())
	return fc
}

// apply returns valid and pFamily with the maps applied (new slices).
func (fc *familyCalibration) apply(valid []float64, pFamily [][]float64) ([]float64, [][]float64) {
	v := make([]float64, len(valid))
	pf := make([][]float64, len(pFamily))
	for k := range valid {
		row := make([]float64, len(pFamily[k]))
		v[k] = fc.maps.Apply(valid[k], pFamily[k])
		for f := 1; f < len(row); f++ {
			row[f] = fc.maps.ApplyClass(f, pFamily[k][f])
		}
		row[0] = 1 - v[k]
		pf[k] = row
	}
	return v, pf
}

// familyColumn returns P(fail with f) of rows and whether each failed
// with f.
func familyColumn(s *Tables, rows []int, pFamily [][]float64, f int) ([]float64, []bool) {
	p, y := make([]float64, len(rows)), make([]bool, len(rows))
	for j, k := range rows {
		if f < len(pFamily[k]) {
			p[j] = min(max(pFamily[k][f], 0), 1)
		}
		y[j] = s.ValidLabels[k] && int(s.Table.Family[s.Valid[k]]) == f
	}
	return p, y
}

// familySums returns, per family, the summed P(fail with f) (pFamily) of
// rows and their failures of f.
func familySums(s *Tables, rows []int, valid []float64, pFamily [][]float64) (expected, actual []float64) {
	expected, actual = make([]float64, pipeline.NumFamilies), make([]float64, pipeline.NumFamilies)
	for _, k := range rows {
		for f := 1; f < len(pFamily[k]) && f < pipeline.NumFamilies; f++ {
			expected[f] += pFamily[k][f]
		}
		if s.ValidLabels[k] {
			if f := int(s.Table.Family[s.Valid[k]]); f < pipeline.NumFamilies {
				actual[f]++
			}
		}
	}
	return expected, actual
}

// checkFamilyOutOfTime fits the maps on the first half (by time) of
// rows and measures each on the second.
func checkFamilyOutOfTime(s *Tables, rows []int, valid []float64, pFamily [][]float64) familyCheck {
	var ck familyCheck
	if len(rows) == 0 {
		ck.reason = "no validation rows outside the rules and mechanisms"
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
	if len(first) == 0 || len(second) == 0 {
		ck.reason = "the validation window's sends outside the rules and mechanisms do not span two halves"
		return ck
	}
	eligible := mechanismFamilies()
	n := pipeline.NumFamilies
	ck.done, ck.fitRows, ck.testRows = true, len(first), len(second)
	ck.maps = make(calibrate.FamilyMaps, n)
	ck.actual, ck.without, ck.with = make([]float64, n), make([]float64, n), make([]float64, n)
	ck.lossWithout, ck.lossWith, ck.broad = make([]float64, n), make([]float64, n), make([]float64, n)
	ck.helped = make([]bool, n)
	for f := range ck.maps {
		ck.maps[f] = calibrate.Identity
	}
	eachFamily(func(f int) {
		if eligible[f] {
			p, y := familyColumn(s, first, pFamily, f)
			if m, err := calibrate.FitFamilyMap(p, y); err == nil {
				ck.maps[f] = m
			}
		}
	})
	type cell struct {
		n    int
		gain float64
	}
	eachFamily(func(f int) {
		m := ck.maps.Map(f)
		byCampaign := map[string]*cell{}
		for _, k := range second {
			p := 0.0
			if f < len(pFamily[k]) {
				p = pFamily[k][f]
			}
			y := s.ValidLabels[k] && int(s.Table.Family[s.Valid[k]]) == f
			if y {
				ck.actual[f]++
			}
			ck.without[f] += p
			q := ck.maps.ApplyClass(f, p)
			ck.with[f] += q
			if m == calibrate.Identity {
				continue
			}
			l0, l1 := rowLoss(p, y), rowLoss(q, y)
			ck.lossWithout[f] += l0
			ck.lossWith[f] += l1
			id := s.Table.CampaignID[s.Valid[k]]
			c := byCampaign[id]
			if c == nil {
				c = &cell{}
				byCampaign[id] = c
			}
			c.n++
			c.gain += l0 - l1
		}
		if m == calibrate.Identity {
			return
		}
		helped := 0
		for _, c := range byCampaign {
			if c.gain > 0 {
				helped += c.n
			}
		}
		ck.lossWithout[f] /= float64(len(second))
		ck.lossWith[f] /= float64(len(second))
		ck.broad[f] = float64(helped) / float64(len(second))
		ck.helped[f] = ck.lossWith[f] < ck.lossWithout[f] && ck.broad[f] > 0.5
	})
	return ck
}

// eachFamily runs fn for every failure family (1 to NumFamilies-1) on up
// to GOMAXPROCS goroutines; fn writes only its own family's slots.
func eachFamily(fn func(f int)) {
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for f := 1; f < pipeline.NumFamilies; f++ {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(f)
		})
	}
	wg.Wait()
}

// report fills the per-family figures of the report from the stored
// calibration c (the maps, when kept, are already in c's P(fail)):
// scoring's expected failures per family on the validation rows no rule
// decides, without any calibration and as stored.
func (fc *familyCalibration) report(s *Tables, c calibration) {
	if len(c.shares) != len(s.Valid) {
		return
	}
	var rows []int
	for k := range s.Valid {
		if !c.ruled[k] {
			rows = append(rows, k)
		}
	}
	fc.byActual = familyActual(s, rows)
	fc.byBefore = make([]float64, pipeline.NumFamilies)
	fc.byAfter = make([]float64, pipeline.NumFamilies)
	for _, k := range rows {
		if len(c.split) <= k || len(c.raw) <= k {
			return
		}
		combine := func(p float64, m calibrate.FamilyMaps, platt *calibrate.Platt, into []float64) {
			split := c.split[k]
			q := m.Apply(p, split)
			if platt != nil {
				q = platt.Apply(q)
			}
			var fam [pipeline.NumFamilies]float64
			mass := 0.0
			for f := 1; f < len(split) && f < pipeline.NumFamilies; f++ {
				fam[f] = m.ApplyClass(f, split[f])
				mass += fam[f]
			}
			for f := 1; f < len(fam); f++ {
				if mass > 0 {
					fam[f] *= q / mass
				}
			}
			fam[0] = 1 - q
			mechanism.Combine(&q, &fam, &c.shares[k])
			for f := 1; f < len(fam); f++ {
				into[f] += fam[f]
			}
		}
		combine(c.raw[k], nil, nil, fc.byBefore)
		combine(c.raw[k], fc.maps, c.platt, fc.byAfter)
	}
	fc.note = fc.describe()
}

// familyActual counts the failures of rows per family.
func familyActual(s *Tables, rows []int) []float64 {
	out := make([]float64, pipeline.NumFamilies)
	for _, k := range rows {
		if s.ValidLabels[k] {
			if f := int(s.Table.Family[s.Valid[k]]); f < len(out) {
				out[f]++
			}
		}
	}
	return out
}

// familyMapsString lists the maps other than the identity by family name.
func familyMapsString(m calibrate.FamilyMaps) string {
	var parts []string
	for f := 1; f < len(m); f++ {
		if mp := m.Map(f); mp != calibrate.Identity {
			parts = append(parts, fmt.Sprintf("%s min(p, sigmoid(%.3f logit(p) %+.3f))", pipeline.Family(f), mp.A, mp.B))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// String is the check's figures per family it mapped.
func (ck *familyCheck) String() string {
	if !ck.done {
		return "not done: " + ck.reason
	}
	var parts []string
	for f := 1; f < len(ck.maps); f++ {
		mp := ck.maps.Map(f)
		if mp == calibrate.Identity {
			continue
		}
		verdict := "does not help"
		if ck.helped[f] {
			verdict = "helps"
		}
		parts = append(parts, fmt.Sprintf("%s map (%.3f, %+.3f): expected %.0f -> %.0f vs %.0f failures, log-loss %.5f -> %.5f, lower in campaigns holding %.0f%% of the sends (%s)",
			pipeline.Family(f), mp.A, mp.B, ck.without[f], ck.with[f], ck.actual[f], ck.lossWithout[f], ck.lossWith[f], 100*ck.broad[f], verdict))
	}
	if len(parts) == 0 {
		return "no family a mechanism covers has enough failures on the first half"
	}
	return strings.Join(parts, "; ")
}

// describe is the report's account of the family calibration.
func (fc *familyCalibration) describe() string {
	var out string
	if fc.kept {
		out = fmt.Sprintf("Family calibration: the model's probability of each family a known mechanism covers goes through a map that only lowers it, fitted on the %d validation sends no rule or mechanism touches "+
			"(failed with the family or not), and P(fail) is the mapped families' sum: %s. ", fc.rows, familyMapsString(fc.maps))
	} else {
		out = "No family calibration. "
	}
	if fc.check.done {
		out += fmt.Sprintf("Out of time (fitted on the first half of those sends, %d; measured on the second, %d): %s. ", fc.check.fitRows, fc.check.testRows, fc.check.String())
	} else if fc.check.reason != "" {
		out += "No out-of-time check: " + fc.check.reason + ". "
	}
	if fc.byActual != nil {
		var parts []string
		for f := 1; f < len(fc.byActual); f++ {
			if fc.byActual[f] < 1 && fc.byBefore[f] < 1 && fc.byAfter[f] < 1 {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s %.0f -> %.0f vs %.0f", pipeline.Family(f), fc.byBefore[f], fc.byAfter[f], fc.byActual[f]))
		}
		out += "Scoring's expected failures per family on the validation sends no rule decides, uncalibrated -> as stored, against actual: " + strings.Join(parts, "; ") + "."
	}
	return out
}

// metadata is the family calibration's record in metadata.json
// (extra.family_calibration_check).
func (fc *familyCalibration) metadata() map[string]any {
	pairs := func(m calibrate.FamilyMaps) map[string][2]float64 {
		out := map[string][2]float64{}
		for f := 1; f < len(m); f++ {
			if mp := m.Map(f); mp != calibrate.Identity {
				out[pipeline.Family(f).String()] = [2]float64{mp.A, mp.B}
			}
		}
		return out
	}
	names := func(v []float64) map[string]float64 {
		m := map[string]float64{}
		for f := 1; f < len(v); f++ {
			if v[f] != 0 {
				m[pipeline.Family(f).String()] = v[f]
			}
		}
		return m
	}
	m := map[string]any{"kept": fc.kept, "rows": fc.rows, "actual": names(fc.actual), "expected": names(fc.expected),
		"validation_actual": names(fc.byActual), "validation_expected_uncalibrated": names(fc.byBefore), "validation_expected_stored": names(fc.byAfter)}
	if fc.kept {
		m["maps"] = pairs(fc.maps)
	}
	if ck := fc.check; ck.done {
		m["out_of_time"] = map[string]any{"fit_rows": ck.fitRows, "test_rows": ck.testRows, "maps": pairs(ck.maps),
			"actual": names(ck.actual), "expected_without": names(ck.without), "expected_with": names(ck.with),
			"log_loss_without": names(ck.lossWithout), "log_loss_with": names(ck.lossWith), "share_of_sends_helped": names(ck.broad)}
	} else {
		m["out_of_time"] = map[string]any{"not_done": ck.reason}
	}
	return m
}
