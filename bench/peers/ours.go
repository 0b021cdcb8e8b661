package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/baseline"
	"github.com/failcast/failcast/models/gbdt"
	"github.com/failcast/failcast/training"
)

// Row caps of the training stage's baselines (its defaults).
var (
	logRegRows = training.DefaultConfig().LogRegRows
	forestRows = training.DefaultConfig().BaselineRows
)

// settings are the hyperparameters every GBDT of the comparison shares.
type settings struct {
	rounds, depth, bins, threads int
	eta                          float64
	seed                         uint64
}

func (s settings) String() string {
	return fmt.Sprintf("%d rounds, depth %d, learning rate %g, %d bins, %d threads, no early stopping",
		s.rounds, s.depth, s.eta, s.bins, s.threads)
}

// classifier is what a Go model of the comparison offers.
type classifier interface {
	Fit(ctx context.Context, X models.Matrix, y []bool) error
	PredictProba(X models.Matrix) []float64
}

// gbdtClassifier is failcast's GBDT with fixed rounds.
type gbdtClassifier struct {
	p gbdt.Params
	m *gbdt.Model
}

func (c *gbdtClassifier) Fit(ctx context.Context, X models.Matrix, y []bool) error {
	Y := make([]float32, len(y))
	for i, v := range y {
		Y[i] = label(v)
	}
	m, err := gbdt.Fit(ctx, c.p, gbdt.Dataset{X: X, Y: Y}, nil)
	c.m = m
	return err
}

func (c *gbdtClassifier) PredictProba(X models.Matrix) []float64 { return c.m.PredictProba(X) }

// fitter adapts a baseline's Fit(X, y) to classifier.
type fitter struct {
	fit     func(X models.Matrix, y []bool) error
	predict func(X models.Matrix) []float64
}

func (f fitter) Fit(_ context.Context, X models.Matrix, y []bool) error { return f.fit(X, y) }
func (f fitter) PredictProba(X models.Matrix) []float64                 { return f.predict(X) }

// goModel is one Go model to compare.
type goModel struct {
	name, tool string
	model      classifier
	rows       int // training rows cap (0: all)
	note       string
}

// goModels returns failcast's GBDT and the training stage's baselines,
// set up as package training sets them up for trainRows training rows.
func goModels(s settings, names []string, trainRows int) []goModel {
	p := gbdt.DefaultParams()
	p.NumRounds, p.MaxDepth, p.LearningRate, p.MaxBins = s.rounds, s.depth, s.eta, s.bins
	p.Workers, p.Seed, p.EarlyStoppingRounds = s.threads, s.seed, 0
	lr := &baseline.LogReg{Seed: s.seed, MaxRows: logRegRows}
	fr := &baseline.Forest{Seed: s.seed, MaxRows: forestRows, Workers: s.threads,
		SampleRows: min(trainRows, forestRows, baseline.DefaultForestSampleRows)}
	out := []goModel{
		{name: "failcast gbdt", tool: "models/gbdt", model: &gbdtClassifier{p: p}},
		{name: "logistic regression", tool: "models/baseline (golearn liblinear)", model: fitter{lr.Fit, lr.PredictProba}, rows: logRegRows},
		{name: "random forest", tool: "models/baseline (golearn trees)", model: fitter{fr.Fit, fr.PredictProba}, rows: forestRows,
			note: fmt.Sprintf("%d trees", baseline.DefaultForestTrees)},
	}
	for j, n := range names {
		if n == training.RuleFeature {
			r := &baseline.Rule{Column: j}
			out = append(out, goModel{name: "rule: " + training.RuleFeature, tool: "models/baseline", model: fitter{r.Fit, r.PredictProba}})
		}
	}
	return out
}

// predictTimingMinRows is the least number of rows every model's
// prediction is timed on in memory (the validation rows repeated): a pass
// of a few tens of milliseconds is decided by the scheduler on a shared
// machine, one of a few hundred is not.
const predictTimingMinRows = 250_000

// timingMatrix returns X's rows repeated until there are at least
// predictTimingMinRows of them (X itself when it has that many).
func timingMatrix(X models.Matrix) models.Matrix {
	reps := timingRepeats(X.Rows)
	if reps == 1 {
		return X
	}
	data := make([]float32, 0, len(X.Data)*reps)
	for range reps {
		data = append(data, X.Data...)
	}
	return models.Matrix{Rows: X.Rows * reps, Cols: X.Cols, Data: data}
}

// timingRepeats is how many copies of rows rows make predictTimingMinRows.
func timingRepeats(rows int) int {
	if rows <= 0 {
		return 1
	}
	return max(1, (predictTimingMinRows+rows-1)/rows)
}

// runGo fits m on (a sample of) the training rows, times it and its
// prediction of timing (best of three passes; the validation rows
// repeated, see timingMatrix) and returns its predictions of the
// validation rows.
func runGo(ctx context.Context, m goModel, sp *training.Tables, timing models.Matrix, seed uint64) (result, []float64, error) {
	X, y := sp.TrainX, sp.TrainLabels
	note := m.note
	if m.rows > 0 && X.Rows > m.rows {
		rows := training.SampleRows(indexes(X.Rows), m.rows, seed)
		sampled := make([]bool, len(rows))
		for k, i := range rows {
			sampled[k] = y[i]
		}
		X, y = X.SelectRows(rows), sampled
		note = joinNote(note, fmt.Sprintf("row cap %d of %d", m.rows, sp.TrainX.Rows))
	}
	began := time.Now()
	if err := m.model.Fit(ctx, X, y); err != nil {
		return result{}, nil, fmt.Errorf("fit %s: %w", m.name, err)
	}
	fit := time.Since(began).Seconds()
	pred := m.model.PredictProba(sp.ValidX)
	best := math.Inf(1)
	for range 3 {
		began = time.Now()
		m.model.PredictProba(timing)
		best = min(best, time.Since(began).Seconds())
	}
	r := result{Model: m.name, Tool: m.tool, TrainRows: X.Rows, FitSeconds: fit,
		PredictRowsPerS: float64(timing.Rows) / max(best, 1e-9), Note: note}
	return r, pred, nil
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func joinNote(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
