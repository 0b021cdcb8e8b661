package training

import (
	"context"
	"fmt"
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

// baselineSpec is one baseline to train.
type baselineSpec struct {
	name  string
	model binaryModel
	X     models.Matrix
	y     []bool
	note  string
}

// fitBaselines trains the comparison models on (a sample of) the training
// rows and evaluates them on the full validation window.
func (t *trainer) fitBaselines(ctx context.Context, s *Tables) ([]*candidate, error) {
	tab := s.Table
	var specs []baselineSpec
	for _, b := range []struct {
		name  string
		limit int
		model func(rows int) binaryModel
	}{
		{"logistic regression", t.cfg.LogRegRows, func(int) binaryModel {
			return &baseline.LogReg{Seed: t.cfg.Seed, MaxRows: t.cfg.LogRegRows}
		}},
		{"random forest", t.cfg.BaselineRows, func(rows int) binaryModel {
			return &baseline.Forest{Seed: t.cfg.Seed, MaxRows: t.cfg.BaselineRows, SampleRows: min(rows, baseline.DefaultForestSampleRows)}
		}},
	} {
		capped := SampleRows(indexes(len(s.Train)), b.limit, t.cfg.Seed)
		note := ""
		if len(capped) < len(s.Train) {
			note = fmt.Sprintf("row cap %d of %d", len(capped), len(s.Train))
		}
		specs = append(specs, baselineSpec{b.name, b.model(len(capped)), s.TrainX.SelectRows(capped), pick(s.TrainLabels, capped), note})
	}
	if col := tab.Col(RuleFeature); col >= 0 {
		specs = append(specs, baselineSpec{"rule: " + RuleFeature, &baseline.Rule{Column: col}, s.TrainX, s.TrainLabels, ""})
	} else {
		t.log.Warn("rule baseline skipped: feature not in the table", "feature", RuleFeature)
	}
	var out []*candidate
	for _, sp := range specs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		began := time.Now()
		var err error
		if fc, ok := sp.model.(contextFitter); ok {
			err = fc.FitContext(ctx, sp.X, sp.y)
		} else {
			err = sp.model.Fit(sp.X, sp.y)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			// A baseline is for comparison only: report it, do not fail the run.
			t.log.Warn("baseline failed to train; left out of the comparison", "model", sp.name, "err", err)
			continue
		}
		fit := time.Since(began)
		c, err := t.evalCandidate(sp.name, sp.model.PredictProba(s.ValidX), s.ValidLabels, fit, sp.X.Rows, sp.note)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
