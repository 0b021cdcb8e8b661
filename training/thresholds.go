package training

import (
	"errors"
	"fmt"
	"math"

	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/metrics"
)

// Limits of the threshold warnings.
const (
	// minHighHits is the fewest failed validation sends the "high"
	// threshold must flag for its precision to mean something: with 30 the
	// 95% interval of a precision of 0.8 is about +-0.15.
	minHighHits = 30
	// maxBaseRateShift is the largest ratio between the training and the
	// validation failure rates (either way) before train warns: precision
	// at a fixed threshold moves with the base rate.
	maxBaseRateShift = 1.5
	// precisionZ is the normal quantile of the precision interval the
	// warnings read (a two-sided 95% Wilson interval).
	precisionZ = 1.96
)

// thresholds chooses the stored decision thresholds on the validation
// scores (the calibrated P(fail), see calibrate) and says what the
// validation window cannot support. The rule (docs/train.md):
//
//   - high: the lowest threshold whose validation precision reaches
//     --target-precision; +Inf (flags nothing) when none does.
//   - medium: the threshold flagging at most --alert-budget of the
//     validation sends, when it is below high. When it is not (the target
//     precision is only reached at an alert rate above the budget),
//     medium is the lowest threshold whose precision reaches half the
//     target, and when that is not below high either, the largest
//     validation score below high. So high > medium always: the two
//     bands never collapse into one.
func (t *trainer) thresholds(scores []float64, labels []bool, trainRate float64) (map[string]metrics.Threshold, []string) {
	var warnings []string
	warn := func(msg string, args ...any) {
		t.log.Warn(msg, args...)
		warnings = append(warnings, msg+argsText(args))
	}
	target := t.cfg.TargetPrecision
	high, err := metrics.ThresholdForPrecision(scores, labels, target)
	if err != nil {
		warn("no threshold reaches the target precision on validation: the high threshold flags nothing", "target_precision", target, "err", err)
	}
	medium, err := metrics.ThresholdForBudget(scores, labels, t.cfg.AlertBudget)
	if err != nil && !errors.Is(err, metrics.ErrUnreachable) {
		t.log.Warn("alert budget threshold", "alert_budget", t.cfg.AlertBudget, "err", err)
	}
	if !(medium.Value < high.Value) {
		why := fmt.Sprintf("the alert-budget threshold %.4g is not below high %.4g", medium.Value, high.Value)
		half, herr := metrics.ThresholdForPrecision(scores, labels, target/2)
		if herr == nil && half.Value < high.Value {
			medium = half
			t.log.Info("medium threshold at half the target precision", "reason", why, "medium", round4(medium.Value))
		} else {
			medium = below(scores, labels, high.Value)
			t.log.Info("medium threshold at the largest validation score below high", "reason", why, "medium", medium.Value)
		}
	}
	if high.Reached && high.Flagged > 0 {
		hits := int(math.Round(high.Precision * float64(high.Flagged)))
		if hits < minHighHits {
			warn("validation cannot support the target precision: the high threshold flags too few failed sends for its precision to be measured",
				"target_precision", target, "flagged", high.Flagged, "failed_flagged", hits, "want_at_least", minHighHits)
		} else if lo := wilsonLower(hits, high.Flagged, precisionZ); lo < target {
			// The threshold is the lowest that reaches the target, so its
			// precision often sits just above it: within its sampling
			// error, new sends may well come out below the target.
			warn("validation cannot support the target precision: the 95% interval of the high threshold's validation precision reaches below the target, so on new sends it may come out below it",
				"target_precision", target, "valid_precision", round4(high.Precision), "flagged", high.Flagged, "precision_lower_bound", round4(lo))
		}
	}
	pos := count(labels)
	if pos < minHighHits*2 {
		warn("few failed sends in the validation window: thresholds and calibration rest on them", "valid_failures", pos)
	}
	validRate := float64(pos) / float64(max(1, len(labels)))
	if trainRate > 0 && validRate > 0 {
		if r := validRate / trainRate; r > maxBaseRateShift || r < 1/maxBaseRateShift {
			warn("the failure rate shifted between training and validation: precision at the stored thresholds moves with it",
				"train_failure_rate", round4(trainRate), "valid_failure_rate", round4(validRate), "max_ratio", maxBaseRateShift)
		}
	}
	return map[string]metrics.Threshold{bundle.ThresholdHigh: high, bundle.ThresholdMedium: medium}, warnings
}

// wilsonLower is the lower end of the Wilson score interval of a
// proportion of hits in n at normal quantile z (0 when n is 0).
func wilsonLower(hits, n int, z float64) float64 {
	if n <= 0 {
		return 0
	}
	p, nf := float64(hits)/float64(n), float64(n)
	z2 := z * z
	return (p + z2/(2*nf) - z*math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))) / (1 + z2/nf)
}

// below returns the threshold at the largest score below v (flagging
// every row with a score at or above it), described on the rows.
func below(scores []float64, labels []bool, v float64) metrics.Threshold {
	best := math.Inf(-1)
	for _, s := range scores {
		if s < v && s > best {
			best = s
		}
	}
	th := metrics.Threshold{Rule: metrics.RulePrecision, Target: 0, Value: best, Precision: math.NaN(), Recall: math.NaN()}
	if math.IsInf(best, -1) {
		// Every score is at or above high: medium flags what high flags,
		// just below it.
		th.Value = math.Nextafter(v, 0)
	}
	tp, fp, pos := 0, 0, 0
	for i, s := range scores {
		if labels[i] {
			pos++
		}
		if s >= th.Value {
			if labels[i] {
				tp++
			} else {
				fp++
			}
		}
	}
	th.Reached, th.Flagged = true, tp+fp
	if n := len(scores); n > 0 {
		th.AlertRate = float64(tp+fp) / float64(n)
	}
	if tp+fp > 0 {
		th.Precision = float64(tp) / float64(tp+fp)
	}
	if pos > 0 {
		th.Recall = float64(tp) / float64(pos)
	}
	return th
}

// argsText renders slog key-value pairs for the report and metadata.
func argsText(args []any) string {
	s := ""
	for i := 0; i+1 < len(args); i += 2 {
		s += fmt.Sprintf("; %v %v", args[i], args[i+1])
	}
	return s
}
