package mechanism

import (
	"math"

	"github.com/failcast/failcast/pipeline"
)

// Rule is a deterministic rule: a failure the platform announced before
// the features' cutoff (account-level webhooks, folded into the features)
// or states as a policy, so certain that the send is scored as failing
// whatever a model says. The rules are in the order Meta checks them: the
// account, the template, the recipient.
type Rule int8

// The rules, in priority order. NoRule is none.
const (
	NoRule                Rule = -1
	RuleAccountLocked     Rule = iota - 1 // the business account or number was announced locked (131031)
	RuleAccountRestricted                 // an announced restriction covers the send (368)
	RuleTemplateDisabled                  // the template was announced DISABLED (132016)
	RuleTemplatePaused                    // an announced pause of the template holds at the send (132015)
	RuleUSMarketing                       // a marketing template to a US number after USMarketingCutoff (131049)
	RuleMarketingStopped                  // a marketing send to a recipient who stopped marketing (131050)
	NumRules              = int(iota - 1)
)

// RuleCodes are the error codes the rules' sends fail with, by Rule.
var RuleCodes = [NumRules]int32{131031, 368, 132016, 132015, 131049, 131050}

// KnownFailurePFail is the P(fail) of a send a deterministic rule says
// will fail (not 1: the announcement may be superseded by one the history
// does not have yet).
const KnownFailurePFail = 0.99

// Decision is what the deterministic rules say of one send.
type Decision struct {
	Rule Rule // NoRule: none fails the send
	// Until is when the rule stops holding, Unix µs; 0 when it does not
	// end or not knowably (RuleAccountRestricted, RuleTemplatePaused).
	Until int64
	// Hours is the rule's time figure: the hours left of a pause or
	// restriction at the send, or the hours since the recipient's
	// marketing stop; NaN when the features do not say.
	Hours float64
}

// Decide returns the first rule that fails the send.
func (c *Columns) Decide(s *Send, x []float32) Decision {
	r := row{c: c, x: x}
	untilOf := func(hoursLeft float64) int64 {
		if hoursLeft <= 0 || hoursLeft >= NeverHours {
			return 0
		}
		return s.At + int64(math.Round(hoursLeft*3600))*1e6
	}
	hours := func(k input) float64 {
		if v, ok := r.get(k); ok {
			return v
		}
		return math.NaN()
	}
	switch {
	case r.flag(inAccountLocked):
		return Decision{Rule: RuleAccountLocked, Hours: math.NaN()}
	case r.flag(inAccountRestricted):
		h := hours(inAccountRestrictionLeft)
		return Decision{Rule: RuleAccountRestricted, Until: untilOf(h), Hours: h}
	case s.Template && r.flag(inTemplateDisabledKnown):
		return Decision{Rule: RuleTemplateDisabled, Hours: math.NaN()}
	case s.Template && r.flag(inTemplatePausedAtSend):
		h := hours(inTemplatePauseLeft)
		return Decision{Rule: RuleTemplatePaused, Until: untilOf(h), Hours: h}
	case s.Category == pipeline.CategoryMarketing && s.Country == "US" && s.At >= USMarketingCutoff:
		return Decision{Rule: RuleUSMarketing, Hours: math.NaN()}
	case s.Category == pipeline.CategoryMarketing && r.flag(inRcptMarketingStopped):
		return Decision{Rule: RuleMarketingStopped, Hours: hours(inRcptHoursSincePref)}
	}
	return Decision{Rule: NoRule, Hours: math.NaN()}
}
