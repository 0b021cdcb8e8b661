package features

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/failcast/failcast/pipeline"
)

// Names of the features other packages read by name: scoring's warnings
// and campaign findings explain a send with them. The registrations below
// use these constants, so a feature keeps one name for the model and for
// every reader; TestNamedFeaturesRegistered checks each is registered.
const (
	NameSendTypeIndex                 = "send_type_index"
	NameSendCategoryIndex             = "send_category_index"
	NameSendHasTemplate               = "send_has_template"
	NameSendMediaOverLimit            = "send_media_over_limit"
	NameHorizonHours                  = "horizon_hours"
	NameRecipientMarketing24h         = "recipient_marketing_24h"
	NamePairHoursSincePrevSend        = "pair_hours_since_prev_send"
	NamePhoneSends1s                  = "phone_sends_1s"
	NamePhoneUniqueRecipients24h      = "phone_unique_recipients_24h"
	NameCampaignSends1s               = "campaign_sends_1s"
	NameRecipientHoursSinceInbound    = "recipient_hours_since_inbound"
	NameRecipientLastOutcomeFamily    = "recipient_last_outcome_family"
	NamePhoneTierLimit                = "phone_tier_limit"
	NamePhoneTransientErrors24h       = "phone_transient_errors_24h"
	NamePhoneAuthErrors24h            = "phone_auth_errors_24h"
	NamePhoneHoursSinceTransientError = "phone_hours_since_transient_error"
	NamePhoneHoursSinceAuthError      = "phone_hours_since_auth_error"
	NameTemplateHoursSincePause       = "template_hours_since_pause"
	NameTemplateDisabled              = "template_disabled"
	NameTemplateParamErrorRate24h     = "template_param_error_rate_24h"
	NameTemplateParamErrorsPersist    = "template_param_errors_persist"
	NameWABAHoursSinceTokenExpired    = "waba_hours_since_token_expired"

	// From account-level events (Meta's webhooks besides statuses).
	NameTemplatePausedAtSend        = "template_paused_at_send"
	NameTemplatePauseHoursLeft      = "template_pause_hours_left"
	NameTemplateDisabledAnnounced   = "template_disabled_announced"
	NameTemplateFlagged             = "template_flagged"
	NameTemplatePausesAnnounced     = "template_pauses_announced"
	NameTemplateQualityScore        = "template_quality_score"
	NameTemplateHoursSinceChange    = "template_hours_since_status_change"
	NameTemplateMovedToMarketing    = "template_moved_to_marketing"
	NamePhoneLimitKnown             = "phone_limit_known"
	NameAccountRestrictedAtSend     = "account_restricted_at_send"
	NameAccountRestrictionHoursLeft = "account_restriction_hours_left"
	NameAccountLocked               = "account_locked"
	NameRecipientMarketingStopped   = "recipient_marketing_stopped"
	NameRecipientMarketingResumed   = "recipient_marketing_resumed"
	NameRecipientHoursSincePref     = "recipient_hours_since_preference"
)

// NameRecipientCode30d is the name of the decayed (30 d) count of the
// recipient's failures with code. Only KeyCodes have the feature: for any
// other code it panics, so that a reader asking for a feature that does
// not exist fails when it starts instead of never seeing the feature.
func NameRecipientCode30d(code int32) string {
	mustBeKeyCode(code)
	return fmt.Sprintf("recipient_code_%d_30d", code)
}

// NameRecipientHoursSinceCode is the name of the hours since the
// recipient's last failure with code. Only KeyCodes have the feature: for
// any other code it panics, like NameRecipientCode30d.
func NameRecipientHoursSinceCode(code int32) string {
	mustBeKeyCode(code)
	return fmt.Sprintf("recipient_hours_since_code_%d", code)
}

func mustBeKeyCode(code int32) {
	if !slices.Contains(KeyCodes, code) {
		panic(fmt.Sprintf("features: no per-recipient feature of code %d (KeyCodes are %v)", code, KeyCodes))
	}
}

// view is what a block sees of the send being featurized.
type view struct {
	t      int64   // send time, µs
	cutoff int64   // outcome events before cutoff count
	r      *record // the send
	// Schedule facts that outcome ratios need (unique recipients against
	// the inferred tier). They are computed from the schedule state.
	uniq24   int32
	campUniq int32
}

// Category and message-type indexes follow pipeline.Categories and
// pipeline.MessageTypes; -1 is unknown.
const (
	catMarketing = 0
)

func indexOf(list []string, s string) int8 {
	for i, x := range list {
		if x == s {
			return int8(i)
		}
	}
	return -1
}

// mediaLimits holds pipeline.MediaLimit by message-type index (0: no
// media).
var mediaLimits = func() []int64 {
	out := make([]int64, len(pipeline.MessageTypes))
	for i, t := range pipeline.MessageTypes {
		out[i], _ = pipeline.MediaLimit(t)
	}
	return out
}()

// hourAndWeekday returns the UTC hour of day and day of week (0 =
// Sunday) of t (Unix µs), as time.Time's Hour and Weekday would.
func hourAndWeekday(t int64) (hour, weekday int64) {
	sec := t / usPerSec
	if t%usPerSec < 0 {
		sec--
	}
	day := sec / 86400
	if sec%86400 < 0 {
		day--
	}
	hour = (sec - day*86400) / 3600
	weekday = (day + 4) % 7 // 1970-01-01 was a Thursday
	if weekday < 0 {
		weekday += 7
	}
	return hour, weekday
}

func hoursSinceSec(t int64, last uint32) float32 {
	if last == 0 {
		return NeverHours
	}
	return float32(float64(t-int64(last)*usPerSec) / float64(usPerHour))
}

func hoursSinceUS(t int64, last int64) float32 {
	if last == 0 {
		return NeverHours
	}
	return float32(float64(t-last) / float64(usPerHour))
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// rate is a smoothed failure rate, failed / (sends + 1), of decayed counts.
func rate(failed, sends, f float32) float32 {
	r := failed * f / (sends*f + 1)
	if r > 1 {
		return 1
	}
	return r
}

func registerBlocks() []block {
	var bs []block

	// ---- Send features ----
	typ := newSpecs(Send, "send")
	typ.add(NameSendTypeIndex, "", "index", "message type as its index in pipeline.MessageTypes ("+strings.Join(pipeline.MessageTypes, ", ")+"), -1 if unknown")
	typ.add(NameSendCategoryIndex, "", "index", "category as its index in pipeline.Categories ("+strings.Join(pipeline.Categories, ", ")+"), -1 if unknown")
	typ.add("send_is_marketing", "", "flag", "1 if the category is marketing (per-user marketing limits apply)")
	typ.add(NameSendHasTemplate, "", "flag", "1 if the send names a template")
	typ.add("send_media_mb", "", "MB", "media size in MiB, 0 when there is no media or its size is unknown")
	typ.add(NameSendMediaOverLimit, "", "ratio", "media bytes / the Cloud API size limit of the message type (pipeline.MediaLimit; a template's media header counts as an image); above 1 the upload fails (131053); 0 without media")
	typ.add("send_hour_utc", "", "hours", "hour of day of the send, UTC (0-23)")
	typ.add("send_day_of_week", "", "index", "day of week of the send, UTC (0 = Sunday)")
	typ.add(NameHorizonHours, "", "hours", "t - cutoff: how old the newest outcome the send may see is; training spans [lead, lead+refresh)")
	bs = append(bs, block{kind: Send, specs: typ.specs, send: func(v *view, out []float32) {
		r := v.r
		out[0] = float32(r.mtype)
		out[1] = float32(r.category)
		out[2] = b2f(r.category == catMarketing)
		out[3] = b2f(r.hasTpl)
		out[4], out[5] = 0, 0
		if r.media > 0 {
			out[4] = float32(float64(r.media) / (1 << 20))
			if r.mtype >= 0 {
				if lim := mediaLimits[r.mtype]; lim > 0 {
					out[5] = float32(float64(r.media) / float64(lim))
				}
			}
		}
		hour, weekday := hourAndWeekday(v.t)
		out[6] = float32(hour)
		out[7] = float32(weekday)
		out[8] = float32(float64(v.t-v.cutoff) / float64(usPerHour))
	}})

	// ---- Schedule features ----
	rs := newSpecs(Schedule, "recipient")
	rs.add("recipient_unseen", "", "flag", "1 if no earlier send to the recipient is known (cold start)")
	rs.add("recipient_sends_24h", "24h", "sends", "sends to the recipient in the trailing 24 h (exact, capped at 16)")
	rs.add("recipient_sends_7d", "7d", "sends", "sends to the recipient in the trailing 7 d (exact, capped at 16)")
	rs.add(NameRecipientMarketing24h, "24h", "sends", "marketing sends to the recipient in the trailing 24 h (exact, capped at 8); several make the per-user marketing limit (131049) likely")
	rs.add("recipient_marketing_7d", "7d", "sends", "marketing sends to the recipient in the trailing 7 d (exact, capped at 8)")
	rs.add("recipient_hours_since_prev_send", "", "hours", "hours since the previous send to the recipient from any number; NeverHours if none")
	rs.add(NamePairHoursSincePrevSend, "24h", "hours", "hours since the previous send from this phone number to this recipient within 24 h (pair rate limit 131056 is about 1 per 6 s); NeverHours if none")
	bs = append(bs, block{kind: Schedule, specs: rs.specs, schedule: func(v *view, s *scheduleState, out []float32) {
		r := s.recip.at(v.r.ids.recip)
		tsec := uint32(v.t / usPerSec)
		last := r.lastSend()
		out[0] = b2f(last == 0)
		out[1] = float32(countSince(r.sends[:], tsec-86400))
		out[2] = float32(countSince(r.sends[:], tsec-7*86400))
		out[3] = float32(countSince(r.mkt[:], tsec-86400))
		out[4] = float32(countSince(r.mkt[:], tsec-7*86400))
		out[5] = hoursSinceSec(v.t, last)
		out[6] = NeverHours
		if p, ok := s.pairLast(v.r.ids.phone, v.r.ids.recip); ok && p > v.t-usPerDay {
			out[6] = hoursSinceUS(v.t, p)
		}
	}})

	ps := newSpecs(Schedule, "phone")
	ps.add("phone_unseen", "", "flag", "1 if no earlier send from the phone number is known")
	ps.add(NamePhoneSends1s, "1s", "sends", "sends from the phone number in the trailing 1 s")
	ps.add("phone_sends_10s", "10s", "sends", "sends from the phone number in the trailing 10 s")
	ps.add("phone_sends_60s", "60s", "sends", "sends from the phone number in the trailing 60 s")
	ps.add("phone_peak_rate_over_throughput", "60s", "ratio", "max over 1 s, 10 s and 60 s of the send rate / 80 mps throughput; above 1 makes 130429 likely")
	ps.add("phone_sends_24h", "24h", "sends", "sends from the phone number in the trailing 24 h (exact)")
	ps.add(NamePhoneUniqueRecipients24h, "24h", "recipients", "unique recipients of the phone number in the trailing 24 h (exact), the quantity the messaging tier limits")
	bs = append(bs, block{kind: Schedule, specs: ps.specs, schedule: func(v *view, s *scheduleState, out []float32) {
		id := v.r.ids.phone
		q := &s.phoneRate[id]
		q.expire(v.t - 60*usPerSec)
		n1 := q.countAfter(v.t - usPerSec)
		n10 := q.countAfter(v.t - 10*usPerSec)
		n60 := q.countAfter(v.t - 60*usPerSec)
		out[0] = b2f(!s.phone[id].seen)
		out[1], out[2], out[3] = float32(n1), float32(n10), float32(n60)
		out[4] = float32(max(float64(n1)/ThroughputMPS, float64(n10)/(10*ThroughputMPS), float64(n60)/(60*ThroughputMPS)))
		out[5] = float32(s.phoneDay[id].sends)
		out[6] = float32(s.phoneDay[id].uniq)
	}})

	cs := newSpecs(Schedule, "campaign")
	cs.add("campaign_unseen", "", "flag", "1 if no earlier send of the campaign is known")
	cs.add(NameCampaignSends1s, "1s", "sends", "sends of the campaign in the trailing 1 s")
	cs.add("campaign_sends_10s", "10s", "sends", "sends of the campaign in the trailing 10 s")
	cs.add("campaign_rate_10s_over_throughput", "10s", "ratio", "the campaign's send rate over the trailing 10 s / 80 mps throughput")
	cs.add("campaign_sends_so_far", "", "sends", "sends of the campaign before this one")
	cs.add("campaign_unique_recipients_so_far", "", "recipients", "recipients reached by the campaign so far (a recipient counts again when another campaign messaged them in between)")
	cs.add("campaign_hours_since_first_send", "", "hours", "hours since the campaign's first send; 0 for its first send")
	bs = append(bs, block{kind: Schedule, specs: cs.specs, schedule: func(v *view, s *scheduleState, out []float32) {
		id := v.r.ids.camp
		q := &s.campRate[id]
		q.expire(v.t - 10*usPerSec)
		n1 := q.countAfter(v.t - usPerSec)
		n10 := q.countAfter(v.t - 10*usPerSec)
		g := &s.camp[id]
		out[0] = b2f(!g.seen)
		out[1], out[2] = float32(n1), float32(n10)
		out[3] = float32(float64(n10) / (10 * ThroughputMPS))
		out[4] = float32(g.sends)
		out[5] = float32(g.uniq)
		out[6] = 0
		if g.seen {
			out[6] = hoursSinceUS(v.t, g.first)
		}
	}})

	ts := newSpecs(Schedule, "template")
	ts.add("template_unseen", "", "flag", "1 if no earlier send of the template (name + language) is known; non-template sends share one entity")
	ts.add("template_age_hours", "", "hours", "hours since the template's first send (0 when unseen)")
	ts.addFor("waba", "waba_unseen", "", "flag", "1 if no earlier send of the business account (WABA) is known")
	ts.addFor("country", "country_unseen", "", "flag", "1 if no earlier send to the recipient's country is known")
	bs = append(bs, block{kind: Schedule, specs: ts.specs, schedule: func(v *view, s *scheduleState, out []float32) {
		g := &s.tpl[v.r.ids.tpl]
		out[0] = b2f(!g.seen)
		out[1] = 0
		if g.seen {
			out[1] = hoursSinceUS(v.t, g.first)
		}
		out[2] = b2f(!s.waba[v.r.ids.waba].seen)
		out[3] = b2f(!s.country[v.r.ids.country].seen)
	}})

	// ---- Outcome features ----
	ro := newSpecs(Outcome, "recipient")
	for _, w := range []string{"24h", "7d", "30d"} {
		ro.add("recipient_delivered_"+w, w, "count", "deliveries to the recipient, decayed count (time constant "+w+")")
	}
	for _, w := range []string{"24h", "7d", "30d"} {
		ro.add("recipient_read_"+w, w, "count", "reads by the recipient, decayed count (time constant "+w+")")
	}
	for _, w := range []string{"24h", "7d", "30d"} {
		ro.add("recipient_failed_"+w, w, "count", "failed sends to the recipient, decayed count (time constant "+w+")")
	}
	for _, fam := range recipFamilies {
		ro.add("recipient_failed_"+fam.String()+"_30d", "30d", "count", "failures to the recipient of error family "+fam.String()+", decayed count (time constant 30 d)")
	}
	for _, c := range KeyCodes {
		info, _ := pipeline.LookupCode(c)
		ro.add(NameRecipientCode30d(c), "30d", "count", fmt.Sprintf("failures to the recipient with code %d (%s), decayed count (time constant 30 d)", c, info.Title))
	}
	for _, c := range KeyCodes {
		ro.add(NameRecipientHoursSinceCode(c), "", "hours", fmt.Sprintf("hours since the recipient's last %d failure; NeverHours if none", c))
	}
	ro.add("recipient_hours_since_failure", "", "hours", "hours since the recipient's last failure; NeverHours if none")
	ro.add("recipient_hours_since_delivery", "", "hours", "hours since the last delivery to the recipient; NeverHours if none")
	ro.add("recipient_hours_since_read", "", "hours", "hours since the recipient last read a message; NeverHours if none")
	ro.add(NameRecipientHoursSinceInbound, "", "hours", "hours since the recipient's last inbound message; NeverHours if none")
	ro.add("recipient_service_window_open", "24h", "flag", "1 if the recipient's last known inbound message is less than 24 h before the send (free-form messages allowed; else 131047)")
	ro.add("recipient_consecutive_failures", "", "count", "failures to the recipient since its last delivery or read")
	ro.add(NameRecipientLastOutcomeFamily, "", "index", "family index (pipeline.Family) of the recipient's last outcome: 0 delivered or read, -1 no outcome yet")
	bs = append(bs, block{kind: Outcome, specs: ro.specs, outcome: func(v *view, o *outcomeState, out []float32) {
		r := o.recip.at(v.r.ids.recip)
		var f [3]float32
		if r.last != 0 {
			f = recipFactors(float64(v.cutoff/usPerSec - int64(r.last)))
		}
		k := 0
		for _, c := range [][3]float32{r.delivered, r.read, r.failed} {
			for i := range 3 {
				out[k] = c[i] * f[i]
				k++
			}
		}
		for i := range recipFamilies {
			out[k] = r.family[i] * f[2]
			k++
		}
		for i := range KeyCodes {
			out[k] = r.code[i] * f[2]
			k++
		}
		for i := range KeyCodes {
			out[k] = hoursSinceSec(v.t, r.codeLast[i])
			k++
		}
		out[k] = hoursSinceSec(v.t, r.lastFailed)
		out[k+1] = hoursSinceSec(v.t, r.lastDelivered)
		out[k+2] = hoursSinceSec(v.t, r.lastRead)
		out[k+3] = hoursSinceSec(v.t, r.lastInbound)
		out[k+4] = b2f(r.lastInbound != 0 && v.t-int64(r.lastInbound)*usPerSec < usPerDay)
		out[k+5] = float32(r.consecFailed)
		out[k+6] = float32(r.lastFamily)
	}})

	po := newSpecs(Outcome, "phone")
	po.add(NamePhoneTierLimit, "", "recipients", "messaging limit of the number: the one Meta announced for the number or its business portfolio (phone_number_quality_update, business_capability_update; the latest), else the inferred tier: the most unique recipients in 24 h the number reached without a 131048 in the 24 h before or the 10 min after, rounded up to 250/2k/10k/100k; unlimited is 1e7")
	po.add("phone_unique_24h_over_tier", "24h", "ratio", "phone_unique_recipients_24h / phone_tier_limit; near 1 the tier limit is close")
	for _, w := range []string{"1h", "24h", "7d"} {
		po.add("phone_fail_rate_"+w, w, "ratio", "failed / (sends + 1) of the phone number, decayed counts (time constant "+w+")")
	}
	po.add("phone_ratelimit_errors_24h", "24h", "count", "rate-limit failures (130429, 131056, 131048) of the phone number, decayed count (time constant 24 h)")
	po.add(NamePhoneTransientErrors24h, "24h", "count", "transient failures (131000, 131016, 5xx, ...) of the phone number, decayed count (time constant 24 h)")
	po.add(NamePhoneAuthErrors24h, "24h", "count", "auth failures (190, 0, 10, ...) of the phone number, decayed count (time constant 24 h)")
	po.add("phone_hours_since_ratelimit_error", "", "hours", "hours since the phone number's last rate-limit failure; NeverHours if none")
	po.add(NamePhoneHoursSinceTransientError, "", "hours", "hours since the phone number's last transient failure; NeverHours if none")
	po.add(NamePhoneHoursSinceAuthError, "", "hours", "hours since the phone number's last auth failure; NeverHours if none")
	bs = append(bs, block{kind: Outcome, specs: po.specs, outcome: func(v *view, o *outcomeState, out []float32) {
		g := &o.phone[v.r.ids.phone]
		f := groupFactors(g, v.cutoff)
		tier := o.tierLimit(&v.r.ids, v.cutoff)
		out[0] = tier
		out[1] = float32(v.uniq24) / tier
		for i := range 3 {
			out[2+i] = rate(g.failed[i], g.sends[i], f[i])
		}
		out[5] = g.group[grpRateLimit] * f[1]
		out[6] = g.group[grpTransient] * f[1]
		out[7] = g.group[grpAuth] * f[1]
		out[8] = hoursSinceUS(v.t, g.groupLast[grpRateLimit])
		out[9] = hoursSinceUS(v.t, g.groupLast[grpTransient])
		out[10] = hoursSinceUS(v.t, g.groupLast[grpAuth])
	}})

	tplFamilies := []pipeline.Family{pipeline.FamilyPayload, pipeline.FamilyTemplateState, pipeline.FamilyMedia, pipeline.FamilyRecipient, pipeline.FamilyThrottle}
	to := newSpecs(Outcome, "template")
	to.add("template_fail_rate_24h", "24h", "ratio", "failed / (sends + 1) of the template (name + language), decayed counts (time constant 24 h)")
	to.add("template_fail_rate_7d", "7d", "ratio", "failed / (sends + 1) of the template, decayed counts (time constant 7 d)")
	for _, fam := range tplFamilies {
		to.add("template_fail_rate_"+fam.String()+"_7d", "7d", "ratio", "failures of family "+fam.String()+" / (sends + 1) of the template, decayed counts (time constant 7 d)")
	}
	to.add("template_pauses_24h", "24h", "count", "132015 (template paused) failures of the template, decayed count (time constant 24 h)")
	to.add(NameTemplateHoursSincePause, "", "hours", "hours since the template's last 132015 (paused); NeverHours if none")
	to.add(NameTemplateDisabled, "", "flag", "1 if the template ever failed with 132016 (permanently disabled)")
	to.add(NameTemplateParamErrorRate24h, "24h", "ratio", "parameter failures (132000, 132012) / (sends + 1) of the template, decayed counts (time constant 24 h)")
	to.add(NameTemplateParamErrorsPersist, "", "ratio", "probability that the template's parameter error episode ongoing at the cutoff still holds at the send, from how long the sender's earlier episodes lasted (their survival, shrunk to a prior of mean 24 h); 0 when none is ongoing")
	bs = append(bs, block{kind: Outcome, specs: to.specs, outcome: func(v *view, o *outcomeState, out []float32) {
		g := &o.tpl[v.r.ids.tpl]
		f := groupFactors(g, v.cutoff)
		out[0] = rate(g.failed[1], g.sends[1], f[1])
		out[1] = rate(g.failed[2], g.sends[2], f[2])
		for i, fam := range tplFamilies {
			out[2+i] = rate(g.family[fam], g.sends[2], f[2])
		}
		k := 2 + len(tplFamilies)
		out[k] = g.group[grpPause] * f[1]
		out[k+1] = hoursSinceUS(v.t, g.groupLast[grpPause])
		out[k+2] = b2f(g.groupLast[grpDisabled] != 0)
		out[k+3] = rate(g.group[grpParam], g.sends[1], f[1])
		out[k+4] = o.param.persist(v.r.ids.tpl, v.t)
	}})

	ta := newSpecs(Outcome, "template")
	ta.add(NameTemplatePausedAtSend, "", "flag", "1 if a pause of the template announced before the cutoff (message_template_status_update PAUSED, not ended by APPROVED or REINSTATED) still holds at the send: Meta's pause windows are 3 h for the first pause and 6 h for the second (132015)")
	ta.add(NameTemplatePauseHoursLeft, "", "hours", "hours from the send to the end of that pause; 0 when the template is not paused at the send")
	ta.add(NameTemplateDisabledAnnounced, "", "flag", "1 if the template was announced DISABLED before the cutoff and not reinstated since (132016)")
	ta.add(NameTemplateFlagged, "", "flag", "1 if the template was announced FLAGGED (to be disabled unless its quality improves) and neither approved nor disabled since")
	ta.add(NameTemplatePausesAnnounced, "", "count", "pauses of the template announced before the cutoff (the third disables it)")
	ta.add(NameTemplateQualityScore, "", "index", "the template's last announced quality (message_template_quality_update): 0 green, 1 yellow, 2 red, -1 unknown")
	ta.add(NameTemplateHoursSinceChange, "", "hours", "hours since the template's last announced status or quality change; NeverHours if none")
	ta.add(NameTemplateMovedToMarketing, "", "flag", "1 if template_category_update moved the template to marketing (per-user marketing limits apply to it since)")
	ta.addFor("phone", NamePhoneLimitKnown, "", "flag", "1 if Meta announced the messaging limit of the number or its business portfolio (phone_tier_limit is then that limit, not the inferred tier)")
	ta.addFor("phone", NameAccountRestrictedAtSend, "", "flag", "1 if a restriction announced before the cutoff (account_update ACCOUNT_RESTRICTION) on the number or its business account covers the send: business-initiated messaging for template sends, customer-initiated for the others; or the account is locked")
	ta.addFor("phone", NameAccountRestrictionHoursLeft, "", "hours", "hours from the send to the expiry of that restriction; NeverHours when no expiry is known; 0 when none covers the send")
	ta.addFor("phone", NameAccountLocked, "", "flag", "1 if the business account or number was announced locked (account_update DISABLED_UPDATE) and not reinstated (131031)")
	ta.addFor("recipient", NameRecipientMarketingStopped, "", "flag", "1 if the recipient's last marketing preference before the cutoff (user_preferences) is stop (marketing sends fail with 131050)")
	ta.addFor("recipient", NameRecipientMarketingResumed, "", "flag", "1 if the recipient's last marketing preference before the cutoff is resume (after a stop)")
	ta.addFor("recipient", NameRecipientHoursSincePref, "", "hours", "hours since the recipient's last marketing preference (stop or resume); NeverHours if none")
	bs = append(bs, block{kind: Outcome, specs: ta.specs, outcome: func(v *view, o *outcomeState, out []float32) {
		ids := &v.r.ids
		a := &o.acct.tpl[ids.tpl]
		if !v.r.hasTpl {
			a = &tplAccount{}
		}
		out[0], out[1] = 0, 0
		if end := a.pauseEnd(); end > v.t && a.disabledAt == 0 {
			out[0], out[1] = 1, float32(float64(end-v.t)/float64(usPerHour))
		}
		out[2] = b2f(a.disabledAt != 0)
		out[3] = b2f(a.flaggedAt != 0)
		out[4] = float32(a.pauses)
		out[5] = float32(a.quality) - 1
		out[6] = hoursSinceUS(v.t, a.changedAt)
		out[7] = b2f(a.toMarketing)
		out[8] = b2f(o.acct.knownLimit(ids) > 0)
		until, locked := o.acct.restriction(ids, v.t, v.r.hasTpl)
		out[9], out[10] = b2f(until > 0 || locked), 0
		switch {
		case until == math.MaxInt64 || (locked && until == 0):
			out[10] = NeverHours
		case until > 0:
			out[10] = float32(float64(until-v.t) / float64(usPerHour))
		}
		out[11] = b2f(locked)
		p, ok := o.acct.pref[ids.recip]
		out[12] = b2f(ok && p.value == prefStop)
		out[13] = b2f(ok && p.value == prefResume)
		out[14] = NeverHours
		if ok {
			out[14] = hoursSinceSec(v.t, p.at)
		}
	}})

	co := newSpecs(Outcome, "campaign")
	co.add("campaign_fail_rate_1h", "1h", "ratio", "failed / (sends + 1) of the campaign, decayed counts (time constant 1 h)")
	co.add("campaign_fail_rate_24h", "24h", "ratio", "failed / (sends + 1) of the campaign, decayed counts (time constant 24 h)")
	co.add("campaign_unique_over_tier", "", "ratio", "campaign_unique_recipients_so_far / phone_tier_limit of the sending number (announced, else inferred)")
	bs = append(bs, block{kind: Outcome, specs: co.specs, outcome: func(v *view, o *outcomeState, out []float32) {
		g := &o.camp[v.r.ids.camp]
		f := groupFactors(g, v.cutoff)
		out[0] = rate(g.failed[0], g.sends[0], f[0])
		out[1] = rate(g.failed[1], g.sends[1], f[1])
		out[2] = float32(v.campUniq) / o.tierLimit(&v.r.ids, v.cutoff)
	}})

	wo := newSpecs(Outcome, "waba")
	wo.add("waba_fail_rate_24h", "24h", "ratio", "failed / (sends + 1) of the business account, decayed counts (time constant 24 h)")
	wo.add("waba_fail_rate_7d", "7d", "ratio", "failed / (sends + 1) of the business account, decayed counts (time constant 7 d)")
	wo.add("waba_auth_errors_24h", "24h", "count", "auth failures of the business account, decayed count (time constant 24 h)")
	wo.add(NameWABAHoursSinceTokenExpired, "", "hours", "hours since the account's last 190 (access token expired); NeverHours if none")
	wo.addFor("country", "country_fail_rate_24h", "24h", "ratio", "failed / (sends + 1) to the recipient's country, decayed counts (time constant 24 h)")
	wo.addFor("country", "country_fail_rate_7d", "7d", "ratio", "failed / (sends + 1) to the recipient's country, decayed counts (time constant 7 d)")
	wo.addFor("country", "country_failed_recipient_rate_7d", "7d", "ratio", "recipient-family failures / (sends + 1) to the recipient's country, decayed counts (time constant 7 d)")
	bs = append(bs, block{kind: Outcome, specs: wo.specs, outcome: func(v *view, o *outcomeState, out []float32) {
		g := &o.waba[v.r.ids.waba]
		f := groupFactors(g, v.cutoff)
		out[0] = rate(g.failed[1], g.sends[1], f[1])
		out[1] = rate(g.failed[2], g.sends[2], f[2])
		out[2] = g.group[grpAuth] * f[1]
		out[3] = hoursSinceUS(v.t, g.groupLast[grpToken])
		c := &o.country[v.r.ids.country]
		cf := groupFactors(c, v.cutoff)
		out[4] = rate(c.failed[1], c.sends[1], cf[1])
		out[5] = rate(c.failed[2], c.sends[2], cf[2])
		out[6] = rate(c.family[pipeline.FamilyRecipient], c.sends[2], cf[2])
	}})

	return fixOffsets(bs)
}

// groupFactors returns the decay factors that bring g's counters to cutoff.
func groupFactors(g *groupOutcome, cutoff int64) [3]float32 {
	if g.last == 0 {
		return [3]float32{}
	}
	if g.fCutoff != cutoff || g.fLast != g.last {
		g.f = groupFactorsOf(float64(cutoff-g.last) / 1e6)
		g.fCutoff, g.fLast = cutoff, g.last
	}
	return g.f
}
