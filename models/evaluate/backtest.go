package evaluate

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/failcast/failcast/models/metrics"
)

// FitFunc trains on the train rows and returns one score per valid row, in
// the order of valid.
type FitFunc func(train, valid []int) ([]float64, error)

// FoldResult is one fold of a backtest. Times are Unix microseconds.
type FoldResult struct {
	Fold           int             `json:"fold"`
	TrainFrom      int64           `json:"train_from"` // earliest training row
	TrainTo        int64           `json:"train_to"`   // latest training row
	ValidFrom      int64           `json:"valid_from"` // the validation window [ValidFrom, ValidTo)
	ValidTo        int64           `json:"valid_to"`
	TrainRows      int             `json:"train_rows"`
	ValidRows      int             `json:"valid_rows"`
	ValidPositives int             `json:"valid_positives"`
	Metrics        metrics.Summary `json:"metrics"`
	Valid          []int           `json:"-"` // the validation rows
	Scores         []float64       `json:"-"` // the scores fit returned for them
}

// Backtest runs a rolling-origin evaluation: the most recent folds*foldDays
// days are cut into folds consecutive windows of foldDays days, oldest
// first. Fold k validates on window k and trains on every row more than
// gap before that window (an expanding training set), so each origin lies
// later than the one before. fit is called once per fold; its scores are
// scored against labels with metrics.Compute.
func Backtest(ctx context.Context, times []int64, folds, foldDays int, gap time.Duration,
	fit FitFunc, labels []bool) ([]FoldResult, error) {
	switch {
	case folds <= 0:
		return nil, fmt.Errorf("evaluate: backtest with %d folds, want at least 1", folds)
	case foldDays <= 0:
		return nil, fmt.Errorf("evaluate: backtest folds of %d days, want at least 1", foldDays)
	case gap < 0:
		return nil, fmt.Errorf("evaluate: gap %v is negative, want at least the lead time", gap)
	case len(labels) != len(times):
		return nil, fmt.Errorf("evaluate: %d labels for %d rows", len(labels), len(times))
	case len(times) == 0:
		return nil, fmt.Errorf("%w: no rows", ErrEmptySide)
	}
	end := latest(times) + 1
	width := int64(foldDays) * Day
	out := make([]FoldResult, 0, folds)
	for k := range folds {
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("evaluate: backtest stopped before fold %d: %w", k, err)
		}
		from := end - int64(folds-k)*width
		to := from + width
		var train, valid []int
		trainTo := from - gap.Microseconds()
		for i, t := range times {
			switch {
			case t >= from && t < to:
				valid = append(valid, i)
			case t < trainTo:
				train = append(train, i)
			}
		}
		if len(train) == 0 || len(valid) == 0 {
			return out, fmt.Errorf("%w: fold %d (validation %s to %s) has %d training and %d validation rows",
				ErrEmptySide, k, FormatMicros(from), FormatMicros(to), len(train), len(valid))
		}
		scores, err := fit(train, valid)
		if err != nil {
			return out, fmt.Errorf("evaluate: fold %d: %w", k, err)
		}
		if len(scores) != len(valid) {
			return out, fmt.Errorf("evaluate: fold %d: fit returned %d scores for %d validation rows", k, len(scores), len(valid))
		}
		y := make([]bool, len(valid))
		for j, i := range valid {
			y[j] = labels[i]
		}
		sum, err := metrics.ComputeAt(scores, y, metrics.DefaultPrecisions, metrics.DefaultBudgets)
		if err != nil {
			return out, fmt.Errorf("evaluate: fold %d: %w", k, err)
		}
		r := FoldResult{
			Fold: k, ValidFrom: from, ValidTo: to,
			TrainRows: len(train), ValidRows: len(valid), ValidPositives: sum.Positives,
			Metrics: sum, Valid: valid, Scores: scores,
		}
		r.TrainFrom, r.TrainTo = Window(times, train)
		slog.Debug("backtest fold", "fold", k, "valid_from", FormatMicros(from), "train_rows", len(train),
			"valid_rows", len(valid), "roc_auc", sum.ROCAUC, "pr_auc", sum.PRAUC)
		out = append(out, r)
	}
	return out, nil
}
