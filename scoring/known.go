package scoring

import (
	"fmt"
	"math"

	"github.com/failcast/failcast/features/mechanism"
	"github.com/failcast/failcast/pipeline"
)

// This file holds the deterministic rules: failures the platform
// announced before the as-of time (account-level webhooks, folded into the
// features by the features layer) or states as a policy, so certain that
// the send is scored as failing whatever the model says, as with a known
// token expiry. In the order Meta checks them: the account, the template,
// the recipient.

// KnownFailurePFail is the P(fail) of a send a deterministic rule says
// will fail (mechanism.KnownFailurePFail).
const KnownFailurePFail = mechanism.KnownFailurePFail

// Warning kinds of the deterministic rules.
const (
	warnAccountLocked      = "account_locked_known"
	warnAccountRestricted  = "account_restricted_known"
	warnTemplateDisabled   = "template_disabled_known"
	warnTemplatePaused     = "template_paused_known"
	warnUSMarketing        = "us_marketing"
	warnMarketingStopped   = "marketing_stopped_known"
	knownFailureKindsCount = mechanism.NumRules
)

// knownKinds lists the deterministic rules' warning kinds in priority
// order (indexed by mechanism.Rule), with their value-free summaries and
// codes.
var knownKinds = [knownFailureKindsCount]struct {
	kind    string
	code    int32
	summary string
}{
	{warnAccountLocked, mechanism.RuleCodes[mechanism.RuleAccountLocked], "sends from a locked business account (account_update; 131031)"},
	{warnAccountRestricted, mechanism.RuleCodes[mechanism.RuleAccountRestricted], "sends while the account's messaging is restricted (account_update; 368)"},
	{warnTemplateDisabled, mechanism.RuleCodes[mechanism.RuleTemplateDisabled], "sends of a template announced disabled (132016)"},
	{warnTemplatePaused, mechanism.RuleCodes[mechanism.RuleTemplatePaused], "sends of a template during its announced pause (132015)"},
	{warnUSMarketing, mechanism.RuleCodes[mechanism.RuleUSMarketing], "marketing templates to US numbers, not delivered since 2025-04-01 (131049)"},
	{warnMarketingStopped, mechanism.RuleCodes[mechanism.RuleMarketingStopped], "marketing to recipients who stopped marketing messages (user_preferences; 131050)"},
}

func knownIndex(kind string) int {
	for i := range knownKinds {
		if knownKinds[i].kind == kind {
			return i
		}
	}
	return -1
}

// knownFailure is what a deterministic rule found: its kind (index into
// knownKinds), until when it holds (Unix µs; 0 when it does not end, or
// not knowably) and the warning sentence.
type knownFailure struct {
	index int
	until int64
	text  string
}

// knownFailureOf returns the deterministic rule that fails the send, if
// any (mechanism.Columns.Decide), with its warning.
func knownFailureOf(r row, in *mechInputs) (knownFailure, bool) {
	d := in.cols.Decide(&in.send, in.x)
	if d.Rule == mechanism.NoRule {
		return knownFailure{}, false
	}
	s := r.send
	k := knownFailure{index: int(d.Rule), until: d.Until}
	switch d.Rule {
	case mechanism.RuleAccountLocked:
		k.text = fmt.Sprintf("the business account or number %s was announced locked (account_update): the send fails with 131031 (business account locked) until it is reinstated", s.PhoneNumberID)
	case mechanism.RuleAccountRestricted:
		what := "business-initiated"
		if s.MessageType != "template" {
			what = "customer-initiated"
		}
		k.text = fmt.Sprintf("%s messaging of number %s is restricted %s (account_update ACCOUNT_RESTRICTION): the send fails with 368 (temporarily blocked for policy violations)", what, s.PhoneNumberID, untilText(d.Until))
	case mechanism.RuleTemplateDisabled:
		k.text = fmt.Sprintf("template %s was announced DISABLED (message_template_status_update): the send fails with 132016 (template permanently disabled); create a new template", quoteName(s.Template))
	case mechanism.RuleTemplatePaused:
		k.text = fmt.Sprintf("template %s is paused %s (message_template_status_update PAUSED; %s left at the send): the send fails with 132015 (template paused); send after the pause or with another template", quoteName(s.Template), untilText(d.Until), ago(zeroNaN(d.Hours)))
	case mechanism.RuleUSMarketing:
		k.text = "marketing template to a US phone number: Meta does not deliver marketing templates to US numbers since 2025-04-01 (131049); suppress it"
	case mechanism.RuleMarketingStopped:
		k.text = fmt.Sprintf("recipient stopped marketing messages from this business %s before the send (user_preferences stop, no resume since): the send fails with 131050; suppress it", ago(zeroNaN(d.Hours)))
	}
	return k, true
}

// zeroNaN is h, or 0 when the features did not say (NaN), as a missing
// feature read before.
func zeroNaN(h float64) float64 {
	if math.IsNaN(h) {
		return 0
	}
	return h
}

// decideKnown scores a send a deterministic rule fails: the whole failure
// mass goes to the rule's family, and the action follows the taxonomy,
// except that a US marketing send is suppressed (deferring does not help:
// the policy holds every day).
func (s *Scorer) decideKnown(p *Prediction, k knownFailure) {
	kk := knownKinds[k.index]
	info, _ := pipeline.LookupCode(kk.code)
	p.PFail = max(p.PFail, KnownFailurePFail)
	p.PFamily = [pipeline.NumFamilies]float64{}
	p.PFamily[info.Family] = p.PFail
	p.Risk, p.Family, p.Code = RiskHigh, info.Family, kk.code
	p.Warning, p.WarningKind = k.text, kk.kind
	p.Action = ActionFor(RiskHigh, info.Family, kk.code)
	if kk.kind == warnUSMarketing {
		p.Action = ActionSuppress
	}
}
