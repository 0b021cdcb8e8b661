package scoring

import (
	"fmt"
	"math"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// This file holds the deterministic rules: failures the platform
// announced before the as-of time (account-level webhooks, folded into the
// features by the features layer) or states as a policy, so certain that
// the send is scored as failing whatever the model says, as with a known
// token expiry. In the order Meta checks them: the account, the template,
// the recipient.

// KnownFailurePFail is the P(fail) of a send a deterministic rule says
// will fail (not 1: the announcement may be superseded by one the history
// does not have yet).
const KnownFailurePFail = 0.99

// USMarketingCutoff is when Meta stopped delivering marketing templates to
// US phone numbers (131049), Unix µs.
var USMarketingCutoff = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

// Warning kinds of the deterministic rules.
const (
	warnAccountLocked      = "account_locked_known"
	warnAccountRestricted  = "account_restricted_known"
	warnTemplateDisabled   = "template_disabled_known"
	warnTemplatePaused     = "template_paused_known"
	warnUSMarketing        = "us_marketing"
	warnMarketingStopped   = "marketing_stopped_known"
	knownFailureKindsCount = 6
)

// knownKinds lists the deterministic rules' warning kinds in priority
// order, with their value-free summaries and codes.
var knownKinds = [knownFailureKindsCount]struct {
	kind    string
	code    int32
	summary string
}{
	{warnAccountLocked, 131031, "sends from a locked business account (account_update; 131031)"},
	{warnAccountRestricted, 368, "sends while the account's messaging is restricted (account_update; 368)"},
	{warnTemplateDisabled, 132016, "sends of a template announced disabled (132016)"},
	{warnTemplatePaused, 132015, "sends of a template during its announced pause (132015)"},
	{warnUSMarketing, 131049, "marketing templates to US numbers, not delivered since 2025-04-01 (131049)"},
	{warnMarketingStopped, 131050, "marketing to recipients who stopped marketing messages (user_preferences; 131050)"},
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
// any.
func knownFailureOf(r row) (knownFailure, bool) {
	s := r.send
	at := s.ScheduledAt
	flag := func(k int) bool { v, ok := r.get(k); return ok && v >= 0.5 }
	untilOf := func(hoursLeft float64) int64 {
		if hoursLeft <= 0 || hoursLeft >= neverHours {
			return 0
		}
		return (at + int64(math.Round(hoursLeft*3600))*1e6)
	}
	if flag(fAccountLocked) {
		return knownFailure{index: 0, text: fmt.Sprintf("the business account or number %s was announced locked (account_update): the send fails with 131031 (business account locked) until it is reinstated", s.PhoneNumberID)}, true
	}
	if flag(fAccountRestricted) {
		h, _ := r.get(fAccountRestrictionLeft)
		until := untilOf(h)
		what := "business-initiated"
		if s.MessageType != "template" {
			what = "customer-initiated"
		}
		when := untilText(until)
		return knownFailure{index: 1, until: until, text: fmt.Sprintf("%s messaging of number %s is restricted %s (account_update ACCOUNT_RESTRICTION): the send fails with 368 (temporarily blocked for policy violations)", what, s.PhoneNumberID, when)}, true
	}
	if s.Template != "" && flag(fTemplateDisabledKnown) {
		return knownFailure{index: 2, text: fmt.Sprintf("template %s was announced DISABLED (message_template_status_update): the send fails with 132016 (template permanently disabled); create a new template", quoteName(s.Template))}, true
	}
	if s.Template != "" && flag(fTemplatePausedAtSend) {
		h, _ := r.get(fTemplatePauseLeft)
		until := untilOf(h)
		return knownFailure{index: 3, until: until, text: fmt.Sprintf("template %s is paused %s (message_template_status_update PAUSED; %s left at the send): the send fails with 132015 (template paused); send after the pause or with another template", quoteName(s.Template), untilText(until), ago(h))}, true
	}
	if s.Category == pipeline.CategoryMarketing && s.Country == "US" && at >= USMarketingCutoff {
		return knownFailure{index: 4, text: "marketing template to a US phone number: Meta does not deliver marketing templates to US numbers since 2025-04-01 (131049); suppress it"}, true
	}
	if s.Category == pipeline.CategoryMarketing && flag(fRcptMarketingStopped) {
		h, _ := r.get(fRcptHoursSincePref)
		return knownFailure{index: 5, text: fmt.Sprintf("recipient stopped marketing messages from this business %s before the send (user_preferences stop, no resume since): the send fails with 131050; suppress it", ago(h))}, true
	}
	return knownFailure{}, false
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
