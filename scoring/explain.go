package scoring

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/features/mechanism"
	"github.com/failcast/failcast/pipeline"
)

// Features scoring reads, by index into featureNames. Counts named
// "decayed" are exponentially decayed counts (the features layer's time
// constant is the window); "hours since" features are measured from the
// send and are NeverHours (1e6) when the event never happened.
const (
	fRcptMarketing24h         = iota // schedule: marketing sends to the recipient in the trailing 24 h (exact)
	fRcptHoursSinceOptOut            // outcome: hours since the recipient's last 131050
	fRcptHoursSinceInvalid           // outcome: hours since the recipient's last 131026
	fRcptInvalid30d                  // outcome: 131026 failures of the recipient, decayed 30 d
	fRcptHoursSinceMktLimit          // outcome: hours since the recipient's last 131049
	fRcptHoursSinceInbound           // outcome: hours since the recipient last wrote
	fPairHoursSincePrev              // schedule: hours since the previous send from this number to the recipient
	fPhoneUnique24h                  // schedule: unique recipients of the number in the trailing 24 h
	fPhoneTierLimit                  // outcome: the number's inferred tier limit (UnlimitedTier = 1e7)
	fPhoneSends1s                    // schedule: sends of the number in the trailing second
	fCampaignSends1s                 // schedule: sends of the campaign in the trailing second
	fPhoneAuthErrors24h              // outcome: auth errors of the number, decayed 24 h
	fPhoneHoursSinceAuth             // outcome: hours since the number's last auth error
	fWABAHoursSinceToken             // outcome: hours since the account's last 190
	fPhoneTransient24h               // outcome: transient errors of the number, decayed 24 h
	fPhoneHoursSinceTransient        // outcome: hours since the number's last transient error
	fTemplateHoursSincePause         // outcome: hours since the template was last paused (132015)
	fTemplateDisabled                // outcome: 1 if the template ever failed with 132016
	fTemplateParamRate               // outcome: 132000/132012 failures / (sends + 1) of the template, decayed 24 h
	fHorizonHours                    // send: hours between the features' cutoff and the send
	fRcptLastOutcomeFamily           // outcome: family of the recipient's last outcome (0 none, -1 no outcome yet)
	fTemplatePausedAtSend            // outcome: 1 if an announced pause of the template holds at the send
	fTemplatePauseLeft               // outcome: hours from the send to the end of that pause
	fTemplateDisabledKnown           // outcome: 1 if the template was announced DISABLED
	fAccountRestricted               // outcome: 1 if an announced restriction (or a lock) covers the send
	fAccountRestrictionLeft          // outcome: hours from the send to the restriction's expiry (NeverHours: none known)
	fAccountLocked                   // outcome: 1 if the account or number was announced locked
	fRcptMarketingStopped            // outcome: 1 if the recipient's last marketing preference is stop
	fRcptHoursSincePref              // outcome: hours since the recipient's last marketing preference
	numFeatures
)

// featureNames are the names of the features scoring reads, declared by
// the features layer that registers them (docs/features.md).
var featureNames = [numFeatures]string{
	fRcptMarketing24h:         features.NameRecipientMarketing24h,
	fRcptHoursSinceOptOut:     features.NameRecipientHoursSinceCode(131050),
	fRcptHoursSinceInvalid:    features.NameRecipientHoursSinceCode(131026),
	fRcptInvalid30d:           features.NameRecipientCode30d(131026),
	fRcptHoursSinceMktLimit:   features.NameRecipientHoursSinceCode(131049),
	fRcptHoursSinceInbound:    features.NameRecipientHoursSinceInbound,
	fPairHoursSincePrev:       features.NamePairHoursSincePrevSend,
	fPhoneUnique24h:           features.NamePhoneUniqueRecipients24h,
	fPhoneTierLimit:           features.NamePhoneTierLimit,
	fPhoneSends1s:             features.NamePhoneSends1s,
	fCampaignSends1s:          features.NameCampaignSends1s,
	fPhoneAuthErrors24h:       features.NamePhoneAuthErrors24h,
	fPhoneHoursSinceAuth:      features.NamePhoneHoursSinceAuthError,
	fWABAHoursSinceToken:      features.NameWABAHoursSinceTokenExpired,
	fPhoneTransient24h:        features.NamePhoneTransientErrors24h,
	fPhoneHoursSinceTransient: features.NamePhoneHoursSinceTransientError,
	fTemplateHoursSincePause:  features.NameTemplateHoursSincePause,
	fTemplateDisabled:         features.NameTemplateDisabled,
	fTemplateParamRate:        features.NameTemplateParamErrorRate24h,
	fHorizonHours:             features.NameHorizonHours,
	fRcptLastOutcomeFamily:    features.NameRecipientLastOutcomeFamily,
	fTemplatePausedAtSend:     features.NameTemplatePausedAtSend,
	fTemplatePauseLeft:        features.NameTemplatePauseHoursLeft,
	fTemplateDisabledKnown:    features.NameTemplateDisabledAnnounced,
	fAccountRestricted:        features.NameAccountRestrictedAtSend,
	fAccountRestrictionLeft:   features.NameAccountRestrictionHoursLeft,
	fAccountLocked:            features.NameAccountLocked,
	fRcptMarketingStopped:     features.NameRecipientMarketingStopped,
	fRcptHoursSincePref:       features.NameRecipientHoursSincePref,
}

// Thresholds of the warnings.
const (
	pairRateSeconds    = 6                            // Meta: about one message per 6 s to the same recipient
	serviceWindowHours = mechanism.ServiceWindowHours // the customer service window
	pauseRecentHours   = 7 * 24                       // a pause this recent is still a risk
	authRecentHours    = 72                           // auth errors this recent suggest a token problem
	neverHours         = mechanism.NeverHours         // "hours since" at or above this means never (features use 1e6)
	mktLimitRecent     = 7 * 24                       // a 131049 this recent shows the recipient is saturated
	minParamErrorRate  = mechanism.MinParamErrorRate  // template parameter failure rate worth a warning
	minDecayedCount    = 0.5                          // a decayed count this high means at least one recent event
	unlimitedTier      = mechanism.UnlimitedTier      // the features' value of the unlimited tier
)

// row gives the rules one send and its feature values.
type row struct {
	fx         *featureIndex
	i          int
	send       *pipeline.PlannedSend
	throughput float64
	texts      *rowTexts // nil: sentences are built afresh
}

// rowTexts keeps the sentences of a Scorer's rows that repeat across
// many sends with the same values (a plan above its numbers' throughput
// has the throughput warning on most sends, with a few distinct rates),
// so that each is formatted once. Its size is bounded by maxRowTexts.
type rowTexts struct {
	throughput map[throughputKey]string
}

type throughputKey struct {
	what      string
	rate, mps float64
}

// maxRowTexts bounds the sentences a rowTexts keeps; past it they are
// built afresh.
const maxRowTexts = 4096

// throughputText is the throughput rule's sentence.
func (r row) throughputText(what string, rate float64) string {
	k := throughputKey{what, rate, r.throughput}
	if r.texts != nil {
		if s, ok := r.texts.throughput[k]; ok {
			return s
		}
	}
	s := what + " " + decimal1(rate) + " mps, above the number's throughput of " + decimal1(r.throughput) + " mps; throughput limit (130429) likely"
	if r.texts != nil {
		if r.texts.throughput == nil {
			r.texts.throughput = make(map[throughputKey]string)
		}
		if len(r.texts.throughput) < maxRowTexts {
			r.texts.throughput[k] = s
		}
	}
	return s
}

// get returns feature k of the row; ok is false when the model's feature
// set has no such feature.
func (r row) get(k int) (float64, bool) {
	if r.fx == nil {
		return 0, false
	}
	j := r.fx.cols[k]
	if j < 0 {
		return 0, false
	}
	return float64(r.fx.x[r.i*r.fx.width+j]), true
}

// cause is what a rule found: the likely code and a sentence with values.
type cause struct {
	family pipeline.Family
	code   int32
	kind   string
	text   string
}

// rule recognises one failure cause in a send's features.
type rule struct {
	kind    string // stable id, used to group warnings in campaigns.csv
	family  pipeline.Family
	code    int32
	summary string // value-free description for campaign summaries
	match   func(r row) (string, bool)
}

// rules in priority order within each family: the first that matches
// names the cause.
var rules = []rule{
	{"opted_out", pipeline.FamilyRecipient, 131050, "recipients who stopped marketing messages (131050)", func(r row) (string, bool) {
		h, ok := r.get(fRcptHoursSinceOptOut)
		if !ok || h >= neverHours || r.send.Category != pipeline.CategoryMarketing {
			return "", false
		}
		return fmt.Sprintf("recipient stopped marketing messages from this business (131050 %s before the send); opt-out (131050) likely", ago(h)), true
	}},
	{"undeliverable", pipeline.FamilyRecipient, 131026, "recipients whose number was undeliverable before (131026)", func(r row) (string, bool) {
		h, ok := r.get(fRcptHoursSinceInvalid)
		if !ok || h >= neverHours {
			return "", false
		}
		if n, ok := r.get(fRcptInvalid30d); ok && n >= 1.5 {
			return fmt.Sprintf("recipient's number was undeliverable about %s times in 30 d, last %s before the send; message undeliverable (131026) likely", count(n), ago(h)), true
		}
		return fmt.Sprintf("recipient's number was undeliverable %s before the send; message undeliverable (131026) likely", ago(h)), true
	}},
	{"window_closed", pipeline.FamilyRecipient, 131047, "free-form messages outside the 24-hour window (131047)", func(r row) (string, bool) {
		h, ok := r.get(fRcptHoursSinceInbound)
		if !ok || pipeline.IsTemplateSend(r.send.Template, r.send.MessageType) || h <= serviceWindowHours {
			return "", false
		}
		if h >= neverHours {
			return fmt.Sprintf("free-form %s message but the recipient never wrote to this business (no open 24-hour window); re-engagement error (131047) likely", r.send.MessageType), true
		}
		return fmt.Sprintf("free-form %s message but the recipient last wrote %s before the send (24-hour window closed); re-engagement error (131047) likely", r.send.MessageType, ago(h)), true
	}},
	{"marketing_limit", pipeline.FamilyRecipient, 131049, "recipients who already got marketing messages in the last 24 h (131049)", func(r row) (string, bool) {
		if r.send.Category != pipeline.CategoryMarketing {
			return "", false
		}
		if n, ok := r.get(fRcptMarketing24h); ok && n >= 1 {
			return fmt.Sprintf("recipient received %s marketing %s in 24 h; per-user marketing limit (131049) likely", count(n), plural(n, "message", "messages")), true
		}
		if h, ok := r.get(fRcptHoursSinceMktLimit); ok && h <= mktLimitRecent {
			return fmt.Sprintf("recipient hit the per-user marketing limit %s before the send; per-user marketing limit (131049) likely", ago(h)), true
		}
		return "", false
	}},
	{"pair_rate", pipeline.FamilyThrottle, 131056, "messages to the same recipient within 6 s (131056)", func(r row) (string, bool) {
		h, ok := r.get(fPairHoursSincePrev)
		if !ok || h*3600 >= pairRateSeconds {
			return "", false
		}
		return "previous message from this number to the recipient is only " + decimal1(h*3600) + " s earlier; pair rate limit (131056) likely", true
	}},
	{"throughput", pipeline.FamilyThrottle, 130429, "campaign rate above the number's throughput (130429)", func(r row) (string, bool) {
		rate, what := r.send.CampaignRateMPS, "campaign planned at"
		if n, ok := r.get(fCampaignSends1s); ok && n+1 > rate {
			rate, what = n+1, "campaign scheduled at"
		}
		if n, ok := r.get(fPhoneSends1s); ok && n+1 > rate {
			rate, what = n+1, "number's sends scheduled at"
		}
		if rate <= r.throughput {
			return "", false
		}
		// Kept (rowTexts): a plan above its numbers' throughput has this
		// warning on most of its sends.
		return r.throughputText(what, rate), true
	}},
	{"tier_limit", pipeline.FamilyQuality, 131048, "number above its messaging tier limit (131048)", func(r row) (string, bool) {
		u, ok1 := r.get(fPhoneUnique24h)
		l, ok2 := r.get(fPhoneTierLimit)
		if !ok1 || !ok2 || l <= 0 || l >= unlimitedTier || u < l {
			return "", false
		}
		return fmt.Sprintf("number reaches %s unique recipients in 24 h against its tier limit of %s; messaging limit (131048) likely", count(u), count(l)), true
	}},
	{"template_params", pipeline.FamilyPayload, 132000, "template with recent parameter errors (132000/132012)", func(r row) (string, bool) {
		v, ok := r.get(fTemplateParamRate)
		if !ok || v < minParamErrorRate {
			return "", false
		}
		return fmt.Sprintf("template %s failed with parameter errors in %s%% of its recent sends; template parameter mismatch (132000/132012) likely", quoteName(r.send.Template), count(100*v)), true
	}},
	{"media_too_large", pipeline.FamilyMedia, 131053, "media above the type's size limit (131053)", func(r row) (string, bool) {
		limit, kind, assumed, ok := pipeline.SendMediaLimit(r.send.Template, r.send.MessageType)
		if !ok || r.send.MediaBytes <= limit {
			return "", false
		}
		switch {
		case assumed:
			return fmt.Sprintf("template media header is %s MB, above the %s MB limit for %s headers (the header is taken for an image); media upload error (131053) likely", megabytes(r.send.MediaBytes), megabytes(limit), kind), true
		case pipeline.IsTemplateSend(r.send.Template, r.send.MessageType):
			return fmt.Sprintf("template media header (%s) is %s MB, above the %s MB limit for %s headers; media upload error (131053) likely", kind, megabytes(r.send.MediaBytes), megabytes(limit), kind), true
		}
		return fmt.Sprintf("%s is %s MB, above the %s MB limit for %ss; media upload error (131053) likely", r.send.MessageType, megabytes(r.send.MediaBytes), megabytes(limit), r.send.MessageType), true
	}},
	{"template_disabled", pipeline.FamilyTemplateState, 132016, "template permanently disabled (132016)", func(r row) (string, bool) {
		v, ok := r.get(fTemplateDisabled)
		if !ok || v < 0.5 {
			return "", false
		}
		return fmt.Sprintf("template %s was permanently disabled (132016 in history); template disabled (132016) likely", quoteName(r.send.Template)), true
	}},
	{"template_paused", pipeline.FamilyTemplateState, 132015, "template paused recently (132015)", func(r row) (string, bool) {
		h, ok := r.get(fTemplateHoursSincePause)
		if !ok || h > pauseRecentHours {
			return "", false
		}
		return fmt.Sprintf("template %s was paused %s before the send; template paused (132015) likely", quoteName(r.send.Template), ago(h)), true
	}},
	{"token_expired", pipeline.FamilyAuth, 190, "auth errors on the sending number or account (190: token expired)", func(r row) (string, bool) {
		if n, ok := r.get(fPhoneAuthErrors24h); ok && n >= minDecayedCount {
			return fmt.Sprintf("about %s auth %s on this number in the last day; access token expired (190) likely", count(n), plural(n, "error", "errors")), true
		}
		h, ok := r.get(fPhoneHoursSinceAuth)
		if w, okW := r.get(fWABAHoursSinceToken); okW && (!ok || w < h) {
			h, ok = w, true
		}
		if ok && h <= authRecentHours {
			return fmt.Sprintf("last auth error on this account %s before the send; access token expired (190) likely", ago(h)), true
		}
		return "", false
	}},
	{"outage", pipeline.FamilyTransient, 131000, "transient platform errors (131000/131016/5xx)", func(r row) (string, bool) {
		n, ok := r.get(fPhoneTransient24h)
		if !ok || n < minDecayedCount {
			return "", false
		}
		last := ""
		if h, ok := r.get(fPhoneHoursSinceTransient); ok && h < neverHours {
			last = ", the last " + ago(h) + " before the send"
		}
		return fmt.Sprintf("about %s transient platform %s on this number in the last day%s; service error (131000) likely, retry with backoff", count(n), plural(n, "error", "errors"), last), true
	}},
}

// rulesByFamily indexes rules by family, in priority order.
var rulesByFamily = func() [pipeline.NumFamilies][]int {
	var idx [pipeline.NumFamilies][]int
	for k, r := range rules {
		idx[r.family] = append(idx[r.family], k)
	}
	return idx
}()

// explain finds the cause of a likely failure of family f in the row.
func explain(f pipeline.Family, r row) (cause, bool) {
	for _, k := range rulesByFamily[f] {
		ru := &rules[k]
		if text, ok := ru.match(r); ok {
			return cause{family: ru.family, code: ru.code, kind: ru.kind, text: text}, true
		}
	}
	return cause{}, false
}

// explainAny finds the first cause of any family, in rule order.
func explainAny(r row) (cause, bool) {
	for k := range rules {
		ru := &rules[k]
		if text, ok := ru.match(r); ok {
			return cause{family: ru.family, code: ru.code, kind: ru.kind, text: text}, true
		}
	}
	return cause{}, false
}

// WarningSummary returns the value-free description of a warning kind,
// used to group warnings per campaign. Kinds without a rule (model-only
// warnings) are described by their family.
func WarningSummary(kind string) string {
	for k := range rules {
		if rules[k].kind == kind {
			return rules[k].summary
		}
	}
	if kind == warnTokenExpiry {
		return "sends after their WABA's access token expires (token inventory; 190)"
	}
	if i := knownIndex(kind); i >= 0 {
		return knownKinds[i].summary
	}
	if f, ok := strings.CutPrefix(kind, modelKindPrefix); ok && f != "" {
		return f + " failures expected by the model (no single cause in the features)"
	}
	return kind
}

// genericWarning is the warning of a medium or high risk send whose cause
// the features do not show.
func genericWarning(f pipeline.Family, code int32, p float64) string {
	if f == pipeline.FamilyNone || code == pipeline.NoErrorCode {
		return fmt.Sprintf("failure likely (p_fail %s) but no single cause stands out in the features", decimal4(p))
	}
	info, _ := pipeline.LookupCode(code)
	return fmt.Sprintf("%s failure likely (p_fail %s) with no single cause in the features; most often %s (%d)", f, decimal4(p), lowerFirst(info.Title), code)
}

func count(v float64) string {
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
}

func hours(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	}
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
}

// ago formats a duration in hours for a sentence: "40 min", "5.5 h", "3 d".
func ago(h float64) string {
	switch {
	case h < 1:
		return count(h*60) + " min"
	case h < 48:
		return hours(h) + " h"
	}
	return count(h/24) + " d"
}

func decimal1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func decimal4(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }

func megabytes(b int64) string {
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64)
}

func plural(n float64, one, many string) string {
	if math.Round(n) == 1 {
		return one
	}
	return many
}

func quoteName(name string) string {
	if name == "" {
		return "(none)"
	}
	return strconv.Quote(name)
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	// Keep acronyms and CamelCase names (API, AuthException) as they are.
	if len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z' {
		return s
	}
	for i := 1; i < len(s) && s[i] != ' '; i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return s
		}
	}
	return string(s[0]+'a'-'A') + s[1:]
}
