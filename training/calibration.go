package training

import (
	"errors"
	"fmt"
	"math"

	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/calibrate"
	"github.com/failcast/failcast/models/metrics"
)

// calibration is the probability calibration of a run: the map fitted on
// the validation window and the validation P(fail) before and after it.
type calibration struct {
	platt  *calibrate.Platt // nil when not fitted (too few rows, or no gain)
	rows   int
	before []float64 // the fail model's P(fail) of every validation row
	after  []float64 // the same through platt (before when nil)
	note   string
	// Log-loss on validation before and after.
	lossBefore, lossAfter float64
}

// calibrate fits a Platt map of the fail model's P(fail) on the
// validation window. The map is kept only when it lowers the validation
// log-loss; it is monotone, so the rows each threshold flags and every
// ranking metric are those of the model. The same rows also stop the
// boosting early and choose the thresholds: the map has two parameters,
// and the thresholds are chosen on its output (the same rows flagged),
// which the report and metadata say.
func (t *trainer) calibrate(valid []float64, labels []bool) calibration {
	c := calibration{before: valid, after: valid, lossBefore: math.NaN(), lossAfter: math.NaN()}
	c.lossBefore, _ = metrics.LogLoss(valid, labels)
	p, err := calibrate.FitPlatt(valid, labels)
	if err != nil {
		level := t.log.Warn
		if errors.Is(err, calibrate.ErrTooFew) {
			level = t.log.Info
		}
		level("no probability calibration: P(fail) is stored as the model gives it", "err", err)
		c.note = fmt.Sprintf("No calibration map: %v.", err)
		return c
	}
	after := make([]float64, len(valid))
	for i, v := range valid {
		after[i] = p.Apply(v)
	}
	loss, _ := metrics.LogLoss(after, labels)
	if !(loss < c.lossBefore) {
		c.note = fmt.Sprintf("No calibration map: the fitted Platt map (a=%.3f, b=%.3f) does not lower the validation log-loss (%.4f vs %.4f).", p.A, p.B, loss, c.lossBefore)
		t.log.Info("probability calibration does not help; none stored", "a", round4(p.A), "b", round4(p.B), "log_loss", round4(loss), "log_loss_model", round4(c.lossBefore))
		return c
	}
	c.platt, c.rows, c.after, c.lossAfter = &p, len(valid), after, loss
	c.note = fmt.Sprintf("P(fail) is calibrated with a Platt map p' = sigmoid(%.3f logit(p) %+.3f) fitted on the %d validation sends "+
		"(log-loss %.4f before, %.4f after; mean P(fail) %.4f before, %.4f after, observed rate %.4f). "+
		"The map is monotone: the thresholds are chosen on its output over the same validation rows, which flag the same sends as before it. "+
		"Scoring applies the map before it combines the known failure mechanisms (docs/predictions.md).",
		p.A, p.B, len(valid), c.lossBefore, loss, mean(valid), mean(after), rate(labels))
	t.log.Info("probability calibration fitted on validation", "a", round4(p.A), "b", round4(p.B), "rows", len(valid),
		"log_loss_before", round4(c.lossBefore), "log_loss_after", round4(loss), "mean_before", round4(mean(valid)), "mean_after", round4(mean(after)),
		"observed_rate", round4(rate(labels)))
	return c
}

// serving adds the calibration to s.
func (c calibration) serving(s bundle.Serving) bundle.Serving {
	s.Calibration, s.CalibrationRows = c.platt, c.rows
	return s
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func rate(b []bool) float64 {
	if len(b) == 0 {
		return math.NaN()
	}
	return float64(count(b)) / float64(len(b))
}
