package training

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/evaluate"
	"github.com/failcast/failcast/models/gbdt"
	"github.com/failcast/failcast/models/metrics"
)

// The champion comparison over a rolling-origin backtest.
//
// A training seed moves validation PR-AUC by about +-0.02: one validation
// window cannot tell a better model from a luckier one. So the challenger's
// recipe (its GBDT parameters and seed) and the champion's (from its
// metadata) are both refitted at Config.BacktestFolds cutoffs of this
// run's history (models/evaluate.Backtest: folds of ValidDays days ending
// at as-of, each trained on the sends more than the lead before it) and
// scored on the same fold rows. The per-fold differences give the interval
// of the mean difference (t interval over the folds, which holds the seed
// and data noise, plus the bootstrap variance of each fold's rows):
//
//	mean d +- t(0.975, K-1) * sqrt(var_folds(d)/K + sum_k var_boot(d_k)/K^2)
//
// and the decision (docs/train.md):
//
//   - the interval is above 0: the challenger is better, promoted;
//   - its upper end is below -Tolerance: worse, kept out (--force promotes);
//   - else a tie: promoted only when the challenger saw newer data than
//     the champion (a later as-of), so fresh data is not held back by
//     noise; a tie on the same data (a seed-only change) keeps the champion
//     unless --force.
//
// Cost is bounded: at most BacktestFolds folds (default 3), each fit on at
// most BacktestRows of the most recent training rows (default 100000),
// with the rounds each recipe kept, no early stopping; 2*K fits of the
// failure model alone. The champion's recipe is refitted rather than its
// model scored because the champion has trained on the earlier folds.

// recipe is how a failure model is fitted: what a backtest refits.
type recipe struct {
	params gbdt.Params
	rounds int // boosting rounds (no early stopping in a backtest)
}

// championRecipe reads the champion's recipe from its metadata; ok is
// false when the metadata lacks what is needed.
func (t *trainer) championRecipe(md artifact.Metadata) (recipe, bool) {
	num := func(k string) (float64, bool) {
		switch v := md.Hyperparameters[k].(type) {
		case float64:
			return v, true
		case int:
			return float64(v), true
		}
		return 0, false
	}
	p := t.gbdtParams()
	p.Objective = gbdt.Binary
	depth, ok1 := num("depth")
	lr, ok2 := num("learning_rate")
	rounds, ok3 := num("fail_rounds_kept")
	if !ok1 || !ok2 || !ok3 || rounds < 1 {
		return recipe{}, false
	}
	p.MaxDepth, p.LearningRate, p.Seed = int(depth), lr, md.Seed
	p.NumRounds, p.EarlyStoppingRounds = int(rounds), 0
	return recipe{params: p, rounds: int(rounds)}, true
}

// challengerRecipe is this run's recipe with the rounds its fail model kept.
func (t *trainer) challengerRecipe(rounds int) recipe {
	p := t.gbdtParams()
	p.Objective = gbdt.Binary
	p.NumRounds, p.EarlyStoppingRounds = max(1, rounds), 0
	return recipe{params: p, rounds: max(1, rounds)}
}

// BacktestComparison is the champion comparison over the backtest folds.
type BacktestComparison struct {
	Folds          []BacktestFold
	MeanDifference float64 // challenger - champion PR-AUC, mean over folds
	Low, High      float64 // its 95% interval
	Verdict        string  // "better", "worse" or "tie"
	Seconds        float64
}

// BacktestFold is one fold of the comparison.
type BacktestFold struct {
	ValidFrom, ValidTo          int64 // Unix µs
	TrainRows, ValidRows        int
	ValidPositives              int
	ChallengerPRAUC, ChampPRAUC float64
	Difference                  float64
	BootLow, BootHigh           float64 // paired bootstrap 95% interval of the difference
}

// backtestCompare runs the comparison of the two recipes on s's table.
func (t *trainer) backtestCompare(ctx context.Context, s *Tables, chal, champ recipe) (*BacktestComparison, error) {
	began := time.Now()
	tab, trainRows, validRows := s.backtestSet()
	// Only the sends before as-of that this run trained or validated on.
	rows := make([]int, 0, len(trainRows)+len(validRows))
	rows = append(append(rows, trainRows...), validRows...)
	times := make([]int64, len(rows))
	labels := make([]bool, len(rows))
	for k, i := range rows {
		times[k], labels[k] = tab.Time[i], tab.Failed[i]
	}
	full := models.Matrix{Rows: tab.Rows, Cols: len(tab.Names), Data: tab.X}
	champScores := map[int][]float64{}
	fold := 0
	fit := func(train, valid []int) ([]float64, error) {
		if n := t.cfg.BacktestRows; n > 0 && len(train) > n {
			train = train[len(train)-n:] // the most recent rows: times are in order
		}
		tr := make([]int, len(train))
		for k, j := range train {
			tr[k] = rows[j]
		}
		va := make([]int, len(valid))
		for k, j := range valid {
			va[k] = rows[j]
		}
		y := make([]float32, len(tr))
		for k, i := range tr {
			if tab.Failed[i] {
				y[k] = 1
			}
		}
		d := gbdt.Dataset{X: full.SelectRows(tr), Y: y}
		vx := full.SelectRows(va)
		var out [2][]float64
		for r, rc := range []recipe{chal, champ} {
			m, err := gbdt.Fit(ctx, rc.params, d, nil)
			if err != nil {
				return nil, err
			}
			out[r] = m.PredictProba(vx)
		}
		champScores[fold] = out[1]
		fold++
		return out[0], nil
	}
	res, err := evaluate.Backtest(ctx, times, t.cfg.BacktestFolds, t.cfg.ValidDays, t.cfg.Lead, fit, labels)
	if err != nil {
		return nil, err
	}
	bc := &BacktestComparison{}
	var diffs []float64
	bootVar := 0.0
	for k, f := range res {
		y := make([]bool, len(f.Valid))
		for j, i := range f.Valid {
			y[j] = labels[i]
		}
		champPR, err := metrics.AveragePrecision(champScores[k], y)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", k, err)
		}
		trainRows := f.TrainRows
		if n := t.cfg.BacktestRows; n > 0 {
			trainRows = min(trainRows, n)
		}
		bf := BacktestFold{ValidFrom: f.ValidFrom, ValidTo: f.ValidTo, TrainRows: trainRows,
			ValidRows: f.ValidRows, ValidPositives: f.ValidPositives, ChallengerPRAUC: f.Metrics.PRAUC, ChampPRAUC: champPR,
			Difference: f.Metrics.PRAUC - champPR, BootLow: math.NaN(), BootHigh: math.NaN()}
		if pc, err := metrics.ComparePR(champScores[k], f.Scores, y, compareReplicates, t.cfg.Seed); err == nil {
			bf.BootLow, bf.BootHigh = pc.Low, pc.High
			se := (pc.High - pc.Low) / (2 * 1.96)
			bootVar += se * se
		}
		bc.Folds = append(bc.Folds, bf)
		diffs = append(diffs, bf.Difference)
	}
	K := float64(len(diffs))
	m := mean(diffs)
	v := 0.0
	for _, d := range diffs {
		v += (d - m) * (d - m)
	}
	if K > 1 {
		v /= K - 1
	}
	se := math.Sqrt(v/K + bootVar/(K*K))
	q := tQuantile975(len(diffs) - 1)
	bc.MeanDifference, bc.Low, bc.High = m, m-q*se, m+q*se
	switch {
	case bc.Low > 0:
		bc.Verdict = "better"
	case bc.High < -t.cfg.Tolerance:
		bc.Verdict = "worse"
	default:
		bc.Verdict = "tie"
	}
	bc.Seconds = time.Since(began).Seconds()
	return bc, nil
}

// tQuantile975 is the 97.5% quantile of Student's t with dof degrees of
// freedom (1.96 for many; a single fold uses the bootstrap alone, z).
func tQuantile975(dof int) float64 {
	table := []float64{1.96, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228}
	if dof >= 1 && dof < len(table) {
		return table[dof]
	}
	return 1.96
}
