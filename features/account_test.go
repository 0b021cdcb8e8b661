package features

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

// acctEvent returns an account event of kind st at ts, for the entities
// of like (a send of the history).
func acctEvent(like pipeline.Event, st pipeline.Status, ts int64, value string, number, until int64) pipeline.Event {
	e := pipeline.Event{
		EventID: fmt.Sprintf("acct-%s-%d-%s", st, ts, value), Timestamp: ts, WABAID: like.WABAID, Status: st,
		AccountValue: value, AccountNumber: number, AccountUntil: until, ErrorCode: pipeline.NoErrorCode,
		MediaBytes: pipeline.NoMediaBytes,
	}
	switch st {
	case pipeline.StatusTemplateStatus, pipeline.StatusTemplateQuality, pipeline.StatusTemplateCategory:
		e.Template, e.Language = like.Template, like.Language
		if st == pipeline.StatusTemplateCategory {
			e.Category = value
			e.AccountValue = pipeline.CategoryUtility
		}
	case pipeline.StatusPhoneQuality, pipeline.StatusAccountUpdate:
		e.PhoneNumberID = like.PhoneNumberID
	case pipeline.StatusUserPreference:
		e.Recipient, e.PhoneNumberID = like.Recipient, like.PhoneNumberID
	}
	return e
}

// withAccountEvents adds account events of every kind, for the entities
// of random sends, at random times within the history (about one per 30
// sends), the way Meta's webhooks interleave with statuses.
func withAccountEvents(events []pipeline.Event, rng *rand.Rand) []pipeline.Event {
	isSend := sendEvents(events)
	var sends []pipeline.Event
	for i, e := range events {
		if isSend[i] {
			sends = append(sends, e)
		}
	}
	out := append([]pipeline.Event(nil), events...)
	for range len(sends) / 30 {
		s := sends[rng.IntN(len(sends))]
		ts := s.Timestamp + rng.Int64N(12*usPerHour) - 6*usPerHour
		var e pipeline.Event
		switch rng.IntN(8) {
		case 0:
			e = acctEvent(s, pipeline.StatusTemplateStatus, ts, "PAUSED", 1+rng.Int64N(2), 0)
		case 1:
			e = acctEvent(s, pipeline.StatusTemplateStatus, ts, []string{"APPROVED", "DISABLED", "FLAGGED", "REINSTATED"}[rng.IntN(4)], pipeline.NoAccountNumber, ts+7*usPerDay)
		case 2:
			e = acctEvent(s, pipeline.StatusTemplateQuality, ts, []string{"GREEN", "YELLOW", "RED"}[rng.IntN(3)], pipeline.NoAccountNumber, 0)
		case 3:
			e = acctEvent(s, pipeline.StatusTemplateCategory, ts, pipeline.CategoryMarketing, pipeline.NoAccountNumber, 0)
		case 4:
			e = acctEvent(s, pipeline.StatusPhoneQuality, ts, "UPGRADE", []int64{250, 2000, 10000, pipeline.NoLimit}[rng.IntN(4)], 0)
		case 5:
			e = acctEvent(s, pipeline.StatusAccountUpdate, ts, "ACCOUNT_RESTRICTION:RESTRICTED_BIZ_INITIATED_MESSAGING", pipeline.NoAccountNumber, ts+rng.Int64N(3*usPerDay))
		case 6:
			e = acctEvent(s, pipeline.StatusBusinessCapability, ts, "", []int64{1000, 10000}[rng.IntN(2)], 0)
		default:
			e = acctEvent(s, pipeline.StatusUserPreference, ts, []string{"stop", "resume"}[rng.IntN(2)], pipeline.NoAccountNumber, 0)
		}
		out = append(out, e)
	}
	sortEvents(out)
	return out
}

// accountAimedAt returns account events aimed at the target's entities
// at ts: a pause of its template, a restriction and a limit of its
// number, a stop of its recipient.
func accountAimedAt(target pipeline.Event, ts int64) []pipeline.Event {
	return []pipeline.Event{
		acctEvent(target, pipeline.StatusTemplateStatus, ts, "PAUSED", 2, 0),
		acctEvent(target, pipeline.StatusTemplateQuality, ts, "RED", pipeline.NoAccountNumber, 0),
		acctEvent(target, pipeline.StatusAccountUpdate, ts, "ACCOUNT_RESTRICTION:RESTRICTED_BIZ_INITIATED_MESSAGING", pipeline.NoAccountNumber, ts+5*usPerDay),
		acctEvent(target, pipeline.StatusPhoneQuality, ts, "UPGRADE", 100000, 0),
		acctEvent(target, pipeline.StatusUserPreference, ts, "stop", pipeline.NoAccountNumber, 0),
	}
}

// scoreOne folds history before asOf and scores one planned send.
func scoreOne(t *testing.T, history []pipeline.Event, asOf int64, p pipeline.PlannedSend) map[string]float32 {
	t.Helper()
	sc, err := NewScorer(context.Background(), &memSource{events: history}, DefaultConfig(), asOf)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := sc.Next([]pipeline.PlannedSend{p})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float32{}
	for j, n := range tab.Names {
		out[n] = tab.Row(0)[j]
	}
	return out
}

// TestAccountFeatures: what account events before the as-of time say
// about a planned send, kind by kind.
func TestAccountFeatures(t *testing.T) {
	const h = usPerHour
	asOf := day0 + 10*usPerDay
	like := pipeline.Event{WABAID: "waba0", PhoneNumberID: "ph0", Recipient: "h:00000000000000aa", Template: "promo", Language: "pt_BR"}
	send := pipeline.PlannedSend{
		SendID: "s1", CampaignID: "c1", WABAID: "waba0", PhoneNumberID: "ph0", Recipient: like.Recipient, Country: "BR",
		Template: "promo", Language: "pt_BR", Category: pipeline.CategoryMarketing, MessageType: "template",
		MediaBytes: pipeline.NoMediaBytes,
	}
	ev := func(st pipeline.Status, at int64, value string, number, until int64) pipeline.Event {
		return acctEvent(like, st, at, value, number, until)
	}
	tests := []struct {
		name   string
		events []pipeline.Event
		sendAt int64
		want   map[string]float32
	}{
		{"first pause holds 3 h", []pipeline.Event{ev(pipeline.StatusTemplateStatus, asOf-h, "PAUSED", 1, 0)}, asOf + h,
			map[string]float32{NameTemplatePausedAtSend: 1, NameTemplatePauseHoursLeft: 1, NameTemplatePausesAnnounced: 1}},
		{"first pause over after 3 h", []pipeline.Event{ev(pipeline.StatusTemplateStatus, asOf-h, "PAUSED", 1, 0)}, asOf + 2*h,
			map[string]float32{NameTemplatePausedAtSend: 0, NameTemplatePauseHoursLeft: 0, NameTemplatePausesAnnounced: 1}},
		{"second pause holds 6 h", []pipeline.Event{ev(pipeline.StatusTemplateStatus, asOf-h, "PAUSED", 2, 0)}, asOf + 4*h,
			map[string]float32{NameTemplatePausedAtSend: 1, NameTemplatePauseHoursLeft: 1, NameTemplatePausesAnnounced: 2}},
		{"approved ends a pause", []pipeline.Event{ev(pipeline.StatusTemplateStatus, asOf-2*h, "PAUSED", 2, 0), ev(pipeline.StatusTemplateStatus, asOf-h, "APPROVED", pipeline.NoAccountNumber, 0)}, asOf + h,
			map[string]float32{NameTemplatePausedAtSend: 0, NameTemplatePausesAnnounced: 2, NameTemplateHoursSinceChange: 2}},
		{"pause number missing counts pauses", []pipeline.Event{ev(pipeline.StatusTemplateStatus, asOf-20*h, "PAUSED", pipeline.NoAccountNumber, 0), ev(pipeline.StatusTemplateStatus, asOf-10*h, "APPROVED", pipeline.NoAccountNumber, 0), ev(pipeline.StatusTemplateStatus, asOf-h, "PAUSED", 0, 0)}, asOf + 4*h,
			map[string]float32{NameTemplatePausedAtSend: 1, NameTemplatePausesAnnounced: 2}},
		{"disabled", []pipeline.Event{ev(pipeline.StatusTemplateStatus, asOf-h, "DISABLED", pipeline.NoAccountNumber, 0)}, asOf + 30*h,
			map[string]float32{NameTemplateDisabledAnnounced: 1, NameTemplatePausedAtSend: 0}},
		{"flagged then reinstated", []pipeline.Event{ev(pipeline.StatusTemplateStatus, asOf-3*h, "FLAGGED", pipeline.NoAccountNumber, asOf+h), ev(pipeline.StatusTemplateStatus, asOf-h, "REINSTATED", pipeline.NoAccountNumber, 0)}, asOf,
			map[string]float32{NameTemplateFlagged: 0, NameTemplateDisabledAnnounced: 0}},
		{"quality red", []pipeline.Event{ev(pipeline.StatusTemplateQuality, asOf-3*h, "YELLOW", pipeline.NoAccountNumber, 0), ev(pipeline.StatusTemplateQuality, asOf-h, "RED", pipeline.NoAccountNumber, 0)}, asOf,
			map[string]float32{NameTemplateQualityScore: 2, NameTemplateHoursSinceChange: 1}},
		{"quality unknown without events", nil, asOf, map[string]float32{NameTemplateQualityScore: -1, NameTemplateHoursSinceChange: NeverHours}},
		{"moved to marketing", []pipeline.Event{ev(pipeline.StatusTemplateCategory, asOf-h, pipeline.CategoryMarketing, pipeline.NoAccountNumber, 0)}, asOf,
			map[string]float32{NameTemplateMovedToMarketing: 1}},
		{"announced limit replaces the tier", []pipeline.Event{ev(pipeline.StatusPhoneQuality, asOf-h, "UPGRADE", 10000, 0)}, asOf,
			map[string]float32{NamePhoneLimitKnown: 1, NamePhoneTierLimit: 10000}},
		{"portfolio limit", []pipeline.Event{ev(pipeline.StatusBusinessCapability, asOf-h, "", 2000, 0)}, asOf,
			map[string]float32{NamePhoneLimitKnown: 1, NamePhoneTierLimit: 2000}},
		{"unlimited", []pipeline.Event{ev(pipeline.StatusPhoneQuality, asOf-h, "UPGRADE", pipeline.NoLimit, 0)}, asOf,
			map[string]float32{NamePhoneLimitKnown: 1, NamePhoneTierLimit: UnlimitedTier}},
		{"no limit announced: inferred", nil, asOf, map[string]float32{NamePhoneLimitKnown: 0, NamePhoneTierLimit: 250}},
		{"restriction until its expiry", []pipeline.Event{ev(pipeline.StatusAccountUpdate, asOf-h, "ACCOUNT_RESTRICTION:RESTRICTED_BIZ_INITIATED_MESSAGING", pipeline.NoAccountNumber, asOf+10*h)}, asOf + 4*h,
			map[string]float32{NameAccountRestrictedAtSend: 1, NameAccountRestrictionHoursLeft: 6}},
		{"restriction expired", []pipeline.Event{ev(pipeline.StatusAccountUpdate, asOf-h, "ACCOUNT_RESTRICTION:RESTRICTED_BIZ_INITIATED_MESSAGING", pipeline.NoAccountNumber, asOf+10*h)}, asOf + 11*h,
			map[string]float32{NameAccountRestrictedAtSend: 0, NameAccountRestrictionHoursLeft: 0}},
		{"customer-initiated restriction spares templates", []pipeline.Event{ev(pipeline.StatusAccountUpdate, asOf-h, "ACCOUNT_RESTRICTION:RESTRICTED_CUSTOMER_INITIATED_MESSAGING", pipeline.NoAccountNumber, asOf+10*h)}, asOf,
			map[string]float32{NameAccountRestrictedAtSend: 0}},
		{"violation alone restricts nothing", []pipeline.Event{ev(pipeline.StatusAccountUpdate, asOf-h, "ACCOUNT_VIOLATION", pipeline.NoAccountNumber, 0)}, asOf,
			map[string]float32{NameAccountRestrictedAtSend: 0, NameAccountLocked: 0}},
		{"locked", []pipeline.Event{ev(pipeline.StatusAccountUpdate, asOf-h, "DISABLED_UPDATE", pipeline.NoAccountNumber, 0)}, asOf,
			map[string]float32{NameAccountRestrictedAtSend: 1, NameAccountLocked: 1, NameAccountRestrictionHoursLeft: NeverHours}},
		{"stopped", []pipeline.Event{ev(pipeline.StatusUserPreference, asOf-2*h, "stop", pipeline.NoAccountNumber, 0)}, asOf,
			map[string]float32{NameRecipientMarketingStopped: 1, NameRecipientMarketingResumed: 0, NameRecipientHoursSincePref: 2}},
		{"resumed", []pipeline.Event{ev(pipeline.StatusUserPreference, asOf-2*h, "stop", pipeline.NoAccountNumber, 0), ev(pipeline.StatusUserPreference, asOf-h, "resume", pipeline.NoAccountNumber, 0)}, asOf,
			map[string]float32{NameRecipientMarketingStopped: 0, NameRecipientMarketingResumed: 1}},
		// A history written before the account columns existed: the
		// events come without values and announce nothing.
		{"values missing", []pipeline.Event{{Timestamp: asOf - h, Status: pipeline.StatusTemplateStatus, Template: "promo", Language: "pt_BR", WABAID: "waba0"}, {Timestamp: asOf - h, Status: pipeline.StatusUserPreference, Recipient: like.Recipient}}, asOf,
			map[string]float32{NameTemplatePausedAtSend: 0, NameRecipientMarketingStopped: 0, NameTemplateHoursSinceChange: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := send
			p.ScheduledAt = tc.sendAt
			sortEvents(tc.events)
			got := scoreOne(t, tc.events, asOf, p)
			for name, want := range tc.want {
				if Index(name) < 0 {
					t.Fatalf("feature %s is not registered", name)
				}
				if d := got[name] - want; d > 1e-3 || d < -1e-3 {
					t.Errorf("%s = %v, want %v", name, got[name], want)
				}
			}
		})
	}
}

// TestAccountEventsAfterAsOfUnseen: account events at or after the as-of
// time (the cutoff) do not reach the features of a planned send.
func TestAccountEventsAfterAsOfUnseen(t *testing.T) {
	asOf := day0 + 10*usPerDay
	like := pipeline.Event{WABAID: "waba0", PhoneNumberID: "ph0", Recipient: "h:00000000000000aa", Template: "promo", Language: "pt_BR"}
	send := pipeline.PlannedSend{SendID: "s1", WABAID: "waba0", PhoneNumberID: "ph0", Recipient: like.Recipient,
		Template: "promo", Language: "pt_BR", Category: pipeline.CategoryMarketing, MessageType: "template",
		MediaBytes: pipeline.NoMediaBytes, ScheduledAt: asOf + usPerHour}
	base := scoreOne(t, nil, asOf, send)
	// The scorer folds only events before as-of; the training path's
	// cutoff is the same rule, which TestLeakage checks with these events.
	before := scoreOne(t, accountAimedAt(like, asOf-1), asOf, send)
	changed := 0
	for n, v := range before {
		if base[n] != v {
			changed++
		}
	}
	if changed < 5 {
		t.Fatalf("account events just before as-of changed %d features, want the account features to change", changed)
	}
}
