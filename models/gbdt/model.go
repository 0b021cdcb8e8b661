package gbdt

import (
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/failcast/failcast/models"
)

// Model is a trained ensemble. Its trees are flat arrays; predicting is
// safe for concurrent use.
type Model struct {
	params        Params // as trained, Workers cleared
	numFeatures   int
	numOutputs    int       // trees per round: 1 for Binary, NumClass for Softmax
	baseScore     []float64 // starting raw score per output
	trees         []tree    // round-major: tree of round r, output c at r*numOutputs+c
	forest        forest    // trees packed for prediction (see packForest)
	bestIteration int
	history       EvalHistory
	workers       int

	// fitCover is, per tree, the training rows' node counts Fit took as
	// it grew the trees (see SetFitCover); nil for a model read from a file.
	fitCover [][]uint64
}

// EvalHistory is the losses of training, including rounds dropped by
// early stopping. Valid (empty without a validation set) is the
// validation log-loss, weighted by the validation rows' weights, after
// every trained round. Train is the training log-loss weighted by row and
// class weights after the rounds TrainRounds names (0-based, ascending):
// it costs a log per row and output, so Fit takes it only every tenth
// round and after the last. It is not saved with the model.
type EvalHistory struct {
	Train, Valid []float64
	TrainRounds  []int
}

// Params returns the parameters the model was trained with (Workers is
// always 0: it does not shape the model).
func (m *Model) Params() Params {
	p := m.params
	p.ClassWeights = slices.Clone(p.ClassWeights)
	return p
}

// Objective returns the model's objective.
func (m *Model) Objective() Objective { return m.params.Objective }

// NumClass returns the number of classes: 2 for Binary.
func (m *Model) NumClass() int { return m.params.numLabels() }

// NumFeatures returns the number of columns the model expects.
func (m *Model) NumFeatures() int { return m.numFeatures }

// NumRounds returns the number of rounds the model keeps.
func (m *Model) NumRounds() int { return len(m.trees) / m.numOutputs }

// BestIteration returns the 0-based index of the last round the model
// keeps: the round with the lowest validation loss under early stopping,
// otherwise the last round trained.
func (m *Model) BestIteration() int { return m.bestIteration }

// History returns the per-round training and validation losses of Fit
// (empty for a model read from a file).
func (m *Model) History() EvalHistory {
	return EvalHistory{Train: slices.Clone(m.history.Train), TrainRounds: slices.Clone(m.history.TrainRounds), Valid: slices.Clone(m.history.Valid)}
}

// SetWorkers sets how many goroutines prediction uses (0: GOMAXPROCS).
// Predictions do not depend on it.
func (m *Model) SetWorkers(n int) {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	m.workers = n
}

// FeatureImportance returns each feature's total split gain over the kept
// trees, normalised to sum to 1 (all zeros when no tree splits).
func (m *Model) FeatureImportance() []float64 {
	imp := make([]float64, m.numFeatures)
	for i := range m.trees {
		t := &m.trees[i]
		for n, f := range t.feature {
			if f >= 0 {
				imp[f] += t.gain[n]
			}
		}
	}
	total := 0.0
	for _, v := range imp {
		total += v
	}
	if total > 0 {
		for f := range imp {
			imp[f] /= total
		}
	}
	return imp
}

// predictBlockRows is the row block of parallel prediction: a block's
// rows walk one tree after another while the tree stays in cache. 128
// measured a little faster than 64 and much faster than 256, whose
// transposed block (113 features) no longer fits the L1 cache.
const predictBlockRows = 128

// PredictRaw returns the raw scores (margins) of every row of X,
// row-major with NumClass() values per row for Softmax and one per row
// for Binary. It panics if X does not have NumFeatures() columns.
func (m *Model) PredictRaw(X models.Matrix) []float64 {
	return m.PredictRawInto(nil, X)
}

// PredictRawInto is PredictRaw into dst's memory: it returns
// dst[:X.Rows*k] (k values per row, as PredictRaw), reallocated when dst
// is shorter, with PredictRaw's values. A caller predicting batch after
// batch passes the previous result back and allocates no output.
func (m *Model) PredictRawInto(dst []float64, X models.Matrix) []float64 {
	m.mustMatch(X)
	k := m.numOutputs
	out := growFloats(dst, X.Rows*k)
	blocks := (X.Rows + predictBlockRows - 1) / predictBlockRows
	workers := m.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, blocks)
	// Each worker transposes a block once for the trees laid out complete
	// (see forest) and walks them over it.
	var bufs [][]float32
	if f := &m.forest; f.blockLen() > 0 {
		bufs = make([][]float32, max(workers, 1))
	}
	parallelForWorker(blocks, workers, func(w, b int) {
		lo, hi := b*predictBlockRows, min((b+1)*predictBlockRows, X.Rows)
		scores := out[lo*k : hi*k]
		for r := lo; r < hi; r++ {
			copy(scores[(r-lo)*k:(r-lo+1)*k], m.baseScore)
		}
		f := &m.forest
		var block []float32
		if bufs != nil {
			if bufs[w] == nil {
				bufs[w] = make([]float32, f.blockLen())
			}
			block = bufs[w]
			f.transposeBlock(block, X.Data, X.Cols, lo, hi)
		}
		for _, i := range f.live {
			if f.heapRoot[i] >= 0 {
				f.addHeapTree(int(i), block, hi-lo, scores, k, int(i)%k)
			} else {
				f.addTree(int(i), X.Data, X.Cols, lo, hi, scores, k, int(i)%k)
			}
		}
	})
	return out
}

// PredictProba returns P(y=1) for every row of X. It panics if the model
// is not Binary or X does not have NumFeatures() columns.
func (m *Model) PredictProba(X models.Matrix) []float64 {
	if m.params.Objective != Binary {
		panic(fmt.Sprintf("gbdt: PredictProba on a %v model, use PredictProbaMulti", m.params.Objective))
	}
	out := m.PredictRaw(X)
	for i, s := range out {
		out[i] = sigmoid(s)
	}
	return out
}

// PredictProbaInto is PredictProba into dst's memory (see
// PredictRawInto): it returns dst[:X.Rows], reallocated when dst is
// shorter, with PredictProba's values.
func (m *Model) PredictProbaInto(dst []float64, X models.Matrix) []float64 {
	if m.params.Objective != Binary {
		panic(fmt.Sprintf("gbdt: PredictProbaInto on a %v model, use PredictProbaMultiInto", m.params.Objective))
	}
	out := m.PredictRawInto(dst, X)
	for i, s := range out {
		out[i] = sigmoid(s)
	}
	return out
}

// PredictProbaMultiInto is PredictProbaMulti with the probabilities
// row-major in one slice, NumClass() per row: it returns dst[:X.Rows*k],
// reallocated when dst is shorter, with PredictProbaMulti's values. raw
// is the buffer of the raw scores (see PredictRawInto), returned for the
// next call.
func (m *Model) PredictProbaMultiInto(dst, raw []float64, X models.Matrix) (probs, rawOut []float64) {
	k := m.NumClass()
	raw = m.PredictRawInto(raw, X)
	flat := growFloats(dst, X.Rows*k)
	if m.params.Objective == Binary {
		for i, s := range raw {
			p := sigmoid(s)
			flat[2*i], flat[2*i+1] = 1-p, p
		}
	} else {
		for i := 0; i < X.Rows; i++ {
			softmaxInto(flat[i*k:(i+1)*k], raw[i*k:(i+1)*k])
		}
	}
	return flat, raw
}

// growFloats returns buf[:n], or a new slice when buf is shorter.
func growFloats(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}

// PredictProbaMulti returns, for every row of X, one probability per
// class (summing to 1); the rows share one backing array. For a Binary
// model the classes are [0, 1]. It panics if X does not have
// NumFeatures() columns.
func (m *Model) PredictProbaMulti(X models.Matrix) [][]float64 {
	k := m.NumClass()
	flat, _ := m.PredictProbaMultiInto(nil, nil, X)
	out := make([][]float64, X.Rows)
	for i := range out {
		out[i] = flat[i*k : (i+1)*k : (i+1)*k]
	}
	return out
}

func (m *Model) mustMatch(X models.Matrix) {
	if err := X.Validate(); err != nil {
		panic(fmt.Sprintf("gbdt: predict: %v", err))
	}
	if X.Cols != m.numFeatures {
		panic(fmt.Sprintf("gbdt: predict: matrix has %d columns, the model expects %d", X.Cols, m.numFeatures))
	}
}

// checkFinite reports the first non-finite base score or leaf value (a
// model with one would predict NaN) or negative or non-finite gain.
func (m *Model) checkFinite() error {
	for c, v := range m.baseScore {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("base score %d is %v", c, v)
		}
	}
	for i := range m.trees {
		for n, v := range m.trees[i].value {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("tree %d node %d value is %v", i, n, v)
			}
		}
		for n, v := range m.trees[i].gain {
			if !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("tree %d node %d gain is %v, want a finite value >= 0", i, n, v)
			}
		}
	}
	return nil
}
