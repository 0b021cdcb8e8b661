package training

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"

	"github.com/failcast/failcast/features/mechanism"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/calibrate"
	"github.com/failcast/failcast/models/metrics"
)

// calibration is the probability calibration of a run: the map fitted on
// the validation window, and the validation P(fail) scoring would output
// (the model's, calibrated, combined with the known failure mechanisms and
// rules of features/mechanism) without and with it.
type calibration struct {
	platt  *calibrate.Platt // nil when not fitted (too few rows, or no gain out of time)
	rows   int              // rows the map was fitted on
	before []float64        // scoring's P(fail) of every validation row without a map
	after  []float64        // the same with platt (before when nil)
	// model is the model's P(fail) of every validation row through platt
	// (the model's own when nil), before any mechanism: what the
	// thresholds are chosen on.
	model []float64
	note  string
	// Log-loss on validation of before and after.
	lossBefore, lossAfter float64
	check                 calibrationCheck
	ruleRows, mechRows    int // validation rows a rule decides; rows a mechanism touches
	// certainRows are the validation rows a share-1 mechanism fails for
	// sure (scoring's P(fail) is 1 whatever the map), certainFailed of
	// them failed. The log-losses above leave them out: the map cannot
	// move them, and a share-1 mechanism that does not hold on this
	// history (the tally says which) would swamp every other row.
	certainRows, certainFailed int
	tally                      mechanismTally
	// ruled and shares are, per validation row, whether a rule decides it
	// and its mechanisms' shares (validationShares).
	ruled  []bool
	shares []mechanism.Shares
	// raw and split are the model's P(fail) and family split of every
	// validation row, before any calibration.
	raw   []float64
	split [][]float64
	// family is the family maps' calibration, applied to the model's
	// P(fail) before the Platt map (calibrateFamily).
	family familyCalibration
}

// calibrationCheck is the out-of-time check of the map: fitted on the
// first half of the validation window (by time), measured on the second.
type calibrationCheck struct {
	done                     bool
	fitRows, testRows        int
	a, b                     float64
	lossWithout, lossWith    float64 // log-loss of scoring's P(fail) on the second half
	expectedWithout, expWith float64 // summed P(fail) on the second half
	failures                 int     // failures of the second half
	// broad is the share of the second half's sends in campaigns whose
	// log-loss the map lowers: a map kept must help most of them, not one
	// incident's (a template paused in the window, say).
	broad  float64
	reason string // why it was not done
}

// helps reports whether the map helped out of time: a lower log-loss on
// the second half, in campaigns holding most of its sends.
func (ck *calibrationCheck) helps() bool {
	return ck.lossWith < ck.lossWithout && ck.broad > 0.5
}

// validationInputs are, for every validation row, what scoring will
// combine with the calibrated probability: whether a deterministic rule
// decides the row, and the outer map of its known mechanisms
// (mechanism.Shares.Outer). The rows pass through a tier ledger in time
// order, as the plan's sends do in scoring (mechanism.TierLedger).
func validationInputs(s *Tables, pFamily [][]float64) (ruled []bool, outer []calibrate.Outer, tally mechanismTally) {
	ruled, outer, _, tally = validationShares(s, pFamily)
	return ruled, outer, tally
}

// validationShares is validationInputs with every row's mechanism shares
// (zero for a row a rule decides).
func validationShares(s *Tables, pFamily [][]float64) (ruled []bool, outer []calibrate.Outer, shares []mechanism.Shares, tally mechanismTally) {
	tab := s.Table
	cols := mechanism.Bind(tab.Names)
	ruled = make([]bool, len(s.Valid))
	outer = make([]calibrate.Outer, len(s.Valid))
	shares = make([]mechanism.Shares, len(s.Valid))
	order := make([]int, len(s.Valid))
	for k := range order {
		order[k] = k
	}
	sort.SliceStable(order, func(a, b int) bool { return tab.Time[s.Valid[order[a]]] < tab.Time[s.Valid[order[b]]] })
	var ledger mechanism.TierLedger
	ids := len(tab.PhoneNumberID) == tab.Rows && len(tab.Recipient) == tab.Rows
	for _, k := range order {
		i := s.Valid[k]
		x := tab.Row(i)
		country := ""
		if i < len(tab.Country) {
			country = tab.Country[i]
		}
		send := cols.SendFromRow(x, tab.Time[i], country)
		var ts mechanism.TierSend
		if ids {
			ts = mechanism.TierSend{Phone: tab.PhoneNumberID[i], Recipient: tab.Recipient[i]}
		}
		if r := cols.Decide(&send, x).Rule; r != mechanism.NoRule {
			ruled[k] = true
			tally.rules[r].add(mechanism.KnownFailurePFail, s.ValidLabels[k])
			if ids {
				ts.Refused = true
				ledger.Tier(&cols, &send, x, ts, nil)
			}
			continue
		}
		sh := cols.Shares(&send, x, mechanism.DefaultThroughputMPS)
		if ids {
			ledger.Tier(&cols, &send, x, ts, &sh)
		}
		shares[k] = sh
		for m, v := range sh {
			if v > 0 {
				tally.mechanisms[m].add(v, s.ValidLabels[k])
			}
		}
		var split []float64
		if pFamily != nil {
			split = pFamily[k]
		}
		c, d := sh.Outer(split)
		outer[k] = calibrate.Outer{C: c, D: d}
	}
	return ruled, outer, shares, tally
}

// mechanismTally counts, on the validation window, the sends each rule
// and mechanism applies to, their summed share and their failures: how
// well the known mechanisms hold on the sender's own data.
type mechanismTally struct {
	rules      [mechanism.NumRules]tallyCell
	mechanisms [mechanism.NumMechanisms]tallyCell
}

type tallyCell struct {
	rows, failures int
	share          float64
}

func (c *tallyCell) add(share float64, failed bool) {
	c.rows++
	c.share += share
	if failed {
		c.failures++
	}
}

// String lists the rules and mechanisms that applied.
func (t *mechanismTally) String() string {
	out := ""
	for r, c := range t.rules {
		if c.rows > 0 {
			out += fmt.Sprintf(" rule %d (code %d): %d sends, %d failed;", r, mechanism.RuleCodes[r], c.rows, c.failures)
		}
	}
	for m, c := range t.mechanisms {
		if c.rows > 0 {
			out += fmt.Sprintf(" %s: %d sends, share sum %.0f, %d failed;", mechanism.Mechanism(m).Kind(), c.rows, c.share, c.failures)
		}
	}
	return out
}

// combined is scoring's P(fail) of the validation rows under map c (nil:
// none): a row a rule decides at least KnownFailurePFail, any other
// through its mechanisms' outer map.
func combined(valid []float64, ruled []bool, outer []calibrate.Outer, c *calibrate.Platt) []float64 {
	out := make([]float64, len(valid))
	for k, p := range valid {
		if c != nil {
			p = c.Apply(p)
		}
		if ruled[k] {
			out[k] = math.Max(p, mechanism.KnownFailurePFail)
			continue
		}
		out[k] = outer[k].Apply(p)
	}
	return out
}

// calibrate calibrates the model's probabilities on the validation
// window in two steps. First the family maps (calibrateFamily): the
// probability of each family a known mechanism covers, where no
// mechanism applies, is mapped down to what the window shows, which
// lowers P(fail) with it. Then a Platt map of that P(fail), fitted such that what scoring outputs is calibrated: scoring
// combines the calibrated probability with the known failure mechanisms
// and decides some sends by rule (features/mechanism), so the map is
// fitted through those (calibrate.FitPlattOuter) on the rows no rule
// decides. Fitted on the model's P(fail) alone, the map would take the
// failures the mechanisms and rules explain for the model's and lift
// every send, and scoring would count them twice.
//
// The map is kept only when it helps out of time: fitted on the first
// half of the validation window (by send time), it must lower the
// log-loss of scoring's P(fail) on the second half, and do so in
// campaigns holding most of its sends (an incident in the window, a
// template paused before its pause was announced, fails one campaign's
// sends: a map lifting every send for it over-forecasts all the others);
// it is then refitted on the whole window. It is monotone, so every ranking metric is the
// mapped model's. The same rows also stop the boosting early and choose the
// thresholds, on the model's P(fail) through the family maps and the map (scoring compares
// the thresholds with its P(fail), which a mechanism only raises and a
// rule sets to KnownFailurePFail), which the report and metadata say.
func (t *trainer) calibrate(s *Tables, valid []float64, pFamily [][]float64) calibration {
	raw, split := valid, pFamily
	// Whether P(fail) needs a map is decided on the model's P(fail)
	// before the family maps (below): that fit reads nothing the family
	// calibration makes, so it runs beside it.
	var needed bool
	neededDone := make(chan struct{})
	go func() {
		defer close(neededDone)
		quiet := *t
		quiet.log = slog.New(slog.DiscardHandler)
		needed = quiet.calibrateFail(s, valid, pFamily).platt != nil
	}()
	fc := t.calibrateFamily(s, valid, pFamily)
	<-neededDone
	var c calibration
	if !fc.kept {
		c = t.calibrateFail(s, valid, pFamily)
	} else {
		// After the family maps, the window's failures of the families no
		// map touches (its incidents: a paused template, an outage) are a
		// larger part of what is left unexplained, and a map lifting
		// every send for them is what the out-of-time rule is there to
		// refuse; it does not always (seed 1: +2.7 points on the plan's
		// total, payload +7% -> +24%). So a map is stored only when the
		// model's P(fail) needs one; it is fitted on the mapped P(fail),
		// which scoring maps.
		valid, pFamily = fc.apply(valid, pFamily)
		c = t.calibrateFail(s, valid, pFamily)
		if c.platt != nil && !needed {
			t.log.Info("the Platt map fitted after the family maps is not stored: the model's P(fail) before them needs none", "a", round4(c.platt.A), "b", round4(c.platt.B))
			c.note = fmt.Sprintf("No calibration map: the model's P(fail) before the family maps needs none (a map fitted after them, a=%.3f, b=%+.3f, would lift every send for the window's failures of the families no map touches). %s",
				c.platt.A, c.platt.B, c.describe(float64(count(s.ValidLabels))))
			c.platt, c.rows, c.after, c.model, c.lossAfter = nil, 0, c.before, valid, math.NaN()
		}
	}
	c.raw, c.split = raw, split
	fc.report(s, c)
	c.family = fc
	return c
}

// calibrateFail fits the Platt map of P(fail) (calibrate's doc).
func (t *trainer) calibrateFail(s *Tables, valid []float64, pFamily [][]float64) calibration {
	labels := s.ValidLabels
	ruled, outer, shares, tally := validationShares(s, pFamily)
	t.log.Info("known failure mechanisms on the validation window", "applied", tally.String())
	c := calibration{lossAfter: math.NaN(), tally: tally, ruled: ruled, shares: shares}
	c.before = combined(valid, ruled, outer, nil)
	c.after, c.model = c.before, valid
	c.lossBefore = movableLogLoss(c.before, labels, outer)
	for k, o := range outer {
		if certain(o) {
			c.certainRows++
			if labels[k] {
				c.certainFailed++
			}
		}
	}
	var fitRows []int
	for k := range valid {
		if ruled[k] {
			c.ruleRows++
			continue
		}
		if outer[k] != calibrate.IdentityOuter {
			c.mechRows++
		}
		fitRows = append(fitRows, k)
	}
	fit := func(rows []int) (calibrate.Platt, error) {
		sc, lb, ou := make([]float64, len(rows)), make([]bool, len(rows)), make([]calibrate.Outer, len(rows))
		for j, k := range rows {
			sc[j], lb[j], ou[j] = valid[k], labels[k], outer[k]
		}
		return calibrate.FitPlattOuter(sc, lb, ou)
	}
	p, err := fit(fitRows)
	if err != nil {
		level := t.log.Warn
		if errors.Is(err, calibrate.ErrTooFew) {
			level = t.log.Info
		}
		level("no probability calibration: P(fail) is stored as the model gives it", "err", err)
		c.note = fmt.Sprintf("No calibration map: %v.", err)
		return c
	}
	c.check = t.checkOutOfTime(s, valid, labels, ruled, outer, fitRows, fit)
	after := combined(valid, ruled, outer, &p)
	loss := movableLogLoss(after, labels, outer)
	kept := false
	switch {
	case c.check.done:
		kept = c.check.helps()
	default:
		kept = loss < c.lossBefore
	}
	actual := float64(count(labels))
	if !kept {
		why := "does not lower the log-loss of scoring's P(fail) on validation"
		if c.check.done {
			why = "does not help out of time (a lower log-loss of scoring's P(fail) on the second half of the window, in campaigns holding most of its sends)"
		}
		c.note = fmt.Sprintf("No calibration map: the Platt map fitted through the known mechanisms (a=%.3f, b=%+.3f) %s. %s", p.A, p.B, why, c.describe(actual))
		t.log.Info("probability calibration does not help; none stored", "a", round4(p.A), "b", round4(p.B), "log_loss", round4(loss), "log_loss_without", round4(c.lossBefore),
			"check_log_loss_with", round4(c.check.lossWith), "check_log_loss_without", round4(c.check.lossWithout))
		return c
	}
	c.platt, c.rows, c.after, c.lossAfter = &p, len(fitRows), after, loss
	c.model = make([]float64, len(valid))
	for k, v := range valid {
		c.model[k] = p.Apply(v)
	}
	c.note = fmt.Sprintf("P(fail) is calibrated with a Platt map p' = sigmoid(%.3f logit(p) %+.3f), fitted on the %d validation sends no rule decides, "+
		"through the known failure mechanisms scoring combines it with (features/mechanism; %d of them touched by one, %d decided by a rule and left out), "+
		"so that scoring's P(fail), not the model's alone, is calibrated. %s "+
		"The map is monotone: the thresholds are chosen on the model's P(fail) through it over the same validation rows, which flag the same sends as before it.",
		p.A, p.B, len(fitRows), c.mechRows, c.ruleRows, c.describe(actual))
	t.log.Info("probability calibration fitted on validation", "a", round4(p.A), "b", round4(p.B), "rows", len(fitRows), "rule_rows", c.ruleRows, "mechanism_rows", c.mechRows,
		"log_loss_before", round4(c.lossBefore), "log_loss_after", round4(loss), "expected_before", math.Round(sum(c.before)), "expected_after", math.Round(sum(after)),
		"failures", actual, "check_log_loss_without", round4(c.check.lossWithout), "check_log_loss_with", round4(c.check.lossWith))
	return c
}

// checkOutOfTime fits the map on the first half (by time) of the rows
// and measures scoring's P(fail) with and without it on the second.
func (t *trainer) checkOutOfTime(s *Tables, valid []float64, labels, ruled []bool, outer []calibrate.Outer, fitRows []int,
	fit func([]int) (calibrate.Platt, error)) calibrationCheck {
	var ck calibrationCheck
	times := make([]int64, len(s.Valid))
	for k, i := range s.Valid {
		times[k] = s.Table.Time[i]
	}
	sorted := append([]int64(nil), times...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a] < sorted[b] })
	if len(sorted) == 0 {
		ck.reason = "no validation rows"
		return ck
	}
	mid := sorted[len(sorted)/2]
	var first, second []int
	for _, k := range fitRows {
		if times[k] < mid {
			first = append(first, k)
		}
	}
	for k := range valid {
		if times[k] >= mid {
			second = append(second, k)
		}
	}
	p, err := fit(first)
	if err != nil {
		ck.reason = fmt.Sprintf("the first half of the validation window cannot fit a map: %v", err)
		return ck
	}
	sc, lb, rl, ou := make([]float64, len(second)), make([]bool, len(second)), make([]bool, len(second)), make([]calibrate.Outer, len(second))
	for j, k := range second {
		sc[j], lb[j], rl[j], ou[j] = valid[k], labels[k], ruled[k], outer[k]
	}
	without, with := combined(sc, rl, ou, nil), combined(sc, rl, ou, &p)
	ck.done, ck.fitRows, ck.testRows, ck.a, ck.b = true, len(first), len(second), p.A, p.B
	ck.lossWithout = movableLogLoss(without, lb, ou)
	ck.lossWith = movableLogLoss(with, lb, ou)
	ck.expectedWithout, ck.expWith, ck.failures = sum(without), sum(with), count(lb)
	// Per campaign: does the map lower its log-loss?
	type cell struct {
		n    int
		gain float64
	}
	byCampaign := map[string]*cell{}
	for j, k := range second {
		c := byCampaign[s.Table.CampaignID[s.Valid[k]]]
		if c == nil {
			c = &cell{}
			byCampaign[s.Table.CampaignID[s.Valid[k]]] = c
		}
		c.n++
		c.gain += rowLoss(without[j], lb[j]) - rowLoss(with[j], lb[j])
	}
	helped := 0
	for _, c := range byCampaign {
		if c.gain > 0 {
			helped += c.n
		}
	}
	ck.broad = float64(helped) / float64(len(second))
	return ck
}

// certain reports whether a row's known mechanisms fail it for sure:
// scoring's P(fail) is 1 whatever the map.
func certain(o calibrate.Outer) bool { return o.C >= 1 }

// movableLogLoss is the log-loss of p over the rows the map can move (not
// certain). Rows that stay equal with and without a map add the same to
// both sides, so comparing two of these losses decides as comparing the
// losses of every row does.
func movableLogLoss(p []float64, labels []bool, outer []calibrate.Outer) float64 {
	var kp []float64
	var kl []bool
	for k := range p {
		if !certain(outer[k]) {
			kp, kl = append(kp, p[k]), append(kl, labels[k])
		}
	}
	loss, err := metrics.LogLoss(kp, kl)
	if err != nil {
		return math.NaN()
	}
	return loss
}

// rowLoss is one row's log-loss (metrics.LogLoss's clipping).
func rowLoss(p float64, failed bool) float64 {
	p = min(max(p, metrics.LogLossEpsilon), 1-metrics.LogLossEpsilon)
	if failed {
		return -math.Log(p)
	}
	return -math.Log1p(-p)
}

// describe says how well scoring's P(fail) sums on validation, and what
// the out-of-time check found.
func (c *calibration) describe(failures float64) string {
	out := fmt.Sprintf("On the validation window scoring's P(fail) sums to %.0f without the map (log-loss %.4f)", sum(c.before), c.lossBefore)
	if c.platt != nil || !math.IsNaN(c.lossAfter) {
		out += fmt.Sprintf(" and %.0f with it (log-loss %.4f)", sum(c.after), c.lossAfter)
	}
	out += fmt.Sprintf(", for %.0f failures.", failures)
	if m := c.tally.String(); m != "" {
		out += " The known mechanisms on the validation window (a share-1 mechanism with many sends that did not fail does not hold on this history):" + m
	}
	ck := c.check
	if ck.done {
		out += fmt.Sprintf(" Out of time (fitted on the first half of the window, %d sends: a=%.3f, b=%+.3f; measured on the second, %d sends, %d failures): "+
			"expected %.0f without the map, %.0f with it; log-loss %.4f without, %.4f with; the map lowers the log-loss of campaigns holding %.0f%% of the sends (a map is kept when it lowers the log-loss and helps campaigns holding most sends).",
			ck.fitRows, ck.a, ck.b, ck.testRows, ck.failures, ck.expectedWithout, ck.expWith, ck.lossWithout, ck.lossWith, 100*ck.broad)
	} else if ck.reason != "" {
		out += " No out-of-time check: " + ck.reason + "."
	}
	if c.certainRows > 0 {
		out += fmt.Sprintf(" The log-losses leave out the %d validation sends a share-1 mechanism fails for sure (scoring's P(fail) is 1 with or without a map; %d of them failed).", c.certainRows, c.certainFailed)
	}
	return out
}

// metadata is the calibration's record in metadata.json
// (extra.calibration_check): scoring's P(fail) summed on validation
// without and with the map, the rows a rule or mechanism touched, and the
// out-of-time check.
func (c *calibration) metadata(failures float64) map[string]any {
	m := map[string]any{
		"kept": c.platt != nil, "failures": failures, "expected_without_map": sum(c.before), "expected_with_map": sum(c.after),
		"log_loss_without_map": nullable(c.lossBefore), "log_loss_with_map": nullable(c.lossAfter),
		"rule_rows": c.ruleRows, "mechanism_rows": c.mechRows, "mechanisms": c.tally.String(),
		"certain_rows": c.certainRows, "certain_rows_failed": c.certainFailed,
	}
	if ck := c.check; ck.done {
		m["out_of_time"] = map[string]any{"fit_rows": ck.fitRows, "test_rows": ck.testRows, "a": ck.a, "b": ck.b, "failures": ck.failures,
			"expected_without_map": ck.expectedWithout, "expected_with_map": ck.expWith,
			"log_loss_without_map": nullable(ck.lossWithout), "log_loss_with_map": nullable(ck.lossWith), "share_of_sends_helped": ck.broad}
	} else {
		m["out_of_time"] = map[string]any{"not_done": ck.reason}
	}
	return m
}

// serving adds the calibration to s.
func (c calibration) serving(s bundle.Serving) bundle.Serving {
	s.Calibration, s.CalibrationRows = c.platt, c.rows
	if c.family.kept {
		s.FamilyMaps, s.FamilyMapRows = c.family.maps, c.family.rows
	}
	return s
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return sum(v) / float64(len(v))
}

func rate(b []bool) float64 {
	if len(b) == 0 {
		return math.NaN()
	}
	return float64(count(b)) / float64(len(b))
}

// trainFailureRate is the failure rate of the training window, counted
// before any down-sampling (a streamed set keeps no training labels).
func (s *Tables) trainFailureRate() float64 {
	if s.TrainRows == 0 {
		return math.NaN()
	}
	return float64(s.TrainFailures) / float64(s.TrainRows)
}
