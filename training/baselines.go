package training

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/baseline"
)

// RuleFeature is the categorical column the rule baseline conditions on.
const RuleFeature = "recipient_last_outcome_family"

// binaryModel is what a baseline offers the trainer.
type binaryModel interface {
	Fit(X models.Matrix, y []bool) error
	PredictProba(X models.Matrix) []float64
}

// contextFitter is a baseline whose training can be cancelled.
type contextFitter interface {
	FitContext(ctx context.Context, X models.Matrix, y []bool) error
}

// Time budget of the baselines. They are for comparison only: together
// they may take as long as the production models (the failure and family
// GBDTs) took to fit, never more, whatever the row caps. The rule
// baseline is cheap and always fits; the logistic regression and random
// forest each get half of what is left and grow their rows from
// firstBaselineRows, doubling up to their row cap while the next fit,
// predicted from the last one, fits in what is left of their share. So
// the baselines keep their place in the comparison on any history, on
// fewer rows when time is short (the note says how many).
const (
	firstBaselineRows = 5000
	// baselineGrowth is the predicted cost of doubling the rows: liblinear
	// and the forest grow somewhat faster than linearly.
	baselineGrowth = 2.5
)

// baselineSpec is one progressively fitted baseline.
type baselineSpec struct {
	name  string
	limit int                        // row cap
	model func(rows int) binaryModel // a fresh model for that many rows
}

// fitBaselines trains the comparison models on samples of the training
// rows within budget and evaluates them on the full validation window.
func (t *trainer) fitBaselines(ctx context.Context, s *Tables, budget time.Duration) ([]*candidate, error) {
	began := time.Now()
	tab := s.Table
	var out []*candidate
	if col := tab.Col(RuleFeature); col >= 0 {
		c, err := t.fitBaseline(ctx, s, "rule: "+RuleFeature, &baseline.Rule{Column: col}, indexes(s.Sample.Rows), "")
		if err != nil {
			return nil, err
		}
		if c != nil {
			out = append(out, c)
		}
	} else {
		t.log.Warn("rule baseline skipped: feature not in the table", "feature", RuleFeature)
	}
	specs := []baselineSpec{
		{"random forest", t.cfg.BaselineRows, func(rows int) binaryModel {
			return &baseline.Forest{Seed: t.cfg.Seed, MaxRows: t.cfg.BaselineRows, SampleRows: min(rows, baseline.DefaultForestSampleRows)}
		}},
		{"logistic regression", t.cfg.LogRegRows, func(int) binaryModel {
			return &baseline.LogReg{Seed: t.cfg.Seed, MaxRows: t.cfg.LogRegRows}
		}},
	}
	share := max(0, budget-time.Since(began)) / time.Duration(len(specs))
	for _, sp := range specs {
		c, err := t.fitProgressive(ctx, s, sp, share)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out = append(out, c)
		}
	}
	t.log.Info("baselines trained", "seconds", math.Round(time.Since(began).Seconds()*100)/100,
		"budget_seconds", math.Round(budget.Seconds()*100)/100)
	return out, nil
}

// fitProgressive fits sp on growing samples of the training rows while
// the next fit is predicted to end within budget, and evaluates the last
// one fitted.
func (t *trainer) fitProgressive(ctx context.Context, s *Tables, sp baselineSpec, budget time.Duration) (*candidate, error) {
	limit := min(sp.limit, s.Sample.Rows)
	rows := min(t.firstBaselineRows(), limit)
	var model binaryModel
	var X models.Matrix
	var fit time.Duration
	spent := time.Duration(0)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sample := SampleRows(indexes(s.Sample.Rows), rows, t.cfg.Seed)
		m := sp.model(len(sample))
		x := s.Sample.SelectRows(sample)
		took, err := fitOne(ctx, m, x, pick(s.SampleLabels, sample))
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// A baseline is for comparison only: report it, do not fail the run.
			t.log.Warn("baseline failed to train; left out of the comparison", "model", sp.name, "rows", rows, "err", err)
			break
		}
		model, X, fit = m, x, took
		spent += took
		if rows >= limit {
			break
		}
		next := min(2*rows, limit)
		predicted := time.Duration(float64(took) * baselineGrowth * float64(next) / float64(2*rows))
		if spent+predicted > budget {
			t.log.Info("baseline row count held by the time budget", "model", sp.name, "rows", rows, "row_cap", limit,
				"fit_seconds", math.Round(took.Seconds()*100)/100, "budget_seconds", math.Round(budget.Seconds()*100)/100)
			break
		}
		rows = next
	}
	if model == nil {
		return nil, nil
	}
	note := rowNote(X.Rows, s.TrainRows)
	if X.Rows < limit {
		note += " (time budget)"
	}
	return t.evalCandidate(sp.name, model.PredictProba(s.ValidX), s.ValidLabels, fit, X.Rows, note)
}

// fitBaseline fits one baseline on the given rows of the sample and
// evaluates it; nil when it failed to train.
func (t *trainer) fitBaseline(ctx context.Context, s *Tables, name string, m binaryModel, rows []int, note string) (*candidate, error) {
	X := s.Sample.SelectRows(rows)
	took, err := fitOne(ctx, m, X, pick(s.SampleLabels, rows))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		t.log.Warn("baseline failed to train; left out of the comparison", "model", name, "err", err)
		return nil, nil
	}
	return t.evalCandidate(name, m.PredictProba(s.ValidX), s.ValidLabels, took, X.Rows, rowNote(X.Rows, s.TrainRows)+note)
}

// fitOne fits m and returns how long it took.
func fitOne(ctx context.Context, m binaryModel, X models.Matrix, y []bool) (time.Duration, error) {
	began := time.Now()
	var err error
	if fc, ok := m.(contextFitter); ok {
		err = fc.FitContext(ctx, X, y)
	} else {
		err = m.Fit(X, y)
	}
	return time.Since(began), err
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// rowNote notes a row cap: n rows of all.
func rowNote(n, all int) string {
	if n < all {
		return fmt.Sprintf("row cap %d of %d", n, all)
	}
	return ""
}

// firstBaselineRows is the rows of a progressive baseline's first fit.
func (t *trainer) firstBaselineRows() int {
	if t.baselineFirst > 0 {
		return t.baselineFirst
	}
	return firstBaselineRows
}
