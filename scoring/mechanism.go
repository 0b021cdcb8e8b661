package scoring

import (
	"math"

	"github.com/failcast/failcast/pipeline"
)

// Known failure mechanisms.
//
// Some failures follow from the schedule and Meta's published limits, not
// from anything a model can learn: a campaign planned at 230 messages per
// second on a number with a throughput of 80 loses about 1 - 80/230 = 65%
// of its sends to 130429, however rarely the history went that fast. The
// trees of the model cannot extrapolate past the largest value they saw in
// training (their last split), so they put such a send where the busiest
// training sends were (p_fail 0.35 instead of 0.65 on the demo plan).
//
// The Scorer therefore combines the model with the share of sends a
// mechanism fails, in one place (applyMechanisms):
//
//   - The mechanisms are taken in the order the API applies them
//     (synchronous refusals first); mechanism k fails a share s_k of the
//     sends the mechanisms before it let through, so its mass is
//     s_k * prod_{j<k} (1 - s_j).
//   - A mechanism replaces the model's probability of its own family (it
//     is the better witness of that family); the model's probability of the
//     other families applies to the sends no mechanism failed, as an
//     independent cause: P = 1 - prod_k (1 - s_k) * (1 - p_other).
//   - A mechanism never lowers a probability: when the combination is below
//     the model's own P(fail) the send keeps the model's numbers.
//
// The shares, each documented in docs/predictions.md:
//
//	throughput (130429)  1 - throughput/rate, rate the campaign's planned or scheduled rate or the number's scheduled sends in one second, when above the throughput
//	template_params      the template's recent parameter error share (132000/132012, decayed 24 h): its sends keep failing at that rate until it is fixed
//	window_closed        1 for a free-form send whose recipient's 24-hour window is closed at the send (131047)
//	tier_limit           1 for a send to a recipient new to the number in 24 h once the number's unique recipients reach its inferred tier limit (131048)
//	media_too_large      1 for media above the type's size limit (131053)
//
// A send after a known token expiry (ScorerConfig.TokenExpiry) is a
// mechanism of its own, decided before these (decideTokenExpired), and so
// is a send an announced account state or Meta's US policy fails
// (knownFailureOf, decideKnown): both take the whole failure mass.

// mechanism is a failure cause whose share of failing sends follows from
// the send's schedule and features.
type mechanism struct {
	kind   string // the warning kind of the rule that names the same cause
	family pipeline.Family
	share  func(r row) float64 // 0 when the mechanism does not apply
}

// mechanisms in the order the API applies them.
var mechanisms = []mechanism{
	{"throughput", pipeline.FamilyThrottle, func(r row) float64 {
		rate := scheduledRate(r)
		if !(rate > r.throughput) || !(r.throughput > 0) {
			return 0
		}
		return 1 - r.throughput/rate
	}},
	{"template_params", pipeline.FamilyPayload, func(r row) float64 {
		v, ok := r.get(fTemplateParamRate)
		if !ok || !(v >= minParamErrorRate) || !pipeline.IsTemplateSend(r.send.Template, r.send.MessageType) {
			return 0
		}
		return math.Min(v, 1)
	}},
	{"window_closed", pipeline.FamilyRecipient, func(r row) float64 {
		h, ok := r.get(fRcptHoursSinceInbound)
		if !ok || pipeline.IsTemplateSend(r.send.Template, r.send.MessageType) || !(h > serviceWindowHours) {
			return 0
		}
		return 1
	}},
	{"tier_limit", pipeline.FamilyQuality, func(r row) float64 {
		u, ok1 := r.get(fPhoneUnique24h)
		l, ok2 := r.get(fPhoneTierLimit)
		if !ok1 || !ok2 || !(l > 0) || l >= unlimitedTier || u < l || !pipeline.IsTemplateSend(r.send.Template, r.send.MessageType) {
			return 0
		}
		// A recipient the number already messaged in the last 24 h is
		// counted already: the limit does not refuse it.
		if h, ok := r.get(fPairHoursSincePrev); ok && h < 24 {
			return 0
		}
		return 1
	}},
	{"media_too_large", pipeline.FamilyMedia, func(r row) float64 {
		limit, _, _, ok := pipeline.SendMediaLimit(r.send.Template, r.send.MessageType)
		if !ok || r.send.MediaBytes <= limit {
			return 0
		}
		return 1
	}},
}

// scheduledRate is the rate, messages per second, the throughput rule
// compares with the number's throughput: the campaign's planned rate, or
// the campaign's or the number's scheduled sends in the trailing second
// (this send included) when higher.
func scheduledRate(r row) float64 {
	rate := r.send.CampaignRateMPS
	if n, ok := r.get(fCampaignSends1s); ok && n+1 > rate {
		rate = n + 1
	}
	if n, ok := r.get(fPhoneSends1s); ok && n+1 > rate {
		rate = n + 1
	}
	return rate
}

// applyMechanisms combines p's model probabilities (P(fail) and the
// family split, calibrated) with the known mechanisms of the send, as the
// package documentation above says. It reports whether a mechanism
// changed p.
func applyMechanisms(p *Prediction, r row) bool {
	var mass [pipeline.NumFamilies]float64
	var fired [pipeline.NumFamilies]bool
	through := 1.0 // share of sends no mechanism fails
	for k := range mechanisms {
		m := &mechanisms[k]
		s := m.share(r)
		if !(s > 0) {
			continue
		}
		s = math.Min(s, 1)
		mass[m.family] += through * s
		through *= 1 - s
		fired[m.family] = true
	}
	if through == 1 {
		return false
	}
	// The model's probability of the families no mechanism covers. Without
	// a family split (all zero) the whole P(fail) counts as other causes.
	other, split := 0.0, 0.0
	for f := range p.PFamily {
		split += p.PFamily[f]
		if !fired[f] {
			other += p.PFamily[f]
		}
	}
	if split == 0 {
		other = p.PFail
	} else if split > 0 {
		// The split sums to P(fail) up to rounding; keep the same share.
		other = p.PFail * other / split
	}
	combined := 1 - through*(1-other)
	if combined <= p.PFail {
		return false
	}
	scale := 0.0
	if split > 0 {
		scale = through * p.PFail / split
	}
	for f := range p.PFamily {
		if fired[f] {
			p.PFamily[f] = mass[f]
		} else {
			p.PFamily[f] *= scale
		}
	}
	p.PFamily[pipeline.FamilyNone] = 0
	p.PFail = combined
	return true
}
