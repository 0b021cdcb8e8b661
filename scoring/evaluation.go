package scoring

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/failcast/failcast/pipeline"
)

// Evaluator compares predictions with the true outcomes of the plan (the
// simulator's, or a later export's), to show how many failures were
// flagged in advance.
type Evaluator struct {
	outcomes map[string]pipeline.PlanOutcome
	seen     map[string]bool
	ev       Evaluation
	sumP     float64
	sumSq    float64
	fam      [pipeline.NumFamilies]FamilyEvaluation
	camps    map[string]*campaignEval
}

type campaignEval struct {
	CampaignEvaluation
	byFamily [pipeline.NumFamilies]int
}

// Evaluation is the result of an Evaluator; it is written to
// evaluation.json.
type Evaluation struct {
	Sends            int     `json:"sends"`             // predictions seen
	WithOutcome      int     `json:"with_outcome"`      // predictions that had an outcome
	MissingOutcome   int     `json:"missing_outcome"`   // predictions without an outcome (not evaluated)
	UnscoredOutcomes int     `json:"unscored_outcomes"` // outcomes of sends that were not scored (rejected rows, other plans)
	Failures         int     `json:"failures"`
	BaseRate         float64 `json:"base_rate"`   // failures / with_outcome
	MeanPFail        float64 `json:"mean_p_fail"` // calibration in the large: compare with base_rate
	Brier            float64 `json:"brier"`

	High         FlagStats `json:"high"`           // risk = high
	MediumOrHigh FlagStats `json:"medium_or_high"` // risk >= medium
	AnyAction    FlagStats `json:"any_action"`     // action other than send as planned
	// RuleLastFailed is the rule baseline every model must beat: flag a send
	// when the recipient's last known outcome was a failure.
	RuleLastFailed FlagStats `json:"rule_last_send_failed"`

	ByFamily   []FamilyEvaluation   `json:"by_family"`   // actual failures per true family
	ByCampaign []CampaignEvaluation `json:"by_campaign"` // expected against actual failures per campaign, most failures first
}

// CampaignEvaluation compares a campaign's expected failures with its
// actual ones.
type CampaignEvaluation struct {
	CampaignID       string         `json:"campaign_id"`
	Sends            int            `json:"sends"` // sends with an outcome
	Failures         int            `json:"failures"`
	ExpectedFailures float64        `json:"expected_failures"`
	FailuresByFamily map[string]int `json:"failures_by_family,omitempty"`
}

// FlagStats are precision and recall of one flag against actual failures.
type FlagStats struct {
	Flagged   int     `json:"flagged"`
	Hits      int     `json:"hits"` // flagged sends that failed
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"` // share of all failures flagged in advance
}

// FamilyEvaluation is how well failures of one true family were seen.
type FamilyEvaluation struct {
	Family              string  `json:"family"`
	Failures            int     `json:"failures"`
	ExpectedFailures    float64 `json:"expected_failures"` // the sum of p_<family> over the sends with an outcome: compare with failures
	FlaggedMediumOrHigh int     `json:"flagged_medium_or_high"`
	Recall              float64 `json:"recall"`
	LikelyFamilyRight   int     `json:"likely_family_right"` // flagged with the right likely_family
}

// NewEvaluator returns an Evaluator for the outcomes of a plan.
func NewEvaluator(outcomes []pipeline.PlanOutcome) *Evaluator {
	m := make(map[string]pipeline.PlanOutcome, len(outcomes))
	for _, o := range outcomes {
		m[o.SendID] = o
	}
	return &Evaluator{outcomes: m, seen: make(map[string]bool, len(outcomes)), camps: map[string]*campaignEval{}}
}

// Add evaluates a batch of predictions.
func (e *Evaluator) Add(ps []Prediction) {
	for i := range ps {
		p := &ps[i]
		e.ev.Sends++
		o, ok := e.outcomes[p.Send.SendID]
		if !ok || e.seen[p.Send.SendID] {
			e.ev.MissingOutcome++
			continue
		}
		e.seen[p.Send.SendID] = true
		e.ev.WithOutcome++
		y := 0.0
		if o.Failed {
			y = 1
			e.ev.Failures++
		}
		e.sumP += p.PFail
		e.sumSq += (p.PFail - y) * (p.PFail - y)
		ce := e.camps[p.Send.CampaignID]
		if ce == nil {
			ce = &campaignEval{CampaignEvaluation: CampaignEvaluation{CampaignID: p.Send.CampaignID}}
			e.camps[p.Send.CampaignID] = ce
		}
		ce.Sends++
		ce.ExpectedFailures += p.PFail
		for f, v := range p.PFamily {
			e.fam[f].ExpectedFailures += v
		}
		count := func(s *FlagStats, flagged bool) {
			if flagged {
				s.Flagged++
				if o.Failed {
					s.Hits++
				}
			}
		}
		count(&e.ev.High, p.Risk == RiskHigh)
		count(&e.ev.MediumOrHigh, p.Risk >= RiskMedium)
		count(&e.ev.AnyAction, p.Action != ActionSendAsPlanned)
		count(&e.ev.RuleLastFailed, p.facts.lastSendFailed)
		if o.Failed {
			f := pipeline.FamilyOf(o.ErrorCode)
			if f == pipeline.FamilyNone {
				f = pipeline.FamilyUnknown // failed without a code
			}
			fe := &e.fam[f]
			fe.Failures++
			ce.Failures++
			ce.byFamily[f]++
			if p.Risk >= RiskMedium {
				fe.FlaggedMediumOrHigh++
				if p.Family == f {
					fe.LikelyFamilyRight++
				}
			}
		}
	}
}

// Result returns the evaluation of everything added so far.
func (e *Evaluator) Result() Evaluation {
	ev := e.ev
	ev.UnscoredOutcomes = len(e.outcomes) - len(e.seen)
	if ev.WithOutcome > 0 {
		n := float64(ev.WithOutcome)
		ev.BaseRate = float64(ev.Failures) / n
		ev.MeanPFail = e.sumP / n
		ev.Brier = e.sumSq / n
	}
	for _, s := range []*FlagStats{&ev.High, &ev.MediumOrHigh, &ev.AnyAction, &ev.RuleLastFailed} {
		s.Precision = ratio(s.Hits, s.Flagged)
		s.Recall = ratio(s.Hits, ev.Failures)
	}
	ev.ByFamily = nil
	for f := pipeline.FamilyNone + 1; int(f) < pipeline.NumFamilies; f++ {
		fe := e.fam[f]
		if fe.Failures == 0 && !(fe.ExpectedFailures >= 0.5) {
			continue
		}
		fe.Family = f.String()
		fe.Recall = ratio(fe.FlaggedMediumOrHigh, fe.Failures)
		ev.ByFamily = append(ev.ByFamily, fe)
	}
	ev.ByCampaign = make([]CampaignEvaluation, 0, len(e.camps))
	for _, ce := range e.camps {
		c := ce.CampaignEvaluation
		c.FailuresByFamily = map[string]int{}
		for f, n := range ce.byFamily {
			if n > 0 {
				c.FailuresByFamily[pipeline.Family(f).String()] = n
			}
		}
		ev.ByCampaign = append(ev.ByCampaign, c)
	}
	slices.SortFunc(ev.ByCampaign, func(a, b CampaignEvaluation) int {
		if c := cmp.Compare(b.Failures, a.Failures); c != 0 {
			return c
		}
		return strings.Compare(a.CampaignID, b.CampaignID)
	})
	return ev
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// WriteJSON writes the evaluation as indented JSON.
func (ev Evaluation) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ev); err != nil {
		return fmt.Errorf("write evaluation: %w", err)
	}
	return nil
}
