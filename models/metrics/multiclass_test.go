package metrics

import (
	"math"
	"testing"
)

func TestConfusion(t *testing.T) {
	pred := []int{0, 1, 2, 2, 1, 0}
	truth := []int{0, 1, 1, 2, 2, 0}
	for _, classes := range []int{3, 4} { // class 3 never occurs: it must not dilute MacroF1
		c, err := Confusion(pred, truth, classes)
		if err != nil {
			t.Fatal(err)
		}
		if c.Counts[0][0] != 2 || c.Counts[1][1] != 1 || c.Counts[1][2] != 1 || c.Counts[2][2] != 1 || c.Counts[2][1] != 1 || c.Total() != 6 {
			t.Errorf("counts = %v", c.Counts)
		}
		if !near(c.Accuracy(), 4.0/6) {
			t.Errorf("accuracy = %v", c.Accuracy())
		}
		if !near(c.MacroF1(), 2.0/3) {
			t.Errorf("classes %d: MacroF1 = %v, want 2/3", classes, c.MacroF1())
		}
		per := c.PerClass()
		want := []ClassStats{
			{Class: 0, Support: 2, Predicted: 2, Precision: 1, Recall: 1, F1: 1},
			{Class: 1, Support: 2, Predicted: 2, Precision: 0.5, Recall: 0.5, F1: 0.5},
			{Class: 2, Support: 2, Predicted: 2, Precision: 0.5, Recall: 0.5, F1: 0.5},
		}
		for k, w := range want {
			if per[k] != w {
				t.Errorf("class %d = %+v, want %+v", k, per[k], w)
			}
		}
	}
	acc, err := Accuracy(pred, truth)
	if err != nil || !near(acc, 4.0/6) {
		t.Errorf("Accuracy = %v, %v", acc, err)
	}
	m, err := MacroF1(pred, truth, 3)
	if err != nil || !near(m, 2.0/3) {
		t.Errorf("MacroF1 = %v, %v", m, err)
	}

	// A class never predicted gets precision 0 (not NaN).
	c, _ := Confusion([]int{0, 0}, []int{0, 1}, 2)
	if p := c.PerClass()[1]; p.Precision != 0 || p.Recall != 0 || p.F1 != 0 {
		t.Errorf("never predicted class = %+v", p)
	}

	for _, bad := range []struct {
		name        string
		pred, truth []int
		classes     int
	}{
		{"length", []int{0}, []int{0, 1}, 2},
		{"class out of range", []int{0, 2}, []int{0, 1}, 2},
		{"negative class", []int{0, 1}, []int{-1, 1}, 2},
		{"empty", nil, nil, 2},
		{"no classes", []int{0}, []int{0}, 0},
	} {
		if _, err := Confusion(bad.pred, bad.truth, bad.classes); err == nil {
			t.Errorf("%s accepted", bad.name)
		}
	}
}

func TestMultiLogLoss(t *testing.T) {
	probs := []float64{0.7, 0.2, 0.1, 0.1, 0.8, 0.1}
	got, err := MultiLogLoss(probs, 3, []int{0, 1})
	if want := -(math.Log(0.7) + math.Log(0.8)) / 2; err != nil || !near(got, want) {
		t.Errorf("MultiLogLoss = %v, %v; want %v", got, err, want)
	}
	got, _ = MultiLogLoss([]float64{1, 0}, 2, []int{1})
	if want := -math.Log(LogLossEpsilon); !near(got, want) {
		t.Errorf("clipped MultiLogLoss = %v, want %v", got, want)
	}
	if _, err := MultiLogLoss(probs, 3, []int{0}); err == nil {
		t.Error("6 probabilities for 1 row of 3 classes accepted")
	}
	if _, err := MultiLogLoss(probs, 3, []int{0, 3}); err == nil {
		t.Error("class 3 of 3 accepted")
	}
}

func TestComputeMulti(t *testing.T) {
	probs := []float64{
		0.7, 0.2, 0.1, // -> 0, true 0
		0.1, 0.8, 0.1, // -> 1, true 1
		0.4, 0.4, 0.2, // tie -> 0, true 2
	}
	s, err := ComputeMulti(probs, 3, []int{0, 1, 2}, []string{"none", "auth", "throttle"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows != 3 || s.Classes != 3 || !near(s.Accuracy, 2.0/3) || s.PerClass[2].Name != "throttle" || s.Confusion[2][0] != 1 {
		t.Errorf("summary = %+v", s)
	}
	// F1: class 0 = 2*0.5*1/1.5 = 2/3, class 1 = 1, class 2 = 0.
	if !near(s.MacroF1, (2.0/3+1+0)/3) {
		t.Errorf("MacroF1 = %v", s.MacroF1)
	}
	if _, err := ComputeMulti(probs, 3, []int{0, 1, 2}, []string{"x"}); err == nil {
		t.Error("1 name for 3 classes accepted")
	}
}
