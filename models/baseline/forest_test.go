package baseline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/failcast/failcast/models"
)

// thresholdTask: y = x0 > 0.3 exactly, plus noise columns. One tree gets
// it 100% right; a forest whose bootstraps mixed up rows and labels
// would not.
func thresholdTask(seed uint64, n, p int) (models.Matrix, []bool) {
	r := rand.New(rand.NewPCG(seed, 5))
	X := models.NewMatrix(n, p)
	y := make([]bool, n)
	for i := range n {
		row := X.Row(i)
		for j := range row {
			row[j] = float32(r.Float64())
		}
		y[i] = row[0] > 0.3
	}
	return X, y
}

func accuracy(p []float64, y []bool) float64 {
	ok := 0
	for i := range p {
		if (p[i] >= 0.5) == y[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(p))
}

func TestForestPairsFeaturesWithTheirLabels(t *testing.T) {
	Xtr, ytr := thresholdTask(1, 3000, 6)
	Xte, yte := thresholdTask(2, 2000, 6)
	f := &Forest{Trees: 15, SampleRows: 3000, Seed: 3}
	if err := f.Fit(Xtr, ytr); err != nil {
		t.Fatal(err)
	}
	p := f.PredictProba(Xte)
	if acc := accuracy(p, yte); acc < 0.99 {
		t.Errorf("accuracy %.4f on a task one tree solves, want ~1", acc)
	}
	if a := auc(t, p, yte); a < 0.995 {
		t.Errorf("AUC %.4f, want ~1", a)
	}
}

// TestForestReusesColumns needs many splits on the only column: golearn's
// ID3, which drops a column once split on, stops at depth 0 here.
func TestForestReusesColumns(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	band := func(n int) (models.Matrix, []bool) {
		X := models.NewMatrix(n, 1)
		y := make([]bool, n)
		for i := range n {
			v := r.Float64()
			X.Data[i] = float32(v)
			y[i] = (v > 0.2 && v < 0.4) || (v > 0.6 && v < 0.8)
		}
		return X, y
	}
	Xtr, ytr := band(3000)
	Xte, yte := band(2000)
	f := &Forest{Trees: 5, SampleRows: 3000, MinLeaf: 5, Seed: 1}
	if err := f.Fit(Xtr, ytr); err != nil {
		t.Fatal(err)
	}
	if acc := accuracy(f.PredictProba(Xte), yte); acc < 0.97 {
		t.Errorf("accuracy %.3f on four bands of one column, want > 0.97", acc)
	}
	for _, tree := range f.Forest {
		if len(tree) < 9 { // four cuts at least: 4 internal nodes + 5 leaves
			t.Errorf("tree with %d nodes cannot cut one column four times", len(tree))
		}
	}
}

func TestForestDeterministic(t *testing.T) {
	X, y := linearTask(6, 2000, 6)
	fit := func(seed uint64, workers int) []float64 {
		f := &Forest{Trees: 8, SampleRows: 1500, Seed: seed, Workers: workers}
		if err := f.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		return f.PredictProba(X)
	}
	a := fit(42, 1)
	if b := fit(42, 3); !slices.Equal(a, b) {
		t.Error("same seed, different worker count: probabilities differ")
	}
	if b := fit(42, 1); !slices.Equal(a, b) {
		t.Error("same seed twice: probabilities differ")
	}
	if c := fit(43, 1); slices.Equal(a, c) {
		t.Error("different seeds gave identical forests")
	}
}

func TestForestSerialisation(t *testing.T) {
	X, y := linearTask(7, 1500, 5)
	f := &Forest{Trees: 4, SampleRows: 1000, Seed: 2}
	if err := f.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadForest(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.PredictProba(X), f.PredictProba(X)) {
		t.Error("JSON round trip changed the predictions")
	}
	for name, bad := range map[string]string{
		"cycle":      `{"cols":2,"forest":[[{"f":0,"t":0.5,"l":0,"r":0,"p":0.1}]]}`,
		"column":     `{"cols":2,"forest":[[{"f":5,"t":0.5,"l":1,"r":2,"p":0.1},{"f":-1,"p":0},{"f":-1,"p":1}]]}`,
		"no trees":   `{"cols":2,"forest":[]}`,
		"empty tree": `{"cols":2,"forest":[[]]}`,
		"bad p":      `{"cols":2,"forest":[[{"f":-1,"p":1.5}]]}`,
	} {
		if _, err := ReadForest(bytes.NewBufferString(bad)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestForestStopsOnCancel(t *testing.T) {
	X, y := linearTask(8, 500, 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := &Forest{Trees: 3, SampleRows: 500}
	if err := f.FitContext(ctx, X, y); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if f.Forest != nil {
		t.Error("a cancelled fit left trees behind")
	}
}

func ExampleForest() {
	X, y := thresholdTask(1, 2000, 4)       // y = x0 > 0.3
	Xnew, ynew := thresholdTask(2, 1000, 4) // later rows
	f := &Forest{Trees: 10, SampleRows: 2000, Seed: 7}
	if err := f.Fit(X, y); err != nil {
		panic(err)
	}
	fmt.Printf("accuracy %.2f\n", accuracy(f.PredictProba(Xnew), ynew))
	// Output: accuracy 1.00
}
