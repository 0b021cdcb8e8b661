package golearngbdt

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/gbdt"
	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/evaluation"
)

// golearnGrid builds a DenseInstances grid with float features f0, f1
// and a categorical class whose value is given by label.
func golearnGrid(t *testing.T, n int, classes []string, label func(x0, x1 float64) int) *base.DenseInstances {
	t.Helper()
	X := uniformMatrix(n, 2, uint64(n))
	g := base.NewDenseInstances()
	f0, f1 := base.NewFloatAttribute("f0"), base.NewFloatAttribute("f1")
	cls := base.NewCategoricalAttribute()
	cls.SetName("outcome")
	for _, c := range classes {
		cls.GetSysValFromString(c)
	}
	s0, s1, sc := g.AddAttribute(f0), g.AddAttribute(f1), g.AddAttribute(cls)
	if err := g.AddClassAttribute(cls); err != nil {
		t.Fatal(err)
	}
	if err := g.Extend(n); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		x0, x1 := float64(X.At(i, 0)), float64(X.At(i, 1))
		g.Set(s0, i, base.PackFloatToBytes(x0))
		g.Set(s1, i, base.PackFloatToBytes(x1))
		g.Set(sc, i, cls.GetSysValFromString(classes[label(x0, x1)]))
	}
	return g
}

func TestGolearnConfusionMatrix(t *testing.T) {
	tests := []struct {
		name    string
		classes []string
		label   func(x0, x1 float64) int
	}{
		{"binary", []string{"ok", "failed"}, func(x0, _ float64) int {
			if x0 > 0.2 {
				return 1
			}
			return 0
		}},
		{"three classes", []string{"throttle", "recipient", "payload"}, func(x0, x1 float64) int {
			switch {
			case x1 < -0.3:
				return 0
			case x0 < 0:
				return 1
			}
			return 2
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			train := golearnGrid(t, 1500, tc.classes, tc.label)
			test := golearnGrid(t, 400, tc.classes, tc.label)
			p := gbdt.DefaultParams()
			p.NumRounds, p.MaxDepth, p.LearningRate = 30, 3, 0.3
			var c base.Classifier = NewGolearnClassifier(p)
			if err := c.Fit(train); err != nil {
				t.Fatal(err)
			}
			pred, err := c.Predict(test)
			if err != nil {
				t.Fatal(err)
			}
			cm, err := evaluation.GetConfusionMatrix(test, pred)
			if err != nil {
				t.Fatal(err)
			}
			if acc := evaluation.GetAccuracy(cm); acc < 0.97 {
				t.Errorf("accuracy %.3f, want >= 0.97; confusion matrix %v", acc, cm)
			}
			for _, cl := range tc.classes {
				if evaluation.GetTruePositives(cl, cm) == 0 {
					t.Errorf("class %q never predicted correctly: %v", cl, cm)
				}
			}

			path := filepath.Join(t.TempDir(), "gbdt.cls")
			if err := c.Save(path); err != nil {
				t.Fatal(err)
			}
			loaded := &GolearnClassifier{}
			if err := loaded.Load(path); err != nil {
				t.Fatal(err)
			}
			again, err := loaded.Predict(test)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 400; i++ {
				if a, b := base.GetClass(pred, i), base.GetClass(again, i); a != b {
					t.Fatalf("row %d: %q after Load, %q before", i, b, a)
				}
			}
			if got := fmt.Sprint(loaded); got != fmt.Sprint(c) {
				t.Errorf("loaded adapter %q, want %q", got, fmt.Sprint(c))
			}
		})
	}
}

func TestGolearnRejectsBadUse(t *testing.T) {
	if _, err := NewGolearnClassifier(gbdt.DefaultParams()).Predict(base.NewDenseInstances()); err == nil {
		t.Error("Predict before Fit succeeded")
	}

	// A categorical feature next to the class.
	g := base.NewDenseInstances()
	country, cls := base.NewCategoricalAttribute(), base.NewCategoricalAttribute()
	country.SetName("country")
	cls.SetName("outcome")
	sCountry, sCls := g.AddAttribute(country), g.AddAttribute(cls)
	if err := g.AddClassAttribute(cls); err != nil {
		t.Fatal(err)
	}
	if err := g.Extend(4); err != nil {
		t.Fatal(err)
	}
	for i, v := range []string{"BR", "IN", "BR", "NG"} {
		g.Set(sCountry, i, country.GetSysValFromString(v))
		g.Set(sCls, i, cls.GetSysValFromString([]string{"ok", "failed"}[i%2]))
	}
	err := NewGolearnClassifier(gbdt.DefaultParams()).Fit(g)
	if err == nil || !strings.Contains(err.Error(), `attribute "country"`) {
		t.Errorf("Fit on a categorical feature: error %v, want one naming attribute \"country\"", err)
	}
}

// uniformMatrix returns an n x cols matrix of uniform values in [-1, 1).
func uniformMatrix(n, cols int, seed uint64) models.Matrix {
	rng := rand.New(rand.NewPCG(seed, 99))
	X := models.NewMatrix(n, cols)
	for i := range X.Data {
		X.Data[i] = float32(2*rng.Float64() - 1)
	}
	return X
}
