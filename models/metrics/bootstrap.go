package metrics

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// PairedAP compares the average precision (PR-AUC) of two scorers on the
// same rows.
type PairedAP struct {
	A, B float64 // AP of each scorer on the rows as they are
	// Diff is B - A; Low and High bound its central 95% over the
	// bootstrap replicates, and ProbBetter is the share of replicates
	// in which B's AP is above A's.
	Diff, Low, High float64
	ProbBetter      float64
	Replicates      int
}

// ComparePR estimates how much of the PR-AUC difference between scorers
// a and b (scores of the same rows, labels the truth) is noise of the
// rows drawn, with a paired bootstrap: each replicate weighs every row
// by a Poisson(1) count (the Poisson bootstrap, which for many rows
// behaves as resampling them with replacement) and scores both scorers
// on the same weights. The same seed gives the same result. Each
// replicate costs one pass over the rows per scorer: the rows are
// sorted once.
func ComparePR(a, b []float64, labels []bool, replicates int, seed uint64) (PairedAP, error) {
	if err := check(a, labels); err != nil {
		return PairedAP{}, err
	}
	if len(b) != len(labels) {
		return PairedAP{}, fmt.Errorf("metrics: %d scores of the second scorer for %d labels", len(b), len(labels))
	}
	if replicates < 1 {
		return PairedAP{}, errors.New("metrics: want at least one bootstrap replicate")
	}
	ra, rb := newRankedRows(a, labels), newRankedRows(b, labels)
	ones := make([]uint8, len(labels))
	for i := range ones {
		ones[i] = 1
	}
	out := PairedAP{A: ra.ap(ones), B: rb.ap(ones), Replicates: replicates}
	if math.IsNaN(out.A) || math.IsNaN(out.B) {
		return PairedAP{}, ErrOneClass
	}
	out.Diff = out.B - out.A
	rng := rand.New(rand.NewPCG(seed, 0x5eed_b007))
	w := make([]uint8, len(labels))
	diffs := make([]float64, 0, replicates)
	better := 0
	for range replicates {
		for i := range w {
			w[i] = poisson1(rng.Float64())
		}
		da, db := ra.ap(w), rb.ap(w)
		if math.IsNaN(da) || math.IsNaN(db) {
			continue // a replicate without positives or negatives
		}
		diffs = append(diffs, db-da)
		if db > da {
			better++
		}
	}
	if len(diffs) == 0 {
		return PairedAP{}, ErrOneClass
	}
	slices.Sort(diffs)
	out.Low, out.High = quantile(diffs, 0.025), quantile(diffs, 0.975)
	out.ProbBetter = float64(better) / float64(len(diffs))
	out.Replicates = len(diffs)
	return out, nil
}

// poisson1Cum is the cumulative distribution of Poisson(1) up to 9 (the
// rest, below 1e-7, counts as 10).
var poisson1Cum = func() (c [10]float64) {
	p, sum := math.Exp(-1), 0.0
	for k := range c {
		sum += p
		c[k] = sum
		p /= float64(k + 1)
	}
	return c
}()

// poisson1 draws Poisson(1) by inverting its distribution at u in [0, 1).
func poisson1(u float64) uint8 {
	for k, c := range poisson1Cum {
		if u < c {
			return uint8(k)
		}
	}
	return uint8(len(poisson1Cum))
}

// quantile is the q-quantile of sorted values (linear interpolation).
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(pos)
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (pos-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// rankedRows are rows in descending score order, with the ends of groups
// of equal scores, for weighted average precision in one pass.
type rankedRows struct {
	order  []int32
	groups []int32 // end (exclusive) in order of each group of equal scores
	labels []bool
}

func newRankedRows(scores []float64, labels []bool) rankedRows {
	order := make([]int32, len(scores))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return cmp.Compare(scores[y], scores[x]) })
	var groups []int32
	for k := range order {
		if k+1 == len(order) || scores[order[k+1]] != scores[order[k]] {
			groups = append(groups, int32(k+1))
		}
	}
	return rankedRows{order: order, groups: groups, labels: labels}
}

// ap is AveragePrecision with row i counted w[i] times (NaN without
// positives or negatives).
func (r rankedRows) ap(w []uint8) float64 {
	pos, neg := 0, 0
	for i, l := range r.labels {
		if l {
			pos += int(w[i])
		} else {
			neg += int(w[i])
		}
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	var ap float64
	tp, fp, prevTP, k := 0, 0, 0, 0
	for _, end := range r.groups {
		for ; k < int(end); k++ {
			i := r.order[k]
			if r.labels[i] {
				tp += int(w[i])
			} else {
				fp += int(w[i])
			}
		}
		if tp != prevTP {
			ap += float64(tp-prevTP) / float64(pos) * float64(tp) / float64(tp+fp)
			prevTP = tp
		}
	}
	return ap
}
