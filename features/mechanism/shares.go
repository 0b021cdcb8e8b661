package mechanism

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
// trees of a model cannot extrapolate past the largest value they saw in
// training (their last split), so they put such a send where the busiest
// training sends were.
//
// Combine therefore combines the model with the share of sends a
// mechanism fails:
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
// The shares:
//
//	throughput (130429)  1 - throughput/rate, rate the campaign's planned rate or the campaign's or number's scheduled sends in one second, when above the throughput
//	template_params      the template's recent parameter error share (132000/132012, decayed 24 h) times the probability that its error episode still holds at the send (template_param_errors_persist: the survival of the sender's own earlier episodes; senders fix broken parameters after hours or days)
//	window_closed        1 for a free-form send whose recipient's 24-hour window is closed at the send (131047)
//	tier_limit           1 for a template send to a recipient new to the number in 24 h once the number's unique recipients reach its tier limit (131048); with a TierLedger (scoring, training's validation) the unique recipients are the admitted ones: a send the limit or a rule refuses opens no conversation and uses no slot (tier.go)
//	media_too_large      1 for media above the type's size limit (131053)

// Mechanism is a failure cause whose share of failing sends follows from
// the send's schedule and features.
type Mechanism int

// The mechanisms, in the order the API applies them.
const (
	Throughput Mechanism = iota
	TemplateParams
	WindowClosed
	TierLimit
	MediaTooLarge
	NumMechanisms
)

var mechanismInfo = [NumMechanisms]struct {
	kind   string
	family pipeline.Family
}{
	Throughput:     {"throughput", pipeline.FamilyThrottle},
	TemplateParams: {"template_params", pipeline.FamilyPayload},
	WindowClosed:   {"window_closed", pipeline.FamilyRecipient},
	TierLimit:      {"tier_limit", pipeline.FamilyQuality},
	MediaTooLarge:  {"media_too_large", pipeline.FamilyMedia},
}

// Kind is the mechanism's stable name (scoring's warning kind of the rule
// that names the same cause).
func (m Mechanism) Kind() string { return mechanismInfo[m].kind }

// Family is the error family of the mechanism's failures.
func (m Mechanism) Family() pipeline.Family { return mechanismInfo[m].family }

// Shares are the shares of a send's mechanisms, by Mechanism; 0 where one
// does not apply.
type Shares [NumMechanisms]float64

// Shares returns the mechanisms' shares of the send, with the sending
// number's throughput in messages per second (DefaultThroughputMPS when
// not positive).
func (c *Columns) Shares(s *Send, x []float32, throughputMPS float64) Shares {
	r := row{c: c, x: x}
	if !(throughputMPS > 0) {
		throughputMPS = DefaultThroughputMPS
	}
	var sh Shares
	if rate := ScheduledRate(c, s, x); rate > throughputMPS {
		sh[Throughput] = 1 - throughputMPS/rate
	}
	template := s.IsTemplateSend()
	if v, ok := r.get(inTemplateParamRate); ok && v >= MinParamErrorRate && template {
		// The rate holds while the template stays broken: the sender
		// fixes it some time later (features: the survival of the
		// sender's own parameter error episodes). A row without the
		// feature keeps the rate.
		persist := 1.0
		if q, ok := r.get(inTemplateParamPersist); ok {
			persist = math.Max(0, math.Min(q, 1))
		}
		sh[TemplateParams] = math.Min(v, 1) * persist
	}
	if h, ok := r.get(inRcptHoursSinceInbound); ok && !template && h > ServiceWindowHours {
		sh[WindowClosed] = 1
	}
	if template {
		u, ok1 := r.get(inPhoneUnique24h)
		l, ok2 := r.get(inPhoneTierLimit)
		// A recipient the number already messaged in the last 24 h is
		// counted already: the limit does not refuse it.
		h, ok3 := r.get(inPairHoursSincePrev)
		if ok1 && ok2 && l > 0 && l < UnlimitedTier && u >= l && !(ok3 && h < TierWindowHours) {
			sh[TierLimit] = 1
		}
	}
	if s.MediaTooLarge {
		sh[MediaTooLarge] = 1
	}
	return sh
}

// ScheduledRate is the rate, messages per second, the throughput
// mechanism compares with the number's throughput: the campaign's planned
// rate, or the campaign's or the number's scheduled sends in the trailing
// second (this send included) when higher.
func ScheduledRate(c *Columns, s *Send, x []float32) float64 {
	r := row{c: c, x: x}
	rate := s.RateMPS
	if n, ok := r.get(inCampaignSends1s); ok && n+1 > rate {
		rate = n + 1
	}
	if n, ok := r.get(inPhoneSends1s); ok && n+1 > rate {
		rate = n + 1
	}
	return rate
}

// Any reports whether a mechanism applies.
func (sh *Shares) Any() bool {
	for _, s := range sh {
		if s > 0 {
			return true
		}
	}
	return false
}

// through returns the share of sends no mechanism fails, the mass of each
// family the mechanisms fail, and which families they cover.
func (sh *Shares) through() (through float64, mass [pipeline.NumFamilies]float64, fired [pipeline.NumFamilies]bool) {
	through = 1
	for k, s := range sh {
		if !(s > 0) {
			continue
		}
		s = math.Min(s, 1)
		f := Mechanism(k).Family()
		mass[f] += through * s
		through *= 1 - s
		fired[f] = true
	}
	return through, mass, fired
}

// Combine combines a model's P(fail) and its family split (P(fail with
// family f), summing to pFail; all zero without a family head) with the
// shares, as the package documentation says, in place. It reports whether
// the shares changed them.
func Combine(pFail *float64, pFamily *[pipeline.NumFamilies]float64, sh *Shares) bool {
	through, mass, fired := sh.through()
	if through == 1 {
		return false
	}
	// The model's probability of the families no mechanism covers. Without
	// a family split (all zero) the whole P(fail) counts as other causes.
	other, split := 0.0, 0.0
	for f := range pFamily {
		split += pFamily[f]
		if !fired[f] {
			other += pFamily[f]
		}
	}
	if split == 0 {
		other = *pFail
	} else if split > 0 {
		// The split sums to P(fail) up to rounding; keep the same share.
		other = *pFail * other / split
	}
	combined := 1 - through*(1-other)
	if combined <= *pFail {
		return false
	}
	scale := 0.0
	if split > 0 {
		scale = through * *pFail / split
	}
	for f := range pFamily {
		if fired[f] {
			pFamily[f] = mass[f]
		} else {
			pFamily[f] *= scale
		}
	}
	pFamily[pipeline.FamilyNone] = 0
	*pFail = combined
	return true
}

// Outer returns the affine map Combine applies to a calibrated P(fail) q
// of a send with these shares, whose model splits its failures over the
// families in the proportions split (P(family | fail), any scale; nil or
// all zero: no family head): the combined P(fail) is max(q, c + d*q).
// Training fits its calibration through this map, so that the combined
// probability, not the model's alone, is calibrated.
func (sh *Shares) Outer(split []float64) (c, d float64) {
	through, _, fired := sh.through()
	if through == 1 {
		return 0, 1
	}
	other, total := 0.0, 0.0
	for f, v := range split {
		if f == int(pipeline.FamilyNone) || f >= pipeline.NumFamilies {
			continue
		}
		total += v
		if !fired[f] {
			other += v
		}
	}
	r := 1.0
	if total > 0 {
		r = other / total
	}
	return 1 - through, through * r
}
