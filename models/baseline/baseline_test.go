package baseline

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/metrics"
)

// linearTask draws n rows of p standard normal features with
// P(y) = sigmoid(-3 + 2*x0 - 1.5*x1 + x2): about 10% positives.
func linearTask(seed uint64, n, p int) (models.Matrix, []bool) {
	r := rand.New(rand.NewPCG(seed, 99))
	X := models.NewMatrix(n, p)
	y := make([]bool, n)
	for i := range n {
		row := X.Row(i)
		for j := range row {
			row[j] = float32(r.NormFloat64())
		}
		z := -3 + 2*float64(row[0]) - 1.5*float64(row[1]) + float64(row[2])
		y[i] = r.Float64() < sigmoid(z)
	}
	return X, y
}

// predictor is what every baseline offers.
type predictor interface {
	Fit(models.Matrix, []bool) error
	PredictProba(models.Matrix) []float64
}

func auc(t *testing.T, p []float64, y []bool) float64 {
	t.Helper()
	a, err := metrics.ROCAUC(p, y)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func checkProbabilities(t *testing.T, p []float64) {
	t.Helper()
	for i, v := range p {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("row %d: probability %v outside [0, 1]", i, v)
		}
	}
}

func TestBaselinesBeatRandom(t *testing.T) {
	Xtr, ytr := linearTask(1, 4000, 8)
	Xte, yte := linearTask(2, 3000, 8)
	tests := []struct {
		name  string
		model predictor
	}{
		{"logreg", &LogReg{}},
		{"forest", &Forest{Trees: 20, SampleRows: 4000, Seed: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.model.Fit(Xtr, ytr); err != nil {
				t.Fatal(err)
			}
			p := tc.model.PredictProba(Xte)
			checkProbabilities(t, p)
			if a := auc(t, p, yte); a < 0.8 {
				t.Errorf("test AUC %.3f, want > 0.8", a)
			}
			// Probabilities, not just scores: the mean prediction is
			// close to the observed rate.
			s := metrics.Compute(p, yte)
			var mean float64
			for _, v := range p {
				mean += v
			}
			mean /= float64(len(p))
			if math.Abs(mean-s.BaseRate) > 0.03 {
				t.Errorf("mean prediction %.3f, observed rate %.3f", mean, s.BaseRate)
			}
		})
	}
}

func TestLogRegRecoversCoefficients(t *testing.T) {
	X, y := linearTask(3, 40000, 4)
	var m LogReg
	if err := m.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	// Features are ~N(0,1), so standardisation is nearly the identity.
	want := []float64{2, -1.5, 1, 0}
	for j, w := range want {
		if got := m.Weights[j] / m.Scale[j]; math.Abs(got-w) > 0.15 {
			t.Errorf("weight %d = %.3f, want %.1f", j, got, w)
		}
	}
	if math.Abs(m.Intercept-(-3)) > 0.2 {
		t.Errorf("intercept %.3f, want -3", m.Intercept)
	}
}

func TestLogRegDeterministicAndSerialisable(t *testing.T) {
	X, y := linearTask(4, 3000, 6)
	fit := func(seed uint64) *LogReg {
		m := &LogReg{MaxRows: 2000, Seed: seed}
		if err := m.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b, c := fit(7), fit(7), fit(8)
	pa, pb, pc := a.PredictProba(X), b.PredictProba(X), c.PredictProba(X)
	if !slices.Equal(pa, pb) {
		t.Error("two fits with one seed differ")
	}
	if slices.Equal(pa, pc) {
		t.Error("different subsample seeds gave identical models")
	}
	var buf bytes.Buffer
	if _, err := a.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLogReg(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.PredictProba(X), pa) {
		t.Error("JSON round trip changed the predictions")
	}
	if _, err := ReadLogReg(bytes.NewBufferString(`{"weights":[1],"mean":[0],"scale":[0]}`)); err == nil {
		t.Error("scale 0 accepted")
	}
}

func TestBadTrainingData(t *testing.T) {
	X, y := linearTask(5, 100, 3)
	nan := models.NewMatrix(2, 1)
	nan.Data[1] = float32(math.NaN())
	tests := []struct {
		name string
		X    models.Matrix
		y    []bool
	}{
		{"one class", X, make([]bool, 100)},
		{"label count", X, y[:50]},
		{"empty", models.NewMatrix(0, 3), nil},
		{"NaN", nan, []bool{true, false}},
		{"bad shape", models.Matrix{Rows: 3, Cols: 3, Data: make([]float32, 2)}, make([]bool, 3)},
	}
	for _, tc := range tests {
		for name, m := range map[string]predictor{"logreg": &LogReg{}, "forest": &Forest{}, "rule": &Rule{}} {
			if err := m.Fit(tc.X, tc.y); err == nil {
				t.Errorf("%s accepted %s", name, tc.name)
			}
		}
	}
	if err := (&LogReg{C: -1}).Fit(X, y); err == nil {
		t.Error("negative C accepted")
	}
	if err := (&Rule{Column: 3}).Fit(X, y); err == nil {
		t.Error("rule column 3 of 3 accepted")
	}
}
