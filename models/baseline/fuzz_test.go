package baseline

import (
	"bytes"
	"strings"
	"testing"

	"github.com/failcast/failcast/models"
)

func FuzzParseLiblinearModel(f *testing.F) {
	f.Add("solver_type L2R_LR\nnr_class 2\nlabel 0 1\nnr_feature 3\nbias -1\nw\n0.5 \n-1.25 \n0 \n", 2)
	f.Add("label 1 0\nnr_feature 2\nw\n1\n2\n", 2)
	f.Add("label 1\nnr_feature 1\nw\n1\n", 1)
	f.Add("nr_feature x\n", 1)
	f.Fuzz(func(t *testing.T, text string, cols int) {
		if cols < 0 || cols > 1000 {
			return
		}
		w, err := parseLiblinearModel(strings.NewReader(text), cols)
		if err == nil && len(w) != cols {
			t.Fatalf("%d weights for %d columns", len(w), cols)
		}
	})
}

func TestParseLiblinearModel(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []float64 // nil: error
	}{
		{"label 0 first: negate", "label 0 1\nnr_feature 3\nw\n0.5\n-1.25\n0\n", []float64{-0.5, 1.25}},
		{"label 1 first", "label 1 0\nnr_feature 2\nw\n0.5 \n-1.25 \n", []float64{0.5, -1.25}},
		{"one class", "label 1\nnr_feature 2\nw\n1\n2\n", nil},
		{"too few weights", "label 1 0\nnr_feature 3\nw\n1\n", nil},
		{"no weights", "label 1 0\nnr_feature 2\n", nil},
		{"bad weight", "label 1 0\nnr_feature 2\nw\n1\nx\n", nil},
	}
	for _, tc := range tests {
		w, err := parseLiblinearModel(strings.NewReader(tc.text), 2)
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s: accepted, weights %v", tc.name, w)
			}
			continue
		}
		if err != nil || len(w) != 2 || w[0] != tc.want[0] || w[1] != tc.want[1] {
			t.Errorf("%s: %v, %v; want %v", tc.name, w, err, tc.want)
		}
	}
}

func FuzzReadForest(f *testing.F) {
	f.Add([]byte(`{"cols":2,"forest":[[{"f":1,"t":0.5,"l":1,"r":2,"p":0.3},{"f":-1,"p":0.1},{"f":-1,"p":0.9}]]}`))
	f.Add([]byte(`{"cols":1,"forest":[[{"f":0,"t":0.5,"l":0,"r":0,"p":0.1}]]}`))
	f.Add([]byte(`{"cols":3,"forest":[[{"f":-7,"p":0}]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		forest, err := ReadForest(bytes.NewReader(data))
		if err != nil || forest.Cols > 100 {
			return
		}
		X := models.NewMatrix(3, forest.Cols)
		for i := range X.Data {
			X.Data[i] = float32(i%5) / 4
		}
		for _, p := range forest.PredictProba(X) { // must not panic or loop
			if !(p >= 0 && p <= 1) {
				t.Fatalf("probability %v", p)
			}
		}
	})
}

func FuzzReadRule(f *testing.F) {
	f.Add([]byte(`{"column":0,"alpha":2,"base_rate":0.1,"values":[{"value":1,"rows":3,"positives":1,"p":0.3}]}`))
	f.Add([]byte(`{"column":2,"base_rate":0.5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ReadRule(bytes.NewReader(data))
		if err != nil || r.Column > 100 {
			return
		}
		X := models.NewMatrix(2, r.Column+1)
		for _, p := range r.PredictProba(X) {
			if !(p >= 0 && p <= 1) {
				t.Fatalf("probability %v", p)
			}
		}
	})
}
