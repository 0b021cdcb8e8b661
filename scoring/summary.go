package scoring

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/failcast/failcast/scoring/predictions"
)

// WriteSummary writes the short human summary of a run to w: where the
// files are, the top risks and the counts by action, the top campaigns
// and warnings (top of each; 0 leaves them out) and, with outcomes, the
// precision and recall of the risk flags.
func (r *Result) WriteSummary(w io.Writer, top int) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("scored %d planned sends in %d campaigns with model %s (features as of %s) in %.1fs\n",
		r.Sends, len(r.Campaigns), r.Model, r.AsOf.Format("2006-01-02T15:04:05Z"), r.Elapsed.Seconds())
	p("  predictions: %s\n", filepath.Join(r.Out, PredictionsFile))
	p("  campaigns:   %s\n", filepath.Join(r.Out, CampaignsFile))
	if r.Rejected > 0 {
		p("  rejected:    %d plan rows, see %s\n", r.Rejected, filepath.Join(r.Out, RejectedFile))
	}
	if r.Evaluation != nil {
		p("  evaluation:  %s\n", filepath.Join(r.Out, EvaluationFile))
	}
	t := r.Totals
	p("\nrisk: %d high, %d medium, %d low; expected failures %.1f (%.2f%% of sends)\n",
		t.ByRisk[RiskHigh], t.ByRisk[RiskMedium], t.ByRisk[RiskLow],
		r.ExpectedFailures, 100*r.ExpectedFailures/float64(max(r.Sends, 1)))
	if r.RecipientsChecked > 0 && float64(r.RecipientsFound) < MinKnownRecipientShare*float64(r.RecipientsChecked) {
		p("recipients: only %d of %d sends go to recipients the history knows (below %.0f%%): check that plan and history use the same hash key, unless the plan goes to new recipients\n",
			r.RecipientsFound, r.RecipientsChecked, 100*MinKnownRecipientShare)
	}
	if r.Stale > 0 {
		p("stale features: %d sends are further ahead than the model was trained for (stale_features=true)\n", r.Stale)
	}
	var acts []string
	for _, a := range predictions.Actions {
		if n := t.ByAction[a]; n > 0 {
			acts = append(acts, fmt.Sprintf("%s %d", a, n))
		}
	}
	p("actions: %s\n", strings.Join(acts, ", "))
	r.writeDriftSummary(w)

	if top > 0 && len(r.Campaigns) > 0 {
		p("\ntop campaigns by expected failures:\n")
		for _, c := range r.Campaigns[:min(top, len(r.Campaigns))] {
			p("  %-24s %8.1f of %d sends, %d high risk", c.ID, c.ExpectedFailures, c.Sends, c.ByRisk[RiskHigh])
			if c.RecommendedMPS > 0 {
				p(", throttle to %.1f mps", c.RecommendedMPS)
			}
			p("\n")
			for _, f := range c.Findings {
				p("      - %s\n", f)
			}
		}
	}
	if top > 0 && len(t.TopWarnings) > 0 {
		p("\ntop warnings:\n")
		for _, wc := range t.TopWarnings[:min(top, len(t.TopWarnings))] {
			p("  %7d  %s\n", wc.Sends, wc.Summary)
		}
	}
	if ev := r.Evaluation; ev != nil {
		p("\nagainst the outcomes (%d sends, %d failed, %d without an outcome):\n", ev.WithOutcome, ev.Failures, ev.MissingOutcome)
		p("  high risk:       flagged %d, precision %.3f, recall %.3f\n", ev.High.Flagged, ev.High.Precision, ev.High.Recall)
		p("  medium or high:  flagged %d, precision %.3f, recall %.3f\n", ev.MediumOrHigh.Flagged, ev.MediumOrHigh.Precision, ev.MediumOrHigh.Recall)
		p("  any action:      flagged %d, precision %.3f, recall %.3f\n", ev.AnyAction.Flagged, ev.AnyAction.Precision, ev.AnyAction.Recall)
		p("  rule baseline:   flagged %d, precision %.3f, recall %.3f (recipient's last send failed)\n", ev.RuleLastFailed.Flagged, ev.RuleLastFailed.Precision, ev.RuleLastFailed.Recall)
		p("  %d of %d failures were flagged medium or high risk in advance; mean p_fail %.4f vs failure rate %.4f\n",
			ev.MediumOrHigh.Hits, ev.Failures, ev.MeanPFail, ev.BaseRate)
		if ev.Failures > 0 {
			p("  expected failures %.0f vs %d actual (%+.1f%%)", ev.MeanPFail*float64(ev.WithOutcome), ev.Failures, 100*(ev.MeanPFail*float64(ev.WithOutcome)/float64(ev.Failures)-1))
			sep := "; by family:"
			for _, f := range ev.ByFamily {
				if f.Failures >= minFamilyCalibration || f.ExpectedFailures >= minFamilyCalibration {
					p("%s %s %.0f vs %d", sep, f.Family, f.ExpectedFailures, f.Failures)
					sep = ","
				}
			}
			p("\n")
		}
	}
}

// minFamilyCalibration is the fewest actual or expected failures of a
// family whose expected-against-actual figure the summary prints.
const minFamilyCalibration = 100
