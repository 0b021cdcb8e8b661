package baseline

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/failcast/failcast/models"
)

// DefaultRuleAlpha is the default smoothing strength of Rule, in
// pseudo-rows.
const DefaultRuleAlpha = 2.0

// Rule is the simplest useful baseline: P(positive | the value of one
// categorical column), learned by counting. The caller picks the column
// (e.g. "the recipient's last outcome family"); Rule only knows its index.
//
// Rates are smoothed toward the base rate with Alpha pseudo-rows:
// P(v) = (positives(v) + Alpha*base) / (rows(v) + Alpha). This is Laplace
// smoothing (Alpha = 2, prior 1/2) with the prior moved to the base rate,
// since with ~5% positives a prior of 1/2 would inflate every rare value.
// A value not seen in training gets the base rate itself, itself
// Laplace-smoothed: (positives+1) / (rows+2).
type Rule struct {
	Column int     `json:"column"` // the column of X to condition on
	Alpha  float64 `json:"alpha"`  // smoothing strength in pseudo-rows; 0 takes DefaultRuleAlpha

	BaseRate float64     `json:"base_rate"`
	Values   []RuleValue `json:"values"` // in increasing Value order

	index map[float32]float64
}

// RuleValue is the learned rate of one value of the column.
type RuleValue struct {
	Value     float32 `json:"value"`
	Rows      int     `json:"rows"`
	Positives int     `json:"positives"`
	P         float64 `json:"p"` // smoothed P(positive | value)
}

// Fit counts the rows and positives of each value of the column.
func (r *Rule) Fit(X models.Matrix, y []bool) error {
	if err := checkTraining(X, y); err != nil {
		return err
	}
	if r.Column < 0 || r.Column >= X.Cols {
		return fmt.Errorf("baseline: rule column %d outside the %d columns", r.Column, X.Cols)
	}
	if r.Alpha == 0 {
		r.Alpha = DefaultRuleAlpha
	}
	if !(r.Alpha > 0) {
		return fmt.Errorf("baseline: rule smoothing alpha %g, want > 0", r.Alpha)
	}
	counts := map[float32]*RuleValue{}
	pos := 0
	for i := range X.Rows {
		v := X.At(i, r.Column)
		c := counts[v]
		if c == nil {
			c = &RuleValue{Value: v}
			counts[v] = c
		}
		c.Rows++
		if y[i] {
			c.Positives++
			pos++
		}
	}
	r.BaseRate = (float64(pos) + 1) / (float64(X.Rows) + 2)
	r.Values = r.Values[:0]
	for _, c := range counts {
		c.P = (float64(c.Positives) + r.Alpha*r.BaseRate) / (float64(c.Rows) + r.Alpha)
		r.Values = append(r.Values, *c)
	}
	slices.SortFunc(r.Values, func(a, b RuleValue) int {
		switch {
		case a.Value < b.Value:
			return -1
		case a.Value > b.Value:
			return 1
		}
		return 0
	})
	r.index = r.buildIndex()
	return nil
}

func (r *Rule) buildIndex() map[float32]float64 {
	index := make(map[float32]float64, len(r.Values))
	for _, v := range r.Values {
		index[v.Value] = v.P
	}
	return index
}

// PredictProba returns the smoothed rate of each row's value of the
// column, or the base rate for values not seen in training. It panics if
// X lacks the column.
func (r *Rule) PredictProba(X models.Matrix) []float64 {
	if r.Column >= X.Cols {
		panic(fmt.Sprintf("baseline: rule on column %d, X has %d columns", r.Column, X.Cols))
	}
	index := r.index
	if index == nil { // a Rule built by hand rather than by Fit or ReadRule
		index = r.buildIndex()
	}
	out := make([]float64, X.Rows)
	for i := range out {
		p, ok := index[X.At(i, r.Column)]
		if !ok {
			p = r.BaseRate
		}
		out[i] = p
	}
	return out
}

// WriteTo writes the rule as JSON.
func (r *Rule) WriteTo(w io.Writer) (int64, error) {
	return writeJSON(w, r)
}

// ReadRule reads a rule written by WriteTo.
func ReadRule(rd io.Reader) (*Rule, error) {
	var r Rule
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("baseline: read rule: %w", err)
	}
	if r.Column < 0 {
		return nil, fmt.Errorf("baseline: read rule: column %d, want >= 0", r.Column)
	}
	if !(r.BaseRate > 0 && r.BaseRate < 1) {
		return nil, fmt.Errorf("baseline: read rule: base rate %g, want a value in (0, 1)", r.BaseRate)
	}
	for _, v := range r.Values {
		if math.IsNaN(v.P) || v.P < 0 || v.P > 1 {
			return nil, fmt.Errorf("baseline: read rule: value %g has rate %g, want a value in [0, 1]", v.Value, v.P)
		}
	}
	r.index = r.buildIndex()
	return &r, nil
}
