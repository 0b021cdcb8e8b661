package metrics

import (
	"fmt"
	"math"
)

// ConfusionMatrix counts rows by true class (row index) and predicted
// class (column index).
type ConfusionMatrix struct {
	Classes int
	Counts  [][]int // Counts[truth][predicted]
}

// checkClasses validates class indices against the number of classes.
func checkClasses(what string, xs []int, classes int) error {
	for i, c := range xs {
		if c < 0 || c >= classes {
			return fmt.Errorf("metrics: %s class of row %d is %d, want a class index in [0, %d)", what, i, c, classes)
		}
	}
	return nil
}

// Confusion returns the confusion matrix of predicted against true class
// indices in [0, classes).
func Confusion(pred, truth []int, classes int) (ConfusionMatrix, error) {
	if classes <= 0 {
		return ConfusionMatrix{}, fmt.Errorf("metrics: %d classes, want at least 1", classes)
	}
	if len(pred) != len(truth) {
		return ConfusionMatrix{}, fmt.Errorf("metrics: %d predictions but %d true classes", len(pred), len(truth))
	}
	if len(pred) == 0 {
		return ConfusionMatrix{}, ErrEmpty
	}
	if err := checkClasses("predicted", pred, classes); err != nil {
		return ConfusionMatrix{}, err
	}
	if err := checkClasses("true", truth, classes); err != nil {
		return ConfusionMatrix{}, err
	}
	c := ConfusionMatrix{Classes: classes, Counts: make([][]int, classes)}
	for i := range c.Counts {
		c.Counts[i] = make([]int, classes)
	}
	for i := range pred {
		c.Counts[truth[i]][pred[i]]++
	}
	return c, nil
}

// Total returns the number of rows counted.
func (c ConfusionMatrix) Total() int {
	n := 0
	for _, row := range c.Counts {
		for _, v := range row {
			n += v
		}
	}
	return n
}

// Accuracy returns the share of rows whose predicted class is the true one.
func (c ConfusionMatrix) Accuracy() float64 {
	correct := 0
	for k := range c.Counts {
		correct += c.Counts[k][k]
	}
	return float64(correct) / float64(c.Total())
}

// ClassStats are one class's one-vs-rest figures. Precision is 0 when the
// class is never predicted and Recall is 0 when it never occurs (the
// scikit-learn zero_division=0 convention).
type ClassStats struct {
	Class     int     `json:"class"`
	Name      string  `json:"name,omitempty"`
	Support   int     `json:"support"`   // rows whose true class is Class
	Predicted int     `json:"predicted"` // rows predicted as Class
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// PerClass returns the figures of every class, in class order.
func (c ConfusionMatrix) PerClass() []ClassStats {
	out := make([]ClassStats, c.Classes)
	for k := range out {
		s := ClassStats{Class: k}
		for j := 0; j < c.Classes; j++ {
			s.Support += c.Counts[k][j]
			s.Predicted += c.Counts[j][k]
		}
		tp := float64(c.Counts[k][k])
		if s.Predicted > 0 {
			s.Precision = tp / float64(s.Predicted)
		}
		if s.Support > 0 {
			s.Recall = tp / float64(s.Support)
		}
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		out[k] = s
	}
	return out
}

// MacroF1 returns the unweighted mean F1 over the classes that occur in
// the true or the predicted classes; classes absent from both are left
// out rather than counted as 0.
func (c ConfusionMatrix) MacroF1() float64 {
	var sum float64
	n := 0
	for _, s := range c.PerClass() {
		if s.Support == 0 && s.Predicted == 0 {
			continue
		}
		sum += s.F1
		n++
	}
	return sum / float64(n)
}

// Accuracy returns the share of rows with pred[i] == truth[i].
func Accuracy(pred, truth []int) (float64, error) {
	if len(pred) != len(truth) {
		return math.NaN(), fmt.Errorf("metrics: %d predictions but %d true classes", len(pred), len(truth))
	}
	if len(pred) == 0 {
		return math.NaN(), ErrEmpty
	}
	correct := 0
	for i := range pred {
		if pred[i] == truth[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(pred)), nil
}

// MacroF1 returns ConfusionMatrix.MacroF1 of the predictions.
func MacroF1(pred, truth []int, classes int) (float64, error) {
	c, err := Confusion(pred, truth, classes)
	if err != nil {
		return math.NaN(), err
	}
	return c.MacroF1(), nil
}

// checkProbs validates a row-major rows x classes probability slice.
func checkProbs(probs []float64, classes, rows int) error {
	if classes <= 0 {
		return fmt.Errorf("metrics: %d classes, want at least 1", classes)
	}
	if len(probs) != rows*classes {
		return fmt.Errorf("metrics: %d probabilities for %d rows of %d classes, want %d", len(probs), rows, classes, rows*classes)
	}
	if rows == 0 {
		return ErrEmpty
	}
	for i, p := range probs {
		if math.IsNaN(p) {
			return fmt.Errorf("metrics: probability of row %d class %d is NaN", i/classes, i%classes)
		}
	}
	return nil
}

// MultiLogLoss returns the mean negative log of the probability given to
// the true class. probs is row-major, len(truth) rows of classes values;
// probabilities are clipped at LogLossEpsilon and not renormalised.
func MultiLogLoss(probs []float64, classes int, truth []int) (float64, error) {
	if err := checkProbs(probs, classes, len(truth)); err != nil {
		return math.NaN(), err
	}
	if err := checkClasses("true", truth, classes); err != nil {
		return math.NaN(), err
	}
	var sum float64
	for i, t := range truth {
		sum -= math.Log(clip(probs[i*classes+t]))
	}
	return sum / float64(len(truth)), nil
}

// Argmax returns, for each row of the row-major probs, the class with the
// highest probability (the lowest index on ties).
func Argmax(probs []float64, classes int) []int {
	rows := len(probs) / classes
	out := make([]int, rows)
	for i := range out {
		row := probs[i*classes : (i+1)*classes]
		best := 0
		for k, p := range row {
			if p > row[best] {
				best = k
			}
		}
		out[i] = best
	}
	return out
}

// MultiSummary bundles the multi-class metrics of one evaluation.
type MultiSummary struct {
	Rows      int          `json:"rows"`
	Classes   int          `json:"classes"`
	Accuracy  float64      `json:"accuracy"`
	MacroF1   float64      `json:"macro_f1"`
	LogLoss   float64      `json:"log_loss"`
	PerClass  []ClassStats `json:"per_class"`
	Confusion [][]int      `json:"confusion"` // [true][predicted]
}

// ComputeMulti scores row-major class probabilities against the true
// classes; the predicted class is the Argmax. names, if not nil, names
// the classes (len(names) must equal classes).
func ComputeMulti(probs []float64, classes int, truth []int, names []string) (MultiSummary, error) {
	if names != nil && len(names) != classes {
		return MultiSummary{}, fmt.Errorf("metrics: %d class names for %d classes", len(names), classes)
	}
	loss, err := MultiLogLoss(probs, classes, truth)
	if err != nil {
		return MultiSummary{}, err
	}
	c, err := Confusion(Argmax(probs, classes), truth, classes)
	if err != nil {
		return MultiSummary{}, err
	}
	per := c.PerClass()
	for k := range per {
		if names != nil {
			per[k].Name = names[k]
		}
	}
	return MultiSummary{
		Rows: len(truth), Classes: classes,
		Accuracy: c.Accuracy(), MacroF1: c.MacroF1(), LogLoss: loss,
		PerClass: per, Confusion: c.Counts,
	}, nil
}
