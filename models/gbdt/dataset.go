package gbdt

import (
	"fmt"
	"math"

	"github.com/failcast/failcast/models"
)

// Dataset is a feature matrix with its labels and optional row weights.
type Dataset struct {
	X models.Matrix
	// Y holds one label per row: 0 or 1 for Binary, the class index
	// 0..NumClass-1 for Softmax.
	Y []float32
	// Weight is optional (nil means every row weighs 1); when set it
	// holds one finite weight >= 0 per row.
	Weight []float32

	// binned, when set, holds the rows' bins (CodedBuilder.Dataset);
	// X then has the rows' shape and no values.
	binned *binnedData
}

// validate checks shapes and label values; name ("train", "valid")
// appears in errors.
func (d Dataset) validate(name string, p Params, numFeatures int) error {
	if d.binned != nil {
		if name != "train" {
			return fmt.Errorf("gbdt: %s set is binned; only the training set may be", name)
		}
		if d.binned.bins.rows != d.X.Rows || len(d.binned.bins.cols) != d.X.Cols {
			return fmt.Errorf("gbdt: %s set has %dx%d bins for a %dx%d matrix", name, d.binned.bins.rows, len(d.binned.bins.cols), d.X.Rows, d.X.Cols)
		}
	} else if err := d.X.Validate(); err != nil {
		return fmt.Errorf("gbdt: %s set: %w", name, err)
	}
	if d.X.Rows == 0 {
		return fmt.Errorf("gbdt: %s set has no rows", name)
	}
	if d.X.Rows > math.MaxInt32 {
		return fmt.Errorf("gbdt: %s set has %d rows, at most %d are supported", name, d.X.Rows, math.MaxInt32)
	}
	if numFeatures >= 0 && d.X.Cols != numFeatures {
		return fmt.Errorf("gbdt: %s set has %d columns, want %d like the training set", name, d.X.Cols, numFeatures)
	}
	if len(d.Y) != d.X.Rows {
		return fmt.Errorf("gbdt: %s set has %d labels for %d rows", name, len(d.Y), d.X.Rows)
	}
	if d.Weight != nil && len(d.Weight) != d.X.Rows {
		return fmt.Errorf("gbdt: %s set has %d weights for %d rows", name, len(d.Weight), d.X.Rows)
	}
	k := p.numLabels()
	for i, y := range d.Y {
		if y != float32(int(y)) || y < 0 || int(y) >= k {
			return fmt.Errorf("gbdt: %s set row %d: label %v, want an integer in 0..%d for %v", name, i, y, k-1, p.Objective)
		}
	}
	for i, w := range d.Weight {
		if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) || w < 0 {
			return fmt.Errorf("gbdt: %s set row %d: weight %v, want a finite value >= 0", name, i, w)
		}
	}
	return nil
}

// rowWeights returns the training weight of every row: its sample weight
// times its class weight.
func rowWeights(d Dataset, classWeights []float64) []float64 {
	w := make([]float64, d.X.Rows)
	for i := range w {
		v := 1.0
		if d.Weight != nil {
			v = float64(d.Weight[i])
		}
		if classWeights != nil {
			v *= classWeights[int(d.Y[i])]
		}
		w[i] = v
	}
	return w
}
