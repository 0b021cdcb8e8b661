package gbdt

import (
	"errors"
	"fmt"
	"math"
	"runtime"
)

// Objective is the loss a Model minimises.
type Objective int

const (
	// Binary is binary log-loss; labels are 0 or 1 and the model predicts
	// P(y=1).
	Binary Objective = iota + 1
	// Softmax is multi-class log-loss over NumClass classes; labels are
	// class indices 0..NumClass-1 and the model predicts one probability
	// per class.
	Softmax
)

// String returns the objective's name ("binary", "softmax").
func (o Objective) String() string {
	switch o {
	case Binary:
		return "binary"
	case Softmax:
		return "softmax"
	}
	return fmt.Sprintf("Objective(%d)", int(o))
}

// MaxBinsLimit is the largest number of bins per feature: bin indices are
// stored as uint8.
const MaxBinsLimit = 255

// Params configures training. Start from DefaultParams and change what you
// need; Fit rejects inconsistent values with an error naming the field.
type Params struct {
	Objective Objective
	// NumClass is the number of classes for Softmax (>= 2). It is ignored
	// for Binary.
	NumClass int
	// NumRounds is the number of boosting rounds (trees per class).
	NumRounds int
	// MaxDepth limits the depth of every tree (root has depth 0); 0 means
	// no depth limit, in which case MaxLeaves must be set.
	MaxDepth int
	// MaxLeaves limits the number of leaves of every tree; 0 means no
	// limit. Trees grow best-first (largest gain first), so with MaxLeaves
	// set growth is leaf-wise; without it the result equals depth-wise
	// growth to MaxDepth.
	MaxLeaves int
	// LearningRate (eta) shrinks every leaf value.
	LearningRate float64
	// Lambda is the L2 regularisation on leaf values.
	Lambda float64
	// MinChildWeight is the minimum hessian sum in each child of a split.
	MinChildWeight float64
	// MinSplitGain (gamma) is the minimum loss reduction of a split,
	// ½[GL²/(HL+λ) + GR²/(HR+λ) - G²/(H+λ)] in gradient (G) and hessian
	// (H) sums; a split must also gain more than 1e-10.
	MinSplitGain float64
	// Subsample is the fraction of training rows drawn (without
	// replacement, per tree) to grow each tree; 1 uses all rows.
	Subsample float64
	// ColSampleByTree is the fraction of features each tree may split on.
	ColSampleByTree float64
	// MaxBins is the number of quantile bins per feature, 2..255.
	MaxBins int
	// BinSampleRows is how many rows (drawn with the seed) the bin edges
	// are computed from; 0 uses every row, as XGBoost's hist method does
	// (its cuts and ours are then the same). A sample's noise moves an
	// edge by about sqrt(q(1-q)/BinSampleRows) in quantile q.
	BinSampleRows int
	// EarlyStoppingRounds stops training when the validation log-loss has
	// not improved for this many rounds; the model keeps the rounds up to
	// the best one. 0 disables early stopping. It needs a validation set.
	EarlyStoppingRounds int
	// StopOnShiftedLoss (Binary only) makes early stopping, and
	// History().Valid, use the validation log-loss after the one intercept
	// that minimises it is added to every score: the loss of the ranking
	// and of the relative risks, blind to a base rate that differs between
	// the training and validation windows. Under such a shift the plain
	// log-loss prefers the rounds that stay near the training base rate
	// and stops a model early; a calibration fitted afterwards sets the
	// level.
	StopOnShiftedLoss bool
	// ClassWeights multiplies the weight of every row of class c by
	// ClassWeights[c] during training (for Binary, ClassWeights[1] is
	// scale_pos_weight). nil means all 1. Length must be 2 for Binary and
	// NumClass for Softmax.
	ClassWeights []float64
	// Seed makes binning samples, row and column subsampling reproducible.
	Seed uint64
	// Workers is the number of goroutines used; 0 means
	// runtime.GOMAXPROCS(0). The model does not depend on it.
	Workers int
}

// DefaultParams returns parameters that suit failcast's tabular data:
// binary objective, 200 rounds of depth-6 trees at learning rate 0.1,
// 255 bins, all rows and features.
func DefaultParams() Params {
	return Params{
		Objective:       Binary,
		NumRounds:       200,
		MaxDepth:        6,
		LearningRate:    0.1,
		Lambda:          1,
		MinChildWeight:  1,
		Subsample:       1,
		ColSampleByTree: 1,
		MaxBins:         MaxBinsLimit,
		BinSampleRows:   200_000,
	}
}

// numOutputs is the number of trees per round (1 for Binary).
func (p Params) numOutputs() int {
	if p.Objective == Softmax {
		return p.NumClass
	}
	return 1
}

// numLabels is the number of distinct label values (2 for Binary).
func (p Params) numLabels() int {
	if p.Objective == Softmax {
		return p.NumClass
	}
	return 2
}

func (p Params) workers() int {
	if p.Workers > 0 {
		return p.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Validate reports the first inconsistent field.
func (p Params) Validate() error {
	finite := func(name string, v float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("gbdt: params: %s is %v, want a finite number", name, v)
		}
		return nil
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"LearningRate", p.LearningRate}, {"Lambda", p.Lambda}, {"MinChildWeight", p.MinChildWeight},
		{"MinSplitGain", p.MinSplitGain}, {"Subsample", p.Subsample}, {"ColSampleByTree", p.ColSampleByTree},
	} {
		if err := finite(f.name, f.v); err != nil {
			return err
		}
	}
	switch {
	case p.Objective != Binary && p.Objective != Softmax:
		return fmt.Errorf("gbdt: params: Objective is %v, want Binary or Softmax", p.Objective)
	case p.Objective == Softmax && p.NumClass < 2:
		return fmt.Errorf("gbdt: params: NumClass is %d, want >= 2 for Softmax", p.NumClass)
	case p.NumRounds < 1:
		return fmt.Errorf("gbdt: params: NumRounds is %d, want >= 1", p.NumRounds)
	case p.MaxDepth < 0:
		return fmt.Errorf("gbdt: params: MaxDepth is %d, want >= 0", p.MaxDepth)
	case p.MaxLeaves < 0 || p.MaxLeaves == 1:
		return fmt.Errorf("gbdt: params: MaxLeaves is %d, want 0 (no limit) or >= 2", p.MaxLeaves)
	case p.MaxDepth == 0 && p.MaxLeaves == 0:
		return errors.New("gbdt: params: MaxDepth and MaxLeaves are both 0 (unlimited), set at least one")
	case p.LearningRate <= 0:
		return fmt.Errorf("gbdt: params: LearningRate is %v, want > 0", p.LearningRate)
	case p.Lambda < 0:
		return fmt.Errorf("gbdt: params: Lambda is %v, want >= 0", p.Lambda)
	case p.MinChildWeight < 0:
		return fmt.Errorf("gbdt: params: MinChildWeight is %v, want >= 0", p.MinChildWeight)
	case p.MinSplitGain < 0:
		return fmt.Errorf("gbdt: params: MinSplitGain is %v, want >= 0", p.MinSplitGain)
	case p.Subsample <= 0 || p.Subsample > 1:
		return fmt.Errorf("gbdt: params: Subsample is %v, want in (0, 1]", p.Subsample)
	case p.ColSampleByTree <= 0 || p.ColSampleByTree > 1:
		return fmt.Errorf("gbdt: params: ColSampleByTree is %v, want in (0, 1]", p.ColSampleByTree)
	case p.MaxBins < 2 || p.MaxBins > MaxBinsLimit:
		return fmt.Errorf("gbdt: params: MaxBins is %d, want 2..%d", p.MaxBins, MaxBinsLimit)
	case p.BinSampleRows < 0:
		return fmt.Errorf("gbdt: params: BinSampleRows is %d, want >= 0", p.BinSampleRows)
	case p.EarlyStoppingRounds < 0:
		return fmt.Errorf("gbdt: params: EarlyStoppingRounds is %d, want >= 0", p.EarlyStoppingRounds)
	case p.Workers < 0:
		return fmt.Errorf("gbdt: params: Workers is %d, want >= 0", p.Workers)
	}
	if p.ClassWeights != nil {
		if len(p.ClassWeights) != p.numLabels() {
			return fmt.Errorf("gbdt: params: ClassWeights has %d values, want %d (one per class)", len(p.ClassWeights), p.numLabels())
		}
		for c, w := range p.ClassWeights {
			if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
				return fmt.Errorf("gbdt: params: ClassWeights[%d] is %v, want a finite value >= 0", c, w)
			}
		}
	}
	return nil
}
