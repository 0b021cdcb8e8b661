package scoring

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/plans"
)

// SendExplanation is every feature's exact TreeSHAP contribution to one
// planned send's P(fail), as the model computes it:
//
//	Bias + sum of Contributions = Logit = log(PFail / (1 - PFail))
//
// PFail is the fail model's own probability, before any adjustment a
// scoring run makes afterwards (a known token expiry raises it to
// TokenExpiredPFail; a calibration step, where the model has one, maps it
// to predictions.csv's p_fail).
type SendExplanation struct {
	SendID      string
	CampaignID  string
	ScheduledAt int64 // Unix µs
	Model       string
	AsOf        int64 // features computed as of, Unix µs
	// Bias is the fail model's expected log-odds over its training rows.
	Bias float64
	// Logit is the model's log-odds of the send (PredictRaw); PFail its
	// sigmoid.
	Logit, PFail float64
	// Residual is Logit - (Bias + sum of contributions): float64 rounding.
	Residual float64
	// Contributions of every feature, largest absolute value first (ties
	// in feature order).
	Contributions []FeatureContribution
}

// FeatureContribution is one feature's value for the send and its signed
// contribution to the log-odds of P(fail).
type FeatureContribution struct {
	Feature      string  `json:"feature"`
	Value        float64 `json:"value"`
	Contribution float64 `json:"contribution"`
}

// errFound stops the plan stream once the send is explained.
var errFound = errors.New("send found")

// ExplainSend computes the features of the planned send sendID as a
// scoring run with cfg would (the same plans, history, as-of, model and
// hashing key; cfg.Out is not used and nothing is written) and explains
// its P(fail). The plans are streamed in time order up to the send, so
// the schedule features see the sends planned before it. A send id not
// among the plans' valid rows, a rejected row and a model without node
// cover are input errors.
func ExplainSend(ctx context.Context, cfg Config, sendID string) (*SendExplanation, error) {
	if sendID == "" {
		return nil, exitcode.Usagef("--send-id is required")
	}
	if cfg.Out == "" {
		cfg.Out = "-" // not used
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.logger()
	m, err := loadModel(cfg.Registry, cfg.Model, log)
	if err != nil {
		return nil, err
	}
	ex, err := m.Fail.NewExplainer()
	if err != nil {
		return nil, exitcode.Inputf("model %s: %w", m.version, err)
	}
	asOf := cfg.AsOf.UnixMicro()
	var rejected string
	nRejected := 0
	p, err := plans.Survey(ctx, cfg.Plans, asOf, cfg.BatchSize, func(e pipeline.RowError) error {
		nRejected++
		if rejected == "" && strings.Contains(e.Error(), fmt.Sprintf("%q", sendID)) {
			rejected = e.Error()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ds, err := pipeline.OpenDataset(cfg.History)
	if err != nil {
		return nil, exitcode.Inputf("history: %w", err)
	}
	var cache *stateCache
	if cfg.StateCache != "" {
		_, hi, _, terr := ds.TimeRange(ctx)
		if terr != nil {
			hi = math.MaxInt64
		}
		if cache, err = newStateCache(cfg.StateCache, ds, m.cfg, hi, asOf, log); err != nil {
			return nil, err
		}
	}
	fs, err := foldOrLoad(ctx, ds, m.cfg, asOf, cache)
	if err != nil {
		return nil, classify(ctx, fmt.Errorf("history %s: %w", cfg.History, err))
	}
	var hasher *pipeline.RecipientHasher
	if len(cfg.HashKey) > 0 {
		hasher = pipeline.NewRecipientHasher(cfg.HashKey)
	}
	var out *SendExplanation
	err = p.Stream(ctx, func(batch []pipeline.PlannedSend) error {
		if hasher != nil {
			for i := range batch {
				if !strings.HasPrefix(batch[i].Recipient, pipeline.HashedPrefix) {
					batch[i].Recipient = hasher.Hash(batch[i].Recipient)
				}
			}
		}
		tab, err := fs.Next(batch)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(batch, func(s pipeline.PlannedSend) bool { return s.SendID == sendID })
		if i < 0 {
			return nil
		}
		X := models.Matrix{Rows: tab.Rows, Cols: len(tab.Names), Data: tab.X}
		out = explainRow(ex, m, X.Slice(i, i+1), tab.Names, &batch[i])
		out.AsOf = asOf
		return errFound
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, classify(ctx, err)
	}
	if out == nil {
		if rejected != "" {
			return nil, exitcode.Inputf("send %q cannot be scored: %s", sendID, rejected)
		}
		if nRejected > 0 {
			return nil, exitcode.Inputf("send %q is not among the valid rows of the plan (%s); %d rows were rejected (score lists them in rejected_rows.csv)",
				sendID, strings.Join(cfg.Plans, ", "), nRejected)
		}
		return nil, exitcode.Inputf("send %q is not in the plan (%s)", sendID, strings.Join(cfg.Plans, ", "))
	}
	return out, nil
}

// explainRow explains the one-row matrix x of send s.
func explainRow(ex interface {
	Explain([]float32, []float64)
	Bias() []float64
}, m *model, x models.Matrix, names []string, s *pipeline.PlannedSend) *SendExplanation {
	phi := make([]float64, len(names))
	ex.Explain(x.Row(0), phi)
	raw := m.Fail.PredictRaw(x)[0]
	e := &SendExplanation{SendID: s.SendID, CampaignID: s.CampaignID, ScheduledAt: s.ScheduledAt, Model: m.version,
		Bias: ex.Bias()[0], Logit: raw, PFail: 1 / (1 + math.Exp(-raw))}
	sum := e.Bias
	for j, v := range phi {
		e.Contributions = append(e.Contributions, FeatureContribution{Feature: names[j], Value: float64(x.Row(0)[j]), Contribution: v})
		sum += v
	}
	e.Residual = raw - sum
	slices.SortStableFunc(e.Contributions, func(a, b FeatureContribution) int {
		switch x, y := math.Abs(a.Contribution), math.Abs(b.Contribution); {
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return 0
	})
	return e
}

// WriteText writes the explanation as a table: the base value, every
// feature's value and contribution, and the check that they add up.
func (e *SendExplanation) WriteText(w io.Writer) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("send %s (campaign %s, scheduled %s), model %s, features as of %s\n",
		e.SendID, e.CampaignID, FormatTime(e.ScheduledAt), e.Model, FormatTime(e.AsOf))
	p("contributions to the log-odds of P(fail) (exact TreeSHAP), largest first:\n\n")
	width := len("feature")
	for _, c := range e.Contributions {
		width = max(width, len(c.Feature))
	}
	p("  %-*s  %14s  %12s\n", width, "feature", "value", "contribution")
	for _, c := range e.Contributions {
		p("  %-*s  %14s  %+12.4f\n", width, c.Feature, formatValue(c.Value), c.Contribution)
	}
	sum := 0.0
	for _, c := range e.Contributions {
		sum += c.Contribution
	}
	p("\n  base value (expected log-odds over the training rows)  %+.4f\n", e.Bias)
	p("  sum of contributions                                   %+.4f\n", sum)
	p("  base + sum = log-odds of the model's P(fail)           %+.4f  (model: %+.4f, difference %.1e)\n", e.Bias+sum, e.Logit, e.Residual)
	p("  P(fail) = 1 / (1 + exp(-log-odds))                     %.4f\n", e.PFail)
	p("\nP(fail) here is the fail model's own, before any adjustment of the scoring run (a known token\n")
	p("expiry raises p_fail to %.2f; a calibration step, where the model has one, maps it to p_fail).\n", TokenExpiredPFail)
	_, err := io.WriteString(w, b.String())
	return err
}

// formatValue writes a feature value compactly ("never" for the features'
// hours-since sentinel).
func formatValue(v float64) string {
	switch {
	case v >= neverHours*10:
		return fmt.Sprintf("%.0f (never)", v)
	case v == math.Trunc(v) && math.Abs(v) < 1e9:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}
