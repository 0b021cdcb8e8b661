package metrics

import (
	"errors"
	"fmt"
	"math"

	"github.com/failcast/failcast/models/internal/floatsort"
)

// ErrOneClass is returned by metrics that need positive and negative rows
// when the labels hold only one class.
var ErrOneClass = errors.New("metrics: labels hold only one class")

// ErrEmpty is returned when there are no rows to score.
var ErrEmpty = errors.New("metrics: no rows")

// LogLossEpsilon is where LogLoss and MultiLogLoss clip probabilities:
// p is taken as min(max(p, eps), 1-eps), so one confident mistake costs
// at most -log(1e-15) ~ 34.5 instead of +Inf.
const LogLossEpsilon = 1e-15

// check validates a scores/labels pair.
func check(scores []float64, labels []bool) error {
	if len(scores) != len(labels) {
		return fmt.Errorf("metrics: %d scores but %d labels", len(scores), len(labels))
	}
	if len(scores) == 0 {
		return ErrEmpty
	}
	for i, s := range scores {
		if math.IsNaN(s) {
			return fmt.Errorf("metrics: score of row %d is NaN", i)
		}
	}
	return nil
}

// step is one distinct score in descending order, with the cumulative
// counts of positive (tp) and negative (fp) rows scoring >= score.
type step struct {
	score  float64
	tp, fp int
}

// ranking returns one step per distinct score, in descending order, plus
// the class totals. It sorts the positive and the negative rows' scores
// apart (by radix: no row structs, no comparisons) and merges them: a step's counts do not depend on the order of the rows
// within a tie.
func ranking(scores []float64, labels []bool) (steps []step, pos, neg int) {
	for _, l := range labels {
		if l {
			pos++
		}
	}
	neg = len(labels) - pos
	ps, ns := make([]float64, 0, pos), make([]float64, 0, neg)
	for i, s := range scores {
		if labels[i] {
			ps = append(ps, s)
		} else {
			ns = append(ns, s)
		}
	}
	floatsort.Float64s(ps)
	floatsort.Float64s(ns)
	// Walk both from their largest score down.
	i, j := len(ps)-1, len(ns)-1
	tp, fp := 0, 0
	for i >= 0 || j >= 0 {
		var s float64
		switch {
		case j < 0:
			s = ps[i]
		case i < 0:
			s = ns[j]
		default:
			s = max(ps[i], ns[j])
		}
		for i >= 0 && ps[i] == s {
			tp++
			i--
		}
		for j >= 0 && ns[j] == s {
			fp++
			j--
		}
		steps = append(steps, step{score: s, tp: tp, fp: fp})
	}
	return steps, pos, neg
}

// ROCAUC returns the area under the ROC curve: the probability that a
// random positive row scores above a random negative one, ties counting
// one half.
func ROCAUC(scores []float64, labels []bool) (float64, error) {
	if err := check(scores, labels); err != nil {
		return math.NaN(), err
	}
	steps, pos, neg := ranking(scores, labels)
	if pos == 0 || neg == 0 {
		return math.NaN(), ErrOneClass
	}
	return aucOf(steps, pos, neg), nil
}

func aucOf(steps []step, pos, neg int) float64 {
	var area float64 // in units of positive x negative pairs
	prevTP, prevFP := 0, 0
	for _, s := range steps {
		// Trapezoid: within a tie group the curve is a straight line,
		// which is exactly the one-half credit for tied pairs.
		area += float64(s.fp-prevFP) * float64(s.tp+prevTP) / 2
		prevTP, prevFP = s.tp, s.fp
	}
	return area / (float64(pos) * float64(neg))
}

// AveragePrecision returns the step-wise area under the precision-recall
// curve, sum over distinct scores of (R_k - R_{k-1}) * P_k (see the
// package documentation). A random scorer gets about the base rate.
func AveragePrecision(scores []float64, labels []bool) (float64, error) {
	if err := check(scores, labels); err != nil {
		return math.NaN(), err
	}
	steps, pos, neg := ranking(scores, labels)
	if pos == 0 || neg == 0 {
		return math.NaN(), ErrOneClass
	}
	return apOf(steps, pos), nil
}

func apOf(steps []step, pos int) float64 {
	var ap float64
	prevTP := 0
	for _, s := range steps {
		if s.tp == prevTP {
			continue
		}
		precision := float64(s.tp) / float64(s.tp+s.fp)
		ap += float64(s.tp-prevTP) / float64(pos) * precision
		prevTP = s.tp
	}
	return ap
}

// LogLoss returns the mean negative log-likelihood of the labels under the
// predicted probabilities, clipped at LogLossEpsilon.
func LogLoss(probs []float64, labels []bool) (float64, error) {
	if err := check(probs, labels); err != nil {
		return math.NaN(), err
	}
	var sum float64
	for i, p := range probs {
		p = clip(p)
		if labels[i] {
			sum -= math.Log(p)
		} else {
			sum -= math.Log1p(-p)
		}
	}
	return sum / float64(len(probs)), nil
}

func clip(p float64) float64 {
	return min(max(p, LogLossEpsilon), 1-LogLossEpsilon)
}

// Brier returns the mean squared difference between the predicted
// probability and the outcome (1 for positive, 0 for negative).
func Brier(probs []float64, labels []bool) (float64, error) {
	if err := check(probs, labels); err != nil {
		return math.NaN(), err
	}
	var sum float64
	for i, p := range probs {
		y := 0.0
		if labels[i] {
			y = 1
		}
		sum += (p - y) * (p - y)
	}
	return sum / float64(len(probs)), nil
}

// Bin is one row of a reliability (calibration) table.
type Bin struct {
	Lower, Upper  float64 // the bin covers predicted probabilities [Lower, Upper) ([Lower, 1] for the last)
	Count         int     // rows in the bin
	MeanPredicted float64 // mean predicted probability; NaN when Count is 0
	ObservedRate  float64 // share of positive rows; NaN when Count is 0
}

// Reliability returns the calibration table of probabilities over n
// equal-width bins of [0, 1]. Empty bins are included, with Count 0.
func Reliability(probs []float64, labels []bool, n int) ([]Bin, error) {
	if n <= 0 {
		return nil, fmt.Errorf("metrics: reliability needs at least one bin, got %d", n)
	}
	if err := check(probs, labels); err != nil {
		return nil, err
	}
	sums := make([]float64, n)
	pos := make([]int, n)
	bins := make([]Bin, n)
	for i, p := range probs {
		if p < 0 || p > 1 {
			return nil, fmt.Errorf("metrics: probability of row %d is %g, want a value in [0, 1]", i, p)
		}
		b := min(int(p*float64(n)), n-1)
		bins[b].Count++
		sums[b] += p
		if labels[i] {
			pos[b]++
		}
	}
	for b := range bins {
		bins[b].Lower = float64(b) / float64(n)
		bins[b].Upper = float64(b+1) / float64(n)
		if bins[b].Count == 0 {
			bins[b].MeanPredicted, bins[b].ObservedRate = math.NaN(), math.NaN()
			continue
		}
		bins[b].MeanPredicted = sums[b] / float64(bins[b].Count)
		bins[b].ObservedRate = float64(pos[b]) / float64(bins[b].Count)
	}
	return bins, nil
}

// ECE returns the expected calibration error of a reliability table: the
// count-weighted mean of |MeanPredicted - ObservedRate|.
func ECE(bins []Bin) float64 {
	var sum float64
	total := 0
	for _, b := range bins {
		if b.Count == 0 {
			continue
		}
		sum += float64(b.Count) * math.Abs(b.MeanPredicted-b.ObservedRate)
		total += b.Count
	}
	if total == 0 {
		return math.NaN()
	}
	return sum / float64(total)
}

// ROCPoint is one point of a ROC curve: flagging rows with score >=
// Threshold gives these false and true positive rates.
type ROCPoint struct {
	Threshold float64
	FPR, TPR  float64
}

// ROCCurve returns the ROC curve, one point per distinct score from the
// highest down, preceded by (0, 0) at threshold +Inf.
func ROCCurve(scores []float64, labels []bool) ([]ROCPoint, error) {
	if err := check(scores, labels); err != nil {
		return nil, err
	}
	steps, pos, neg := ranking(scores, labels)
	if pos == 0 || neg == 0 {
		return nil, ErrOneClass
	}
	out := make([]ROCPoint, 0, len(steps)+1)
	out = append(out, ROCPoint{Threshold: math.Inf(1)})
	for _, s := range steps {
		out = append(out, ROCPoint{Threshold: s.score, FPR: float64(s.fp) / float64(neg), TPR: float64(s.tp) / float64(pos)})
	}
	return out, nil
}

// PRPoint is one point of a precision-recall curve: flagging rows with
// score >= Threshold gives this recall and precision.
type PRPoint struct {
	Threshold         float64
	Recall, Precision float64
}

// PRCurve returns the precision-recall curve, one point per distinct score
// from the highest down.
func PRCurve(scores []float64, labels []bool) ([]PRPoint, error) {
	if err := check(scores, labels); err != nil {
		return nil, err
	}
	steps, pos, neg := ranking(scores, labels)
	if pos == 0 || neg == 0 {
		return nil, ErrOneClass
	}
	out := make([]PRPoint, 0, len(steps))
	for _, s := range steps {
		out = append(out, PRPoint{
			Threshold: s.score,
			Recall:    float64(s.tp) / float64(pos),
			Precision: float64(s.tp) / float64(s.tp+s.fp),
		})
	}
	return out, nil
}
