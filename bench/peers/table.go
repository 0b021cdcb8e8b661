package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/failcast/failcast/models/metrics"
)

// result is one model's line of the comparison.
type result struct {
	Model, Tool     string
	TrainRows       int
	FitSeconds      float64
	PredictRowsPerS float64
	PRAUC, ROCAUC   float64
	LogLoss         float64
	Note            string
	Runs            []repeatRun // every repeat of a model compared repeatedly (FitSeconds and PredictRowsPerS are then their medians)
}

// score fills r's quality figures from its validation predictions.
func score(r *result, pred []float64, labels []bool) error {
	var err error
	if r.PRAUC, err = metrics.AveragePrecision(pred, labels); err != nil {
		return fmt.Errorf("%s: PR-AUC: %w", r.Model, err)
	}
	if r.ROCAUC, err = metrics.ROCAUC(pred, labels); err != nil {
		return fmt.Errorf("%s: ROC-AUC: %w", r.Model, err)
	}
	if r.LogLoss, err = metrics.LogLoss(pred, labels); err != nil {
		return fmt.Errorf("%s: log-loss: %w", r.Model, err)
	}
	return nil
}

// report is the whole comparison.
type report struct {
	History              string
	AsOf                 string
	Settings             settings
	Features             int
	TrainRows, ValidRows int
	TrainRate, ValidRate float64 // positive shares
	BuildSeconds         float64 // features and split
	WriteSeconds         float64 // CSV and f32 files
	Results              []result
	OMPWaitPolicy        string   // OMP_WAIT_POLICY given to the peers ("" = inherited)
	Skipped              []string // peers not run, with the reason
	OursName             string   // the model the ratios divide by theirs
	PeerNames            []string // the models the ratios compare with
	Repeats              int      // repeats of ours and XGBoost
}

// writeMarkdown writes the comparison as Markdown tables.
func (r *report) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Feature table: %d training rows (%.2f%% failed), %d validation rows (%.2f%% failed), %d features; "+
		"validation = the last 3 days before %s, gap = lead 4 h (as package training). Features and split %.1f s, CSV/f32 files %.1f s.\n\n",
		r.TrainRows, 100*r.TrainRate, r.ValidRows, 100*r.ValidRate, r.Features, r.AsOf, r.BuildSeconds, r.WriteSeconds)
	policy := "OMP_WAIT_POLICY=" + r.OMPWaitPolicy
	if r.OMPWaitPolicy == "" {
		policy = "OMP_WAIT_POLICY inherited"
	}
	fmt.Fprintf(&b, "GBDTs: %s; XGBoost and scikit-learn with %s.\n\n", r.Settings, policy)
	b.WriteString("| model | tool | train rows | fit s | predict rows/s | PR-AUC | ROC-AUC | log-loss | note |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, x := range r.Results {
		fmt.Fprintf(&b, "| %s | %s | %d | %.2f | %s | %.4f | %.4f | %.4f | %s |\n",
			x.Model, x.Tool, x.TrainRows, x.FitSeconds, thousands(x.PredictRowsPerS), x.PRAUC, x.ROCAUC, x.LogLoss, x.Note)
	}
	ours, ok := r.find(r.OursName)
	var ratios []string
	for _, name := range r.PeerNames {
		theirs, found := r.find(name)
		if !ok || !found {
			continue
		}
		fit := pairedRatio(ours, theirs, func(r repeatRun) float64 { return r.FitSeconds }, ours.FitSeconds, theirs.FitSeconds)
		pred := pairedRatio(ours, theirs, func(r repeatRun) float64 { return r.PredictRowsPerS }, ours.PredictRowsPerS, theirs.PredictRowsPerS)
		ratios = append(ratios, fmt.Sprintf("| %s / %s | %s | %s | %s | %s | %s |\n", ours.Model, theirs.Model,
			fit, pred, ratio(ours.PRAUC, theirs.PRAUC), ratio(ours.ROCAUC, theirs.ROCAUC), ratio(ours.LogLoss, theirs.LogLoss)))
	}
	if len(ratios) > 0 {
		b.WriteString("\nRatios ours / theirs, same run (fit s and log-loss: below 1 is better for ours; predict rows/s, PR-AUC, ROC-AUC: above 1 is better)")
		if r.Repeats > 1 {
			fmt.Fprintf(&b, "; fit s and predict rows/s are the median of the %d per-repeat ratios (ours and XGBoost in turns, the order swapped every repeat), "+
				"the range in brackets; against a model run once, ours' median over its value", r.Repeats)
		}
		b.WriteString(":\n\n")
		b.WriteString("| ours / theirs | fit s | predict rows/s | PR-AUC | ROC-AUC | log-loss |\n|---|---:|---:|---:|---:|---:|\n")
		for _, l := range ratios {
			b.WriteString(l)
		}
	}
	if len(r.Skipped) > 0 {
		b.WriteString("\nNot compared:\n\n")
		for _, s := range r.Skipped {
			fmt.Fprintf(&b, "- %s\n", s)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *report) find(model string) (result, bool) {
	for _, x := range r.Results {
		if x.Model == model {
			return x, true
		}
	}
	return result{}, false
}

// pairedRatio formats the median of the per-repeat ratios a/b of two
// repeated models' figures (repeats paired by number, a repeat either
// failed left out), with their range; for a model run once, a's median
// over b's value (or the other way round).
func pairedRatio(a, b result, fig func(repeatRun) float64, aOnce, bOnce float64) string {
	if len(a.Runs) == 0 || len(b.Runs) == 0 {
		return ratio(aOnce, bOnce)
	}
	var rs []float64
	for _, x := range a.Runs {
		for _, y := range b.Runs {
			if x.Repeat == y.Repeat && x.ok() && y.ok() && fig(y) != 0 {
				rs = append(rs, fig(x)/fig(y))
			}
		}
	}
	s := spreadOf(rs)
	switch {
	case s.n == 0:
		return "-"
	case s.n == 1:
		return fmt.Sprintf("%.3f", s.median)
	}
	return fmt.Sprintf("%.3f (%.3f-%.3f)", s.median, s.min, s.max)
}

// ratio formats a/b with three decimals, "-" when undefined.
func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "-"
	}
	return fmt.Sprintf("%.3f", a/b)
}

// thousands formats a non-negative rate rounded to an integer with
// thousands separators (1234567 -> "1,234,567").
func thousands(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
