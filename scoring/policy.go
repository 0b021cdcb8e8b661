package scoring

import (
	"fmt"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/predictions"
)

// Risk is the band a send's failure probability falls in. Its words are
// defined by the predictions contract.
type Risk = predictions.Risk

// Risk bands, in increasing order.
const (
	RiskLow    = predictions.RiskLow
	RiskMedium = predictions.RiskMedium
	RiskHigh   = predictions.RiskHigh
)

// Thresholds are the model's stored decision thresholds on P(fail): a send
// with p >= High is high risk, one with Medium <= p < High medium risk.
type Thresholds struct {
	High, Medium float64
}

// Validate checks that both thresholds are positive numbers. +Inf is
// allowed: it is how a model stores a threshold that no score reached on
// validation, and its band stays empty. A Medium above High leaves the
// medium band empty.
func (t Thresholds) Validate() error {
	if !(t.Medium > 0) || !(t.High > 0) {
		return fmt.Errorf("scoring: thresholds want positive values, got medium %g, high %g", t.Medium, t.High)
	}
	return nil
}

// RiskOf returns the band of probability p.
func (t Thresholds) RiskOf(p float64) Risk {
	switch {
	case p >= t.High:
		return RiskHigh
	case p >= t.Medium:
		return RiskMedium
	}
	return RiskLow
}

// Action is what the sender should do with a planned send. Its words
// (written to predictions.csv, matched on by other systems) are defined by
// the predictions contract; Actions lists them in a fixed order.
type Action = predictions.Action

// The actions, as written to predictions.csv.
const (
	ActionSuppress      = predictions.ActionSuppress
	ActionDefer24h      = predictions.ActionDefer24h
	ActionThrottle      = predictions.ActionThrottle
	ActionFixTemplate   = predictions.ActionFixTemplate
	ActionRenewToken    = predictions.ActionRenewToken
	ActionSendAsPlanned = predictions.ActionSendAsPlanned
	ActionExploration   = predictions.ActionExploration
)

// explorable reports whether exploration may override the action: only
// sends the policy would hold back (suppress, defer) are explored, because
// their outcome would otherwise never be observed again.
func explorable(a Action) bool { return a == ActionSuppress || a == ActionDefer24h }

// ActionFor returns the action for a send of the given risk whose most
// likely failure is family fam with error code code (pipeline.NoErrorCode
// when no code is known). Low-risk sends are sent as planned. For medium
// and high risk the action follows the cause:
//
//	recipient, retry never/no (131050, 131026, 130403) -> suppress
//	recipient, retry later (131049)                    -> defer 24h
//	re-engagement window closed (131047)               -> fix template
//	throttle, retry backoff (130429, 131056, 4, 80007) -> throttle
//	throttle, retry later (131064)                     -> defer 24h
//	quality (131048: spam / tier limit)                -> defer 24h
//	payload (132000, 132012, ...) and media            -> fix template
//	payload: recipient cannot be sender (131021)       -> suppress
//	template_state (132015, 132016, flows)             -> fix template
//	auth (190, 0, 10, ...)                             -> renew token
//	integrity and account                              -> suppress
//	transient and unknown                              -> send as planned
//
// The table is documented in docs/predictions.md.
func ActionFor(risk Risk, fam pipeline.Family, code int32) Action {
	if risk < RiskMedium {
		return ActionSendAsPlanned
	}
	retry := pipeline.RetryNo
	if code != pipeline.NoErrorCode {
		info, ok := pipeline.LookupCode(code)
		if ok && info.Family == fam {
			retry = info.Retry
		} else if ok {
			// The code belongs to another family than the model's
			// verdict: trust the code, it names a concrete cause.
			fam, retry = info.Family, info.Retry
		}
	}
	switch fam {
	case pipeline.FamilyRecipient:
		switch {
		case code == 131047:
			return ActionFixTemplate
		case code == 131021:
			return ActionSuppress
		case retry == pipeline.RetryLater:
			return ActionDefer24h
		}
		return ActionSuppress
	case pipeline.FamilyThrottle:
		if retry == pipeline.RetryLater {
			return ActionDefer24h
		}
		return ActionThrottle
	case pipeline.FamilyQuality:
		// The messaging limit counts unique recipients per rolling 24 h:
		// a slower send rate does not help, a later day does.
		return ActionDefer24h
	case pipeline.FamilyPayload:
		if code == 131021 {
			return ActionSuppress
		}
		return ActionFixTemplate
	case pipeline.FamilyMedia, pipeline.FamilyTemplateState:
		return ActionFixTemplate
	case pipeline.FamilyAuth:
		return ActionRenewToken
	case pipeline.FamilyIntegrity, pipeline.FamilyAccount:
		return ActionSuppress
	}
	return ActionSendAsPlanned
}

// DefaultCodes is the error code assumed for each family when neither the
// model's likely codes nor the send's features name one: the family's most
// common code in Meta's taxonomy.
var DefaultCodes = map[pipeline.Family]int32{
	pipeline.FamilyAuth:          190,
	pipeline.FamilyIntegrity:     368,
	pipeline.FamilyThrottle:      130429,
	pipeline.FamilyQuality:       131048,
	pipeline.FamilyRecipient:     131049, // defer rather than suppress when the cause is not visible
	pipeline.FamilyPayload:       132000,
	pipeline.FamilyMedia:         131053,
	pipeline.FamilyTemplateState: 132015,
	pipeline.FamilyTransient:     131000,
	pipeline.FamilyAccount:       131042,
}
