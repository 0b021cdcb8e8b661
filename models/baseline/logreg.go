package baseline

import (
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/failcast/failcast/models"
)

// LogReg defaults.
const (
	DefaultLogRegC       = 1.0
	DefaultLogRegEps     = 0.01
	DefaultLogRegMaxRows = 200_000
)

// LogReg is L2-regularised logistic regression fitted by golearn's
// liblinear binding. Features are standardised with the training mean and
// standard deviation, and a constant column stands in for the intercept
// (liblinear has none); liblinear penalises it like the other weights,
// which on standardised features barely matters.
//
// Set the hyperparameters before Fit; zero values take the defaults. The
// fitted model is the exported fields, so a LogReg round-trips through
// encoding/json (see WriteTo and ReadLogReg).
type LogReg struct {
	C       float64 `json:"c"`        // inverse regularisation strength: liblinear minimises C*sum(loss) + |w|^2/2
	Eps     float64 `json:"eps"`      // liblinear's stopping tolerance
	MaxRows int     `json:"max_rows"` // training rows above this are subsampled (memory: ~24 bytes per cell)
	Seed    uint64  `json:"seed"`     // seeds the subsample

	Mean      []float64 `json:"mean"`      // per feature, of the training rows
	Scale     []float64 `json:"scale"`     // per feature standard deviation (1 for constant features)
	Weights   []float64 `json:"weights"`   // per standardised feature
	Intercept float64   `json:"intercept"` // weight of the constant column
}

// Fit trains the model on X with labels y (true = positive).
func (m *LogReg) Fit(X models.Matrix, y []bool) error {
	if err := checkTraining(X, y); err != nil {
		return err
	}
	if m.C == 0 {
		m.C = DefaultLogRegC
	}
	if m.Eps == 0 {
		m.Eps = DefaultLogRegEps
	}
	if m.MaxRows == 0 {
		m.MaxRows = DefaultLogRegMaxRows
	}
	if !(m.C > 0) || !(m.Eps > 0) {
		return fmt.Errorf("baseline: logistic regression C %g and eps %g must be positive", m.C, m.Eps)
	}
	if rows := subsample(X.Rows, m.MaxRows, newRand(m.Seed, 0)); rows != nil {
		X = X.SelectRows(rows)
		sub := make([]bool, len(rows))
		for k, i := range rows {
			sub[k] = y[i]
		}
		y = sub
		if err := checkTraining(X, y); err != nil {
			return fmt.Errorf("baseline: subsample of %d rows: %w", len(rows), err)
		}
	}
	m.Mean, m.Scale = standardisation(X)

	p := X.Cols
	rows := make([][]float64, X.Rows)
	cells := make([]float64, X.Rows*(p+1))
	labels := make([]float64, X.Rows)
	for i := range rows {
		row := cells[i*(p+1) : (i+1)*(p+1)]
		for j, v := range X.Row(i) {
			row[j] = (float64(v) - m.Mean[j]) / m.Scale[j]
		}
		row[p] = 1
		rows[i] = row
		if y[i] {
			labels[i] = 1
		}
	}
	w, err := trainLiblinear(rows, labels, m.C, m.Eps)
	if err != nil {
		return err
	}
	m.Weights, m.Intercept = w[:p], w[p]
	return nil
}

// standardisation returns the per-column mean and standard deviation of
// X; a constant column gets scale 1.
func standardisation(X models.Matrix) (mean, scale []float64) {
	mean = make([]float64, X.Cols)
	scale = make([]float64, X.Cols)
	for i := range X.Rows {
		for j, v := range X.Row(i) {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(X.Rows)
	}
	for i := range X.Rows {
		for j, v := range X.Row(i) {
			d := float64(v) - mean[j]
			scale[j] += d * d
		}
	}
	for j := range scale {
		scale[j] = math.Sqrt(scale[j] / float64(X.Rows))
		if scale[j] < 1e-12 {
			scale[j] = 1
		}
	}
	return mean, scale
}

// PredictProba returns P(positive) for every row of X. It panics if X has
// another number of columns than the training matrix.
func (m *LogReg) PredictProba(X models.Matrix) []float64 {
	if X.Cols != len(m.Weights) {
		panic(fmt.Sprintf("baseline: LogReg fitted on %d features, got %d", len(m.Weights), X.Cols))
	}
	out := make([]float64, X.Rows)
	for i := range out {
		z := m.Intercept
		for j, v := range X.Row(i) {
			z += m.Weights[j] * (float64(v) - m.Mean[j]) / m.Scale[j]
		}
		out[i] = sigmoid(z)
	}
	return out
}

// WriteTo writes the model as JSON.
func (m *LogReg) WriteTo(w io.Writer) (int64, error) {
	return writeJSON(w, m)
}

// ReadLogReg reads a model written by WriteTo.
func ReadLogReg(r io.Reader) (*LogReg, error) {
	var m LogReg
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, fmt.Errorf("baseline: read logistic regression: %w", err)
	}
	p := len(m.Weights)
	if p == 0 || len(m.Mean) != p || len(m.Scale) != p {
		return nil, fmt.Errorf("baseline: read logistic regression: %d weights, %d means, %d scales; want equal non-zero counts", p, len(m.Mean), len(m.Scale))
	}
	for j, s := range m.Scale {
		if !(s > 0) {
			return nil, fmt.Errorf("baseline: read logistic regression: scale of feature %d is %g, want > 0", j, s)
		}
	}
	return &m, nil
}

// writeJSON encodes v to w, counting bytes.
func writeJSON(w io.Writer, v any) (int64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(append(b, '\n'))
	return int64(n), err
}
