package mechanism

import (
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/pipeline"
)

// DefaultThroughputMPS is the Cloud API's default throughput of a business
// phone number, messages per second.
const DefaultThroughputMPS = 80

// Limits the rules compare features with.
const (
	// ServiceWindowHours is the customer service window: a free-form send
	// more than this long after the recipient last wrote fails (131047).
	ServiceWindowHours = 24
	// MinParamErrorRate is the template parameter error share from which
	// the template_params mechanism counts (and scoring warns).
	MinParamErrorRate = 0.02
	// UnlimitedTier is the features' value of the unlimited messaging tier.
	UnlimitedTier = 1e7
	// NeverHours: an "hours" value at or above this means never or no end
	// (the features use features.NeverHours, 1e6).
	NeverHours = 1e5
)

// USMarketingCutoff is when Meta stopped delivering marketing templates to
// US phone numbers (131049), Unix µs.
var USMarketingCutoff = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

// Send is what the rules read of a send besides its features.
type Send struct {
	At          int64  // scheduled (or, in a history, sent) time, Unix µs
	Template    bool   // the send names a template
	MessageType string // one of pipeline.MessageTypes, "" unknown
	Category    string // one of pipeline.Categories, "" unknown
	Country     string // the recipient's country, ISO 3166-1 alpha-2; "" unknown
	// RateMPS is the campaign's planned rate, messages per second (a
	// plan's campaign_rate_mps); 0 when none is planned (a history).
	RateMPS float64
	// MediaTooLarge: the send's media is above its type's size limit.
	MediaTooLarge bool
}

// FromPlanned describes a planned send.
func FromPlanned(p *pipeline.PlannedSend) Send {
	s := Send{At: p.ScheduledAt, Template: p.Template != "", MessageType: p.MessageType, Category: p.Category,
		Country: p.Country, RateMPS: p.CampaignRateMPS}
	if limit, _, _, ok := pipeline.SendMediaLimit(p.Template, p.MessageType); ok && p.MediaBytes > limit {
		s.MediaTooLarge = true
	}
	return s
}

// IsTemplateSend reports whether the send is a template message
// (pipeline.IsTemplateSend).
func (s *Send) IsTemplateSend() bool { return s.Template || s.MessageType == "template" }

// input is a feature the rules read.
type input int

const (
	inTypeIndex input = iota
	inCategoryIndex
	inHasTemplate
	inMediaOverLimit
	inRcptHoursSinceInbound
	inPairHoursSincePrev
	inPhoneUnique24h
	inPhoneTierLimit
	inPhoneSends1s
	inCampaignSends1s
	inTemplateParamRate
	inTemplateParamPersist
	inTemplatePausedAtSend
	inTemplatePauseLeft
	inTemplateDisabledKnown
	inAccountRestricted
	inAccountRestrictionLeft
	inAccountLocked
	inRcptMarketingStopped
	inRcptHoursSincePref
	numInputs
)

var inputNames = [numInputs]string{
	inTypeIndex:              features.NameSendTypeIndex,
	inCategoryIndex:          features.NameSendCategoryIndex,
	inHasTemplate:            features.NameSendHasTemplate,
	inMediaOverLimit:         features.NameSendMediaOverLimit,
	inRcptHoursSinceInbound:  features.NameRecipientHoursSinceInbound,
	inPairHoursSincePrev:     features.NamePairHoursSincePrevSend,
	inPhoneUnique24h:         features.NamePhoneUniqueRecipients24h,
	inPhoneTierLimit:         features.NamePhoneTierLimit,
	inPhoneSends1s:           features.NamePhoneSends1s,
	inCampaignSends1s:        features.NameCampaignSends1s,
	inTemplateParamRate:      features.NameTemplateParamErrorRate24h,
	inTemplateParamPersist:   features.NameTemplateParamErrorsPersist,
	inTemplatePausedAtSend:   features.NameTemplatePausedAtSend,
	inTemplatePauseLeft:      features.NameTemplatePauseHoursLeft,
	inTemplateDisabledKnown:  features.NameTemplateDisabledAnnounced,
	inAccountRestricted:      features.NameAccountRestrictedAtSend,
	inAccountRestrictionLeft: features.NameAccountRestrictionHoursLeft,
	inAccountLocked:          features.NameAccountLocked,
	inRcptMarketingStopped:   features.NameRecipientMarketingStopped,
	inRcptHoursSincePref:     features.NameRecipientHoursSincePref,
}

// Columns locates the features the rules read in a feature row. A
// feature the row lacks silences the rules built on it.
type Columns struct {
	col [numInputs]int
}

// Bind returns the Columns of rows with the given feature names.
func Bind(names []string) Columns {
	var c Columns
	pos := make(map[string]int, len(names))
	for j, n := range names {
		pos[n] = j
	}
	for k, n := range inputNames {
		c.col[k] = -1
		if j, ok := pos[n]; ok {
			c.col[k] = j
		}
	}
	return c
}

// row is one send's feature values.
type row struct {
	c *Columns
	x []float32
}

func (r row) get(k input) (float64, bool) {
	j := r.c.col[k]
	if j < 0 || j >= len(r.x) {
		return 0, false
	}
	return float64(r.x[j]), true
}

func (r row) flag(k input) bool { v, ok := r.get(k); return ok && v >= 0.5 }

// SendFromRow describes a send of a history from its feature row alone
// (the send features: message type, category, template, media over the
// limit), at time at, to a recipient in country; RateMPS is 0 (a history
// has no planned rate). It is how training sees its validation sends.
func (c *Columns) SendFromRow(x []float32, at int64, country string) Send {
	r := row{c: c, x: x}
	s := Send{At: at, Country: country, Template: r.flag(inHasTemplate)}
	if v, ok := r.get(inTypeIndex); ok && v >= 0 && int(v) < len(pipeline.MessageTypes) {
		s.MessageType = pipeline.MessageTypes[int(v)]
	}
	if v, ok := r.get(inCategoryIndex); ok && v >= 0 && int(v) < len(pipeline.Categories) {
		s.Category = pipeline.Categories[int(v)]
	}
	if v, ok := r.get(inMediaOverLimit); ok && v > 1 {
		s.MediaTooLarge = true
	}
	return s
}
