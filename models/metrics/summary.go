package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Defaults used by Compute.
var (
	// DefaultPrecisions are the target precisions of Summary.AtPrecision.
	DefaultPrecisions = []float64{0.5, 0.8, 0.9}
	// DefaultBudgets are the alert budgets (shares of rows) of Summary.AtBudget.
	DefaultBudgets = []float64{0.01, 0.05, 0.10}
)

// ReliabilityBins is the number of bins behind Summary.ECE.
const ReliabilityBins = 10

// Summary bundles the binary metrics of one evaluation. Metrics that are
// undefined on the rows (ROCAUC with one class, anything with no rows) are
// NaN, and null in JSON.
type Summary struct {
	Rows        int         `json:"rows"`
	Positives   int         `json:"positives"`
	BaseRate    float64     `json:"base_rate"`
	ROCAUC      float64     `json:"roc_auc"`
	PRAUC       float64     `json:"pr_auc"` // AveragePrecision (step-wise)
	LogLoss     float64     `json:"log_loss"`
	Brier       float64     `json:"brier"`
	ECE         float64     `json:"ece"`          // over ReliabilityBins equal-width bins
	AtPrecision []Threshold `json:"at_precision"` // one per target precision
	AtBudget    []Threshold `json:"at_budget"`    // one per alert budget
}

// Compute returns the Summary of probabilities against labels, with
// thresholds at DefaultPrecisions and DefaultBudgets. It panics if the
// lengths differ or a score is NaN, both bugs in the caller; ComputeAt
// returns an error instead.
func Compute(scores []float64, labels []bool) Summary {
	s, err := ComputeAt(scores, labels, DefaultPrecisions, DefaultBudgets)
	if err != nil {
		panic(err)
	}
	return s
}

// ComputeAt is Compute with chosen target precisions and alert budgets.
// Scores outside [0, 1] are allowed (they are clipped for LogLoss and
// Reliability), though they make LogLoss, Brier and ECE meaningless.
func ComputeAt(scores []float64, labels []bool, precisions, budgets []float64) (Summary, error) {
	nan := math.NaN()
	s := Summary{Rows: len(scores), BaseRate: nan, ROCAUC: nan, PRAUC: nan, LogLoss: nan, Brier: nan, ECE: nan}
	err := check(scores, labels)
	if errors.Is(err, ErrEmpty) {
		return s, nil
	}
	if err != nil {
		return Summary{}, err
	}
	for _, p := range precisions {
		if !(p > 0 && p <= 1) {
			return Summary{}, fmt.Errorf("metrics: target precision %g, want a value in (0, 1]", p)
		}
	}
	for _, b := range budgets {
		if !(b > 0 && b <= 1) {
			return Summary{}, fmt.Errorf("metrics: alert budget %g, want a share of rows in (0, 1]", b)
		}
	}
	steps, pos, neg := ranking(scores, labels)
	s.Positives = pos
	s.BaseRate = float64(pos) / float64(s.Rows)
	if pos > 0 && neg > 0 {
		s.ROCAUC = aucOf(steps, pos, neg)
		s.PRAUC = apOf(steps, pos)
	}
	s.LogLoss, _ = LogLoss(scores, labels)
	s.Brier, _ = Brier(scores, labels)
	clipped := make([]float64, len(scores))
	for i, p := range scores {
		clipped[i] = min(max(p, 0), 1)
	}
	if bins, err := Reliability(clipped, labels, ReliabilityBins); err == nil {
		s.ECE = ECE(bins)
	}
	for _, p := range precisions {
		t := unreached(RulePrecision, p, pos) // one class: no precision target is meaningful
		if pos > 0 && neg > 0 {
			t, _ = forPrecision(steps, pos, s.Rows, p) // unreached targets flag nothing
		}
		s.AtPrecision = append(s.AtPrecision, t)
	}
	for _, b := range budgets {
		t, _ := forBudget(steps, pos, s.Rows, b) // unreached budgets flag nothing
		s.AtBudget = append(s.AtBudget, t)
	}
	return s, nil
}

type summaryJSON struct {
	Rows        int         `json:"rows"`
	Positives   int         `json:"positives"`
	BaseRate    jsonFloat   `json:"base_rate"`
	ROCAUC      jsonFloat   `json:"roc_auc"`
	PRAUC       jsonFloat   `json:"pr_auc"`
	LogLoss     jsonFloat   `json:"log_loss"`
	Brier       jsonFloat   `json:"brier"`
	ECE         jsonFloat   `json:"ece"`
	AtPrecision []Threshold `json:"at_precision"`
	AtBudget    []Threshold `json:"at_budget"`
}

func (s Summary) MarshalJSON() ([]byte, error) {
	return json.Marshal(summaryJSON{
		Rows: s.Rows, Positives: s.Positives, BaseRate: jsonFloat(s.BaseRate),
		ROCAUC: jsonFloat(s.ROCAUC), PRAUC: jsonFloat(s.PRAUC), LogLoss: jsonFloat(s.LogLoss),
		Brier: jsonFloat(s.Brier), ECE: jsonFloat(s.ECE), AtPrecision: s.AtPrecision, AtBudget: s.AtBudget,
	})
}

func (s *Summary) UnmarshalJSON(b []byte) error {
	var j summaryJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Summary{
		Rows: j.Rows, Positives: j.Positives, BaseRate: float64(j.BaseRate),
		ROCAUC: float64(j.ROCAUC), PRAUC: float64(j.PRAUC), LogLoss: float64(j.LogLoss),
		Brier: float64(j.Brier), ECE: float64(j.ECE), AtPrecision: j.AtPrecision, AtBudget: j.AtBudget,
	}
	return nil
}
