package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// ErrUnreachable is returned (wrapped) when no threshold meets a target:
// no score reaches the target precision, or the highest tied scores
// already exceed the alert budget.
var ErrUnreachable = errors.New("metrics: no threshold meets the target")

// Rules by which a Threshold is chosen.
const (
	RulePrecision = "precision" // the lowest threshold whose precision reaches Target
	RuleBudget    = "budget"    // the lowest threshold flagging at most a Target share of rows
)

// Threshold is a chosen decision threshold and what it does on the rows it
// was chosen on. Rows with score >= Value are flagged.
type Threshold struct {
	Rule      string  `json:"rule"`       // RulePrecision or RuleBudget
	Target    float64 `json:"target"`     // the target precision, or the alert budget as a share of rows
	Reached   bool    `json:"reached"`    // false when no threshold meets the target: Value is +Inf, nothing is flagged
	Value     float64 `json:"value"`      // flag rows with score >= Value (+Inf, null in JSON, when not Reached)
	Flagged   int     `json:"flagged"`    // rows flagged
	AlertRate float64 `json:"alert_rate"` // Flagged / rows
	Precision float64 `json:"precision"`  // share of flagged rows that are positive (NaN when nothing is flagged)
	Recall    float64 `json:"recall"`     // share of positive rows that are flagged (NaN without positives)
}

func (t Threshold) MarshalJSON() ([]byte, error) {
	return json.Marshal(thresholdJSON{
		Rule: t.Rule, Target: jsonFloat(t.Target), Reached: t.Reached, Value: jsonFloat(t.Value),
		Flagged: t.Flagged, AlertRate: jsonFloat(t.AlertRate), Precision: jsonFloat(t.Precision), Recall: jsonFloat(t.Recall),
	})
}

func (t *Threshold) UnmarshalJSON(b []byte) error {
	var s thresholdJSON
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*t = Threshold{
		Rule: s.Rule, Target: float64(s.Target), Reached: s.Reached, Value: float64(s.Value),
		Flagged: s.Flagged, AlertRate: float64(s.AlertRate), Precision: float64(s.Precision), Recall: float64(s.Recall),
	}
	if !t.Reached && math.IsNaN(t.Value) {
		t.Value = math.Inf(1) // null was written for +Inf
	}
	return nil
}

type thresholdJSON struct {
	Rule      string    `json:"rule"`
	Target    jsonFloat `json:"target"`
	Reached   bool      `json:"reached"`
	Value     jsonFloat `json:"value"`
	Flagged   int       `json:"flagged"`
	AlertRate jsonFloat `json:"alert_rate"`
	Precision jsonFloat `json:"precision"`
	Recall    jsonFloat `json:"recall"`
}

// threshold describes flagging the rows down to step s.
func threshold(rule string, target float64, s step, pos, n int) Threshold {
	t := Threshold{
		Rule: rule, Target: target, Reached: true, Value: s.score,
		Flagged: s.tp + s.fp, AlertRate: float64(s.tp+s.fp) / float64(n),
		Precision: float64(s.tp) / float64(s.tp+s.fp), Recall: math.NaN(),
	}
	if pos > 0 {
		t.Recall = float64(s.tp) / float64(pos)
	}
	return t
}

// unreached is the Threshold that flags nothing.
func unreached(rule string, target float64, pos int) Threshold {
	t := Threshold{Rule: rule, Target: target, Value: math.Inf(1), Precision: math.NaN(), Recall: math.NaN()}
	if pos > 0 {
		t.Recall = 0
	}
	return t
}

// ThresholdForPrecision returns the lowest threshold (so the highest
// recall) whose precision is at least target. When no threshold reaches
// it, the returned Threshold flags nothing and the error wraps
// ErrUnreachable.
func ThresholdForPrecision(scores []float64, labels []bool, target float64) (Threshold, error) {
	if !(target > 0 && target <= 1) {
		return Threshold{}, fmt.Errorf("metrics: target precision %g, want a value in (0, 1]", target)
	}
	if err := check(scores, labels); err != nil {
		return Threshold{}, err
	}
	steps, pos, neg := ranking(scores, labels)
	if pos == 0 || neg == 0 {
		return Threshold{}, ErrOneClass
	}
	return forPrecision(steps, pos, len(scores), target)
}

func forPrecision(steps []step, pos, n int, target float64) (Threshold, error) {
	for k := len(steps) - 1; k >= 0; k-- {
		s := steps[k]
		if float64(s.tp) >= target*float64(s.tp+s.fp) {
			return threshold(RulePrecision, target, s, pos, n), nil
		}
	}
	return unreached(RulePrecision, target, pos), fmt.Errorf("precision %g: %w", target, ErrUnreachable)
}

// RecallAtPrecision returns the highest recall among thresholds whose
// precision is at least target, and 0 when none reaches it.
func RecallAtPrecision(scores []float64, labels []bool, target float64) (float64, error) {
	t, err := ThresholdForPrecision(scores, labels, target)
	if errors.Is(err, ErrUnreachable) {
		return 0, nil
	}
	if err != nil {
		return math.NaN(), err
	}
	return t.Recall, nil
}

// budgetRows is the number of rows an alert budget allows: floor(budget*n),
// with a little slack so that 0.29*100 allows 29 rows.
func budgetRows(budget float64, n int) int {
	return int(math.Floor(budget*float64(n) + 1e-9))
}

// ThresholdForBudget returns the lowest threshold that flags at most
// budget (a share of rows in (0, 1]) of the rows. Tied scores are flagged
// together, so the budget may be under-used rather than exceeded. When
// even the highest score's ties exceed the budget, the returned Threshold
// flags nothing and the error wraps ErrUnreachable. Labels may hold one
// class only (Recall is then NaN without positives).
func ThresholdForBudget(scores []float64, labels []bool, budget float64) (Threshold, error) {
	if !(budget > 0 && budget <= 1) {
		return Threshold{}, fmt.Errorf("metrics: alert budget %g, want a share of rows in (0, 1]", budget)
	}
	if err := check(scores, labels); err != nil {
		return Threshold{}, err
	}
	steps, pos, _ := ranking(scores, labels)
	return forBudget(steps, pos, len(scores), budget)
}

func forBudget(steps []step, pos, n int, budget float64) (Threshold, error) {
	k := budgetRows(budget, n)
	best := -1
	for i, s := range steps {
		if s.tp+s.fp > k {
			break
		}
		best = i
	}
	if best < 0 {
		return unreached(RuleBudget, budget, pos), fmt.Errorf("alert budget %g (%d of %d rows): %w", budget, k, n, ErrUnreachable)
	}
	return threshold(RuleBudget, budget, steps[best], pos, n), nil
}

// PrecisionAtBudget returns the precision of the rows ThresholdForBudget
// flags: the precision of the top budget share of rows.
func PrecisionAtBudget(scores []float64, labels []bool, budget float64) (float64, error) {
	t, err := ThresholdForBudget(scores, labels, budget)
	if err != nil {
		return math.NaN(), err
	}
	return t.Precision, nil
}
