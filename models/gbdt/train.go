package gbdt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/failcast/failcast/models"
)

// Fit trains a model on train. valid, when not nil, is scored after every
// round (log-loss, weighted by valid.Weight) and drives early stopping;
// pass a split that comes after train in time. Fit checks ctx between
// rounds and returns ctx's error, wrapped, when it is cancelled.
//
// The result depends only on p (Workers aside), train and valid: the same
// seed gives the same model, byte for byte, whatever the worker count.
func Fit(ctx context.Context, p Params, train Dataset, valid *Dataset) (*Model, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := train.validate("train", p, -1); err != nil {
		return nil, err
	}
	if valid != nil {
		if err := valid.validate("valid", p, train.X.Cols); err != nil {
			return nil, err
		}
	}
	if p.EarlyStoppingRounds > 0 && valid == nil {
		return nil, errors.New("gbdt: params: EarlyStoppingRounds is set but no validation set was given")
	}
	p.ClassWeights = slices.Clone(p.ClassWeights)
	workers := p.workers()
	start := time.Now()

	weights := rowWeights(train, p.ClassWeights)
	sumW := 0.0
	for _, w := range weights {
		sumW += w
	}
	if !(sumW > 0) {
		return nil, errors.New("gbdt: train set: all row weights are 0")
	}

	bm, bins, err := trainBins(ctx, p, train, workers)
	if err != nil {
		return nil, err
	}
	layout := newHistLayout(bm)
	var splittable []int
	for f := range layout.nbins {
		if layout.nbins[f] > 1 {
			splittable = append(splittable, f)
		}
	}

	k := p.numOutputs()
	n := train.X.Rows
	m := &Model{
		params:      p,
		numFeatures: train.X.Cols,
		numOutputs:  k,
		baseScore:   baseScores(p, train.Y, weights),
		workers:     workers,
	}
	m.params.Workers = 0
	scores := make([]float64, n*k)
	for i := range scores {
		scores[i] = m.baseScore[i%k]
	}
	var validScores []float64
	var vb *validBins // the validation rows' bins, which every round's trees walk
	if valid != nil {
		if vb, err = binValid(ctx, valid.X, bm, workers); err != nil {
			return nil, fmt.Errorf("gbdt: binning the validation set: %w", err)
		}
		validScores = make([]float64, valid.X.Rows*k)
		for i := range validScores {
			validScores[i] = m.baseScore[i%k]
		}
	}
	grads := make([][]gradPair, k)
	for c := range grads {
		grads[c] = make([]gradPair, n)
	}
	gr := &grower{
		maxDepth:     p.MaxDepth,
		maxLeaves:    p.MaxLeaves,
		learningRate: p.LearningRate,
		rule:         splitRule{lambda: p.Lambda, minChildWeight: p.MinChildWeight, minSplitGain: p.MinSplitGain},
		bm:           bm,
		hb:           &histBuilder{layout: layout, bins: bins, workers: workers, rowWise: rowWiseLimit(n), sparse: sparseColumns(bins, splittable, sparseMaxShare, workers)},
		workers:      workers,
	}
	if gr.hb.rowWise > 0 && len(splittable) <= maxRowWidth {
		gr.hb.byRow = newRowBins(bins, splittable, gr.hb.sparse, rowSparseMinSaved, workers)
	}
	packed := make([]int64, n) // one output's gradients, quantised for packed histograms
	rowIdx := make([]int32, 0, n)
	work := make([]int32, 0, n)
	// A class no training row has keeps its base score: its trees are
	// single leaves of value 0, which prediction skips. (Grown, they
	// would only nudge an already vanishing probability, at the cost of a
	// histogram pass per round.)
	var noRows tree
	noRows.addLeaf()
	absent := absentClasses(p, train.Y, weights)
	roundBins := make([][]uint8, k) // the split bins of the round's trees

	bestRound, bestLoss := -1, math.Inf(1)
	shift := 0.0 // StopOnShiftedLoss: the last round's intercept
	rounds := 0
	for round := 0; round < p.NumRounds; round++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("gbdt: fit stopped before round %d: %w", round, err)
		}
		// The training loss costs a log per row and output, about a tenth
		// of a round: it is taken every trainLossEvery rounds.
		withLoss := round > 0 && round%trainLossEvery == 0
		loss := computeGradients(p.Objective, k, scores, train.Y, weights, grads, withLoss, workers) / sumW
		if withLoss {
			m.history.Train = append(m.history.Train, loss)
			m.history.TrainRounds = append(m.history.TrainRounds, round-1)
			slog.DebugContext(ctx, "gbdt: training loss", "round", round-1, "train_logloss", loss)
		}
		rng := rand.New(rand.NewPCG(p.Seed, uint64(round)+1))
		rowIdx = sampleRound(rowIdx[:0], n, p.Subsample, rng)
		gr.features = sampleFeatures(splittable, p.ColSampleByTree, rng)
		gr.hb.groups = featureGroups(gr.hb.groups, gr.features, workers)

		for c := 0; c < k; c++ {
			if absent[c] {
				m.trees = append(m.trees, noRows)
				m.fitCover = append(m.fitCover, []uint64{uint64(n)})
				roundBins[c] = []uint8{0}
				continue
			}
			// grow reorders its rows; every output starts from the same
			// ascending order.
			work = append(work[:0], rowIdx...)
			sc := packGrads(packed, grads[c], workers)
			gt := gr.grow(work, packed, sc, grads[c])
			cover := addTreeToTrainScores(&gt, work, bins, scores, k, c, len(work) < n, workers)
			m.trees = append(m.trees, gt.t)
			m.fitCover = append(m.fitCover, cover)
			roundBins[c] = gt.splitBin
		}
		rounds++

		if valid != nil {
			vb.addTrees(m.trees[len(m.trees)-k:], roundBins, validScores, workers)
			var vloss float64
			if p.StopOnShiftedLoss && p.Objective == Binary {
				vloss, shift = shiftedLogLoss(validScores, valid.Y, valid.Weight, shift, workers)
			} else {
				vloss = logLoss(p.Objective, k, validScores, valid.Y, valid.Weight, workers)
			}
			m.history.Valid = append(m.history.Valid, vloss)
			slog.DebugContext(ctx, "gbdt: round", "round", round, "valid_logloss", vloss)
			if vloss < bestLoss {
				bestRound, bestLoss = round, vloss
			}
			if p.EarlyStoppingRounds > 0 && round-bestRound >= p.EarlyStoppingRounds {
				break
			}
		}
	}
	if rounds > 0 && (len(m.history.TrainRounds) == 0 || m.history.TrainRounds[len(m.history.TrainRounds)-1] != rounds-1) {
		m.history.Train = append(m.history.Train,
			computeGradients(p.Objective, k, scores, train.Y, weights, grads, true, workers)/sumW)
		m.history.TrainRounds = append(m.history.TrainRounds, rounds-1)
	}

	m.bestIteration = rounds - 1
	if p.EarlyStoppingRounds > 0 && bestRound >= 0 {
		m.bestIteration = bestRound
		m.trees = m.trees[:(bestRound+1)*k]
		m.fitCover = m.fitCover[:(bestRound+1)*k]
	}
	m.forest = packForest(m.trees)
	slog.DebugContext(ctx, "gbdt: fit done",
		"rows", n, "features", train.X.Cols, "rounds", rounds, "best_iteration", m.bestIteration,
		"seconds", time.Since(start).Seconds())
	return m, nil
}

// sampleRound appends the rows a round's trees grow on: all rows, or a
// Bernoulli(frac) sample (at least one row), ascending.
func sampleRound(dst []int32, n int, frac float64, rng *rand.Rand) []int32 {
	if frac >= 1 {
		for i := 0; i < n; i++ {
			dst = append(dst, int32(i))
		}
		return dst
	}
	for i := 0; i < n; i++ {
		if rng.Float64() < frac {
			dst = append(dst, int32(i))
		}
	}
	if len(dst) == 0 {
		dst = append(dst, int32(rng.IntN(n)))
	}
	return dst
}

// sampleFeatures returns the features a tree may split on: a sorted
// random subset of round(frac*len) (at least one) of the splittable ones.
func sampleFeatures(splittable []int, frac float64, rng *rand.Rand) []int {
	if frac >= 1 || len(splittable) == 0 {
		return splittable
	}
	want := max(1, int(math.Round(frac*float64(len(splittable)))))
	perm := rng.Perm(len(splittable))[:want]
	out := make([]int, want)
	for i, j := range perm {
		out[i] = splittable[j]
	}
	slices.Sort(out)
	return out
}

// baseScores is the starting raw score per output: the log-odds of the
// weighted positive rate (Binary) or the log of each class's weighted
// frequency (Softmax).
func baseScores(p Params, y []float32, w []float64) []float64 {
	counts := make([]float64, p.numLabels())
	total := 0.0
	for i, v := range y {
		counts[int(v)] += w[i]
		total += w[i]
	}
	const floor = 1e-7
	if p.Objective == Binary {
		q := min(max(counts[1]/total, floor), 1-floor)
		return []float64{math.Log(q / (1 - q))}
	}
	out := make([]float64, p.NumClass)
	for c := range out {
		out[c] = math.Log(max(counts[c]/total, floor))
	}
	return out
}

// absentClasses reports, for a Softmax model, the classes with no
// weighted training rows.
func absentClasses(p Params, y []float32, w []float64) []bool {
	absent := make([]bool, p.numOutputs())
	if p.Objective != Softmax {
		return absent
	}
	weight := make([]float64, len(absent))
	for i, v := range y {
		weight[int(v)] += w[i]
	}
	for c := range absent {
		absent[c] = weight[c] == 0
	}
	return absent
}

// minHessian keeps hessians positive when probabilities saturate.
const minHessian = 1e-16

// trainLossEvery is how often (in rounds) Fit records the training loss.
const trainLossEvery = 10

// computeGradients fills grads from the current scores and, withLoss,
// returns the weighted log-loss sum of those scores (otherwise 0).
func computeGradients(obj Objective, k int, scores []float64, y []float32, w []float64, grads [][]gradPair, withLoss bool, workers int) float64 {
	return parallelSum(len(y), workers, func(lo, hi int) float64 {
		loss := 0.0
		if obj == Binary && !withLoss {
			g := grads[0]
			for i := lo; i < hi; i++ {
				p := sigmoidProb(scores[i])
				label := float64(y[i])
				g[i] = gradPair{float32((p - label) * w[i]), float32(max(p*(1-p), minHessian) * w[i])}
			}
			return 0
		}
		if obj == Binary {
			g := grads[0]
			for i := lo; i < hi; i++ {
				p, l0, l1 := sigmoidLoss(scores[i])
				label := float64(y[i])
				g[i] = gradPair{float32((p - label) * w[i]), float32(max(p*(1-p), minHessian) * w[i])}
				if label > 0.5 {
					loss += w[i] * l1
				} else {
					loss += w[i] * l0
				}
			}
			return loss
		}
		prob := make([]float64, k)
		for i := lo; i < hi; i++ {
			lse := softmaxInto(prob, scores[i*k:(i+1)*k])
			label := int(y[i])
			for c := 0; c < k; c++ {
				t := 0.0
				if c == label {
					t = 1
				}
				grads[c][i] = gradPair{float32((prob[c] - t) * w[i]), float32(max(prob[c]*(1-prob[c]), minHessian) * w[i])}
			}
			loss += w[i] * (lse - scores[i*k+label])
		}
		return loss
	})
}

// logLoss is the mean log-loss of scores against y, weighted by w (nil:
// all 1).
func logLoss(obj Objective, k int, scores []float64, y []float32, w []float32, workers int) float64 {
	weight := func(i int) float64 {
		if w == nil {
			return 1
		}
		return float64(w[i])
	}
	sumW := parallelSum(len(y), workers, func(lo, hi int) float64 {
		s := 0.0
		for i := lo; i < hi; i++ {
			s += weight(i)
		}
		return s
	})
	loss := parallelSum(len(y), workers, func(lo, hi int) float64 {
		s := 0.0
		for i := lo; i < hi; i++ {
			if obj == Binary {
				s += weight(i) * binaryLoss(scores[i], float64(y[i]))
				continue
			}
			row := scores[i*k : (i+1)*k]
			s += weight(i) * (logSumExp(row) - row[int(y[i])])
		}
		return s
	})
	if sumW == 0 {
		return 0
	}
	return loss / sumW
}

func sigmoid(s float64) float64 { return 1 / (1 + math.Exp(-s)) }

// shiftedLogLoss returns the binary log-loss of scores + b for the b that
// minimises it, found by Newton's method from b0 (the previous round's,
// a few steps away), and that b. Its sums are parallelSum's: taken per
// fixed block of rows and added in block order, so they do not depend
// on the number of workers.
func shiftedLogLoss(scores []float64, y, w []float32, b0 float64, workers int) (loss, b float64) {
	b = b0
	for range 20 {
		at := b // the closure reads a copy: b changes below
		g, h := parallelSum2(len(scores), workers, func(lo, hi int) (g, h float64) {
			ys := y[lo:hi]
			if w == nil {
				for i, s := range scores[lo:hi] {
					q := sigmoid(s + at)
					g += q - float64(ys[i])
					h += q * (1 - q)
				}
				return g, h
			}
			ws := w[lo:hi]
			for i, s := range scores[lo:hi] {
				wi := float64(ws[i])
				q := sigmoid(s + at)
				g += wi * (q - float64(ys[i]))
				h += wi * q * (1 - q)
			}
			return g, h
		})
		if !(h > 0) {
			break
		}
		step := g / h
		b -= max(-4, min(4, step))
		if math.Abs(step) < 1e-7 {
			break
		}
	}
	at := b
	sum, sumW := parallelSum2(len(scores), workers, func(lo, hi int) (sum, sumW float64) {
		ys := y[lo:hi]
		if w == nil {
			for i, s := range scores[lo:hi] {
				sum += binaryLoss(s+at, float64(ys[i]))
			}
			return sum, float64(hi - lo)
		}
		ws := w[lo:hi]
		for i, s := range scores[lo:hi] {
			wi := float64(ws[i])
			sum += wi * binaryLoss(s+at, float64(ys[i]))
			sumW += wi
		}
		return sum, sumW
	})
	if sumW == 0 {
		return 0, b
	}
	return sum / sumW, b
}

// sigmoidLoss returns p = sigmoid(s) and the log-losses of s for labels 0
// (-log(1-p)) and 1 (-log p), with one exp and one log1p and no overflow.
func sigmoidLoss(s float64) (p, loss0, loss1 float64) {
	if s >= 0 {
		e := math.Exp(-s) // in (0, 1]
		l := math.Log1p(e)
		return 1 / (1 + e), s + l, l
	}
	e := math.Exp(s) // in (0, 1)
	l := math.Log1p(e)
	return e / (1 + e), l, l - s
}

// sigmoidProb is sigmoidLoss's p alone (the same value, bit for bit).
func sigmoidProb(s float64) float64 {
	if s >= 0 {
		return 1 / (1 + math.Exp(-s))
	}
	e := math.Exp(s)
	return e / (1 + e)
}

// softplus is log(1+exp(x)), computed without overflow.
func softplus(x float64) float64 { return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

// binaryLoss is the log-loss of raw score s for label y in {0, 1}.
func binaryLoss(s, y float64) float64 {
	if y > 0.5 {
		return softplus(-s)
	}
	return softplus(s)
}

func logSumExp(s []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range s {
		mx = max(mx, v)
	}
	sum := 0.0
	for _, v := range s {
		sum += math.Exp(v - mx)
	}
	return mx + math.Log(sum)
}

// softmaxInto writes softmax(s) to dst and returns logsumexp(s).
func softmaxInto(dst, s []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range s {
		mx = max(mx, v)
	}
	sum := 0.0
	for c, v := range s {
		dst[c] = math.Exp(v - mx)
		sum += dst[c]
	}
	for c := range dst {
		dst[c] /= sum
	}
	return mx + math.Log(sum)
}

// addTreeToTrainScores adds a freshly grown tree (output c of k) to the
// training scores and returns the tree's cover over the training set: the
// number of training rows reaching each node. Without subsampling every
// row is in rows (as grow left them) and gets its leaf's value through the
// leaf ranges, whose lengths are the leaves' covers; otherwise every row
// walks the tree on its bins and is counted in its leaf. (Training rows
// hold no NaN, and a split "bin <= b" is "value <= edges[b]": the counts
// are those SetCover takes over the float rows.)
func addTreeToTrainScores(gt *grownTree, rows []int32, bins *binMatrix, scores []float64, k, c int, subsampled bool, workers int) []uint64 {
	cover := make([]uint64, gt.t.numNodes())
	if !subsampled {
		// Leaves hold disjoint rows, so they can be added in parallel.
		parallelFor(len(gt.leaves), workers, func(i int) {
			l := gt.leaves[i]
			v := gt.t.value[l.node]
			for _, r := range rows[l.start:l.end] {
				scores[int(r)*k+c] += v
			}
		})
		for _, l := range gt.leaves {
			cover[l.node] = uint64(l.end - l.start)
		}
		return sumSubtrees(&gt.t, cover)
	}
	blocks := (bins.rows + sumBlockRows - 1) / sumBlockRows
	counts := make([][]uint64, blocks)
	parallelFor(blocks, workers, func(b int) {
		bc := make([]uint64, len(cover))
		for r := b * sumBlockRows; r < min((b+1)*sumBlockRows, bins.rows); r++ {
			leaf := gt.leafOfBinnedRow(bins, r)
			scores[r*k+c] += gt.t.value[leaf]
			bc[leaf]++
		}
		counts[b] = bc
	})
	for _, bc := range counts {
		for j, v := range bc {
			cover[j] += v
		}
	}
	return sumSubtrees(&gt.t, cover)
}

// sumSubtrees sets every internal node's count in cover (leaves' counts
// set) to the sum of its children's and returns cover. Children follow
// their parent, so a backward pass sums every subtree before its root.
func sumSubtrees(t *tree, cover []uint64) []uint64 {
	for n := len(cover) - 1; n >= 0; n-- {
		if l := t.left[n]; l >= 0 {
			cover[n] = cover[l] + cover[t.right[n]]
		}
	}
	return cover
}

// addTreesToScores adds one round's trees (one per output) to the raw
// scores of X, walking them on raw values. (Fit walks the validation rows'
// bins instead, validBins.addTrees; the tests hold it to this walk.)
func addTreesToScores(trees []tree, X models.Matrix, scores []float64, workers int) {
	k := len(trees)
	blocks := (X.Rows + sumBlockRows - 1) / sumBlockRows
	parallelFor(blocks, workers, func(b int) {
		for r := b * sumBlockRows; r < min((b+1)*sumBlockRows, X.Rows); r++ {
			row := X.Row(r)
			for c := range trees {
				scores[r*k+c] += trees[c].predictRow(row)
			}
		}
	})
}
