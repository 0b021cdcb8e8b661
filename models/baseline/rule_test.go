package baseline

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/failcast/failcast/models"
)

// categoryTask: column 1 holds a category 0..4 with failure rates
// 1%, 3%, 20%, 60%, 90%; columns 0 and 2 are noise.
func categoryTask(seed uint64, n int) (models.Matrix, []bool) {
	rates := []float64{0.01, 0.03, 0.2, 0.6, 0.9}
	weights := []float64{0.5, 0.3, 0.1, 0.06, 0.04}
	r := rand.New(rand.NewPCG(seed, 11))
	X := models.NewMatrix(n, 3)
	y := make([]bool, n)
	for i := range n {
		u, c := r.Float64(), 0
		for u > weights[c] {
			u -= weights[c]
			c++
		}
		X.Data[i*3] = float32(r.NormFloat64())
		X.Data[i*3+1] = float32(c)
		X.Data[i*3+2] = float32(r.NormFloat64())
		y[i] = r.Float64() < rates[c]
	}
	return X, y
}

func TestRuleLearns(t *testing.T) {
	Xtr, ytr := categoryTask(1, 5000)
	Xte, yte := categoryTask(2, 3000)
	r := &Rule{Column: 1}
	if err := r.Fit(Xtr, ytr); err != nil {
		t.Fatal(err)
	}
	p := r.PredictProba(Xte)
	checkProbabilities(t, p)
	if a := auc(t, p, yte); a < 0.8 {
		t.Errorf("AUC %.3f, want > 0.8", a)
	}
	// Conditioning on a noise column does no better than chance.
	noise := &Rule{Column: 0}
	if err := noise.Fit(Xtr, ytr); err != nil {
		t.Fatal(err)
	}
	if a := auc(t, noise.PredictProba(Xte), yte); a > 0.6 {
		t.Errorf("rule on a continuous noise column: AUC %.3f, want about 0.5", a)
	}
}

func TestRuleSmoothing(t *testing.T) {
	// Value 1: 1 of 2 positive. Value 2: 0 of 4. Base rate (1+1)/(6+2).
	X := models.Matrix{Rows: 6, Cols: 1, Data: []float32{1, 1, 2, 2, 2, 2}}
	y := []bool{true, false, false, false, false, false}
	r := &Rule{Alpha: 2}
	if err := r.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	base := 2.0 / 8
	if r.BaseRate != base {
		t.Errorf("base rate %v, want %v", r.BaseRate, base)
	}
	want := []RuleValue{
		{Value: 1, Rows: 2, Positives: 1, P: (1 + 2*base) / 4},
		{Value: 2, Rows: 4, Positives: 0, P: (0 + 2*base) / 6},
	}
	if !slices.Equal(r.Values, want) {
		t.Errorf("values = %+v, want %+v", r.Values, want)
	}
	got := r.PredictProba(models.Matrix{Rows: 3, Cols: 1, Data: []float32{2, 7, 1}})
	if got[0] != want[1].P || got[1] != base || got[2] != want[0].P {
		t.Errorf("predictions %v: unseen value 7 must get the base rate %v", got, base)
	}
}

func TestRuleSerialisation(t *testing.T) {
	X, y := categoryTask(3, 2000)
	r := &Rule{Column: 1, Alpha: 5}
	if err := r.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := r.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadRule(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.PredictProba(X), r.PredictProba(X)) || back.Alpha != 5 || back.Column != 1 {
		t.Errorf("round trip changed the rule: %+v", back)
	}
	// A hand-built rule (no index yet) still predicts.
	hand := &Rule{Column: 0, BaseRate: 0.1, Values: []RuleValue{{Value: 3, P: 0.7}}}
	if p := hand.PredictProba(models.Matrix{Rows: 2, Cols: 1, Data: []float32{3, 4}}); p[0] != 0.7 || p[1] != 0.1 {
		t.Errorf("hand-built rule predicts %v", p)
	}
	for name, bad := range map[string]string{
		"base rate": `{"column":0,"base_rate":0,"values":[]}`,
		"rate":      `{"column":0,"base_rate":0.1,"values":[{"value":1,"p":2}]}`,
		"column":    `{"column":-1,"base_rate":0.1}`,
		"json":      `{"column":`,
	} {
		if _, err := ReadRule(bytes.NewBufferString(bad)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func ExampleRule() {
	// Column 0: the recipient's last outcome family (0 none, 5 recipient).
	X := models.Matrix{Rows: 8, Cols: 1, Data: []float32{0, 0, 0, 0, 0, 5, 5, 5}}
	failed := []bool{false, false, false, false, true, true, true, false}
	r := &Rule{Column: 0}
	if err := r.Fit(X, failed); err != nil {
		panic(err)
	}
	p := r.PredictProba(models.Matrix{Rows: 3, Cols: 1, Data: []float32{0, 5, 9}})
	fmt.Printf("last none %.2f, last recipient error %.2f, never seen %.2f\n", p[0], p[1], p[2])
	// Output: last none 0.26, last recipient error 0.56, never seen 0.40
}

func ExampleLogReg() {
	X, y := linearTask(1, 5000, 3)
	m := &LogReg{C: 1}
	if err := m.Fit(X, y); err != nil {
		panic(err)
	}
	p := m.PredictProba(models.Matrix{Rows: 2, Cols: 3, Data: []float32{2, -1, 1, -2, 1, -1}})
	fmt.Printf("risky row %.2f, safe row %.2f\n", p[0], p[1])
	fmt.Println(math.Signbit(m.Weights[1])) // x1 lowers the risk
	// Output:
	// risky row 0.97, safe row 0.00
	// true
}
