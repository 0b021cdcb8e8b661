package ingest

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/failcast/failcast/pipeline"
	"github.com/valyala/fastjson"
)

// This file turns Meta's account-level webhook fields (every changes[].field
// other than "messages") into account events of the history contract; see
// pipeline.StatusTemplateStatus and the following statuses, and the table
// in docs/export.md.

// accountFields maps the webhook fields failcast understands to their
// event kind.
var accountFields = map[string]pipeline.Status{
	"message_template_status_update":  pipeline.StatusTemplateStatus,
	"message_template_quality_update": pipeline.StatusTemplateQuality,
	"template_category_update":        pipeline.StatusTemplateCategory,
	"phone_number_quality_update":     pipeline.StatusPhoneQuality,
	"business_capability_update":      pipeline.StatusBusinessCapability,
	"account_update":                  pipeline.StatusAccountUpdate,
	"account_alerts":                  pipeline.StatusAccountAlert,
	"user_preferences":                pipeline.StatusUserPreference,
}

// accountDetail is what an account event carries besides the columns a
// message event has too. Strings are interned in Exporter.strs.
type accountDetail struct {
	template, language, value uint32
	display                   uint32 // the sender's display number the body names, when it names no phone number id
	number, until             int64
}

// pendingAccount is the account part of a pendingEvent.
type pendingAccount struct {
	template, language, value, display []byte
	number, until                      int64
}

// Messaging limits of Meta's tiers (unique users per moving 24 h).
var tierLimits = map[string]int64{
	"TIER_50": 50, "TIER_250": 250, "TIER_1K": 1000, "TIER_2K": 2000,
	"TIER_10K": 10_000, "TIER_100K": 100_000, "TIER_UNLIMITED": pipeline.NoLimit,
}

// pauseNumbers maps other_info.title of a PAUSED template to its pause
// number.
var pauseNumbers = map[string]int64{"FIRST_PAUSE": 1, "SECOND_PAUSE": 2}

// parseAccountChange parses one change of an account-level field into
// x.pending. entry is the change's entry (its time is the event time
// unless the change carries its own).
func (x *Exporter) parseAccountChange(field []byte, kind pipeline.Status, change, entry *fastjson.Value, waba []byte) *lineError {
	value := change.Get("value")
	if value == nil {
		return reject(KindMissingField, "%s: no value object", field)
	}
	if value.Type() != fastjson.TypeObject {
		return reject(KindWrongType, "%s: value is %s, want an object", field, typeName(value.Type()))
	}
	p := pendingEvent{waba: waba, code: pipeline.NoErrorCode, status: kind, acct: true}
	p.account.number = pipeline.NoAccountNumber
	if kind != pipeline.StatusUserPreference { // user preferences carry their own times
		ts, le := x.entryTime(entry)
		if le != nil {
			return at(le, "%s", field)
		}
		p.ts = ts
	}
	var le *lineError
	switch kind {
	case pipeline.StatusTemplateStatus:
		le = x.parseTemplateStatus(value, &p)
	case pipeline.StatusTemplateQuality:
		le = x.parseTemplateQuality(value, &p)
	case pipeline.StatusTemplateCategory:
		le = x.parseTemplateCategory(value, &p)
	case pipeline.StatusPhoneQuality:
		le = x.parsePhoneQuality(value, &p)
	case pipeline.StatusBusinessCapability:
		le = x.parseBusinessCapability(value, &p)
	case pipeline.StatusAccountUpdate:
		return x.parseAccountUpdate(value, &p) // may add one event per restriction
	case pipeline.StatusAccountAlert:
		le = x.parseAccountAlert(value, &p)
	case pipeline.StatusUserPreference:
		return x.parseUserPreferences(value, &p) // one event per preference
	}
	if le != nil {
		return at(le, "%s: value", field)
	}
	x.pending = append(x.pending, p)
	return nil
}

// entryTime returns entry[].time (Unix seconds) in microseconds.
func (x *Exporter) entryTime(entry *fastjson.Value) (int64, *lineError) {
	ts, le := x.unixField(entry, "time")
	if le != nil {
		return 0, at(le, "entry")
	}
	return ts, nil
}

// template reads the template a template webhook names: its name
// (required) and language.
func (x *Exporter) template(v *fastjson.Value, p *pendingEvent) *lineError {
	var le *lineError
	if p.account.template, le = x.requiredString(v, "message_template_name"); le != nil {
		return le
	}
	p.account.language, le = optionalString(v, "message_template_language")
	return le
}

// category maps a template category as Meta spells it (MARKETING) onto a
// contract category; ok is false for a category the contract lacks.
func (x *Exporter) category(b []byte) (uint32, bool) {
	c, ok := x.categories[string(b)]
	return c, ok
}

func (x *Exporter) parseTemplateStatus(v *fastjson.Value, p *pendingEvent) *lineError {
	if le := x.template(v, p); le != nil {
		return le
	}
	event, le := x.requiredString(v, "event")
	if le != nil {
		return le
	}
	p.account.value = event
	if c, le := optionalString(v, "message_template_category"); le != nil {
		return le
	} else if len(c) > 0 {
		cat, ok := x.category(c)
		if !ok {
			x.unknownValue("message_template_status_update message_template_category", c)
		}
		p.categ = cat
	}
	reason, le := optionalString(v, "reason")
	if le != nil {
		return le
	}
	if len(reason) > 0 && !bytes.EqualFold(reason, []byte("NONE")) {
		p.title = reason // REJECTED's INCORRECT_CATEGORY, ...
	}
	if p.detail, le = optionalString(v, "other_info", "description"); le != nil {
		return le
	}
	title, le := optionalString(v, "other_info", "title")
	if le != nil {
		return le
	}
	if string(event) == "PAUSED" {
		if n, ok := pauseNumbers[string(title)]; ok {
			p.account.number = n
		} else {
			x.unknownValue("message_template_status_update PAUSED other_info.title", title)
		}
	}
	if d := v.Get("disable_info", "disable_date"); d != nil && d.Type() != fastjson.TypeNull {
		until, le := x.accountTime(d)
		if le != nil {
			return at(le, "disable_info.disable_date")
		}
		p.account.until = until
	}
	return nil
}

func (x *Exporter) parseTemplateQuality(v *fastjson.Value, p *pendingEvent) *lineError {
	if le := x.template(v, p); le != nil {
		return le
	}
	score, le := x.requiredString(v, "new_quality_score")
	if le != nil {
		return le
	}
	switch string(score) {
	case "GREEN", "YELLOW", "RED", "UNKNOWN":
	default:
		x.unknownValue("message_template_quality_update new_quality_score", score)
	}
	p.account.value = score
	_, le = optionalString(v, "previous_quality_score") // the previous event says it
	return le
}

func (x *Exporter) parseTemplateCategory(v *fastjson.Value, p *pendingEvent) *lineError {
	if le := x.template(v, p); le != nil {
		return le
	}
	newCat, le := x.requiredString(v, "new_category")
	if le != nil {
		return le
	}
	cat, ok := x.category(newCat)
	if !ok {
		x.unknownValue("template_category_update new_category", newCat)
	}
	p.categ = cat
	prev, le := optionalString(v, "previous_category")
	if le != nil {
		return le
	}
	// The previous category in the contract's spelling when it is one.
	if c, ok := x.category(prev); ok {
		prev = []byte(x.strs.s[c])
	}
	p.account.value = prev
	return nil
}

// limit reads a messaging limit: a tier name (TIER_10K), a number, or a
// numeric string; -1 is unlimited. ok is false when the member is absent.
func (x *Exporter) limit(v *fastjson.Value, key, field string) (n int64, ok bool, le *lineError) {
	m := v.Get(key)
	if m == nil || m.Type() == fastjson.TypeNull {
		return 0, false, nil
	}
	var b []byte
	switch m.Type() {
	case fastjson.TypeString:
		b, _ = m.StringBytes()
		if n, ok := tierLimits[string(b)]; ok {
			return n, true, nil
		}
	case fastjson.TypeNumber:
		x.num = m.MarshalTo(x.num[:0])
		b = x.num
	default:
		return 0, false, reject(KindWrongType, "%s is %s, want a tier name or a number", key, typeName(m.Type()))
	}
	n, isNum := parseSignedInt(b)
	switch {
	case isNum && n == -1:
		return pipeline.NoLimit, true, nil
	case isNum && n >= 0:
		return n, true, nil
	case m.Type() == fastjson.TypeString:
		x.unknownValue(field+" "+key, b)
		return 0, false, nil
	}
	return 0, false, reject(KindBadValue, "%s %s is not a messaging limit", key, b)
}

// parseSignedInt parses an optionally negative decimal integer.
func parseSignedInt(b []byte) (int64, bool) {
	if len(b) > 0 && b[0] == '-' {
		n, ok := parseInt(b[1:], 63)
		return -n, ok
	}
	return parseInt(b, 63)
}

func (x *Exporter) parsePhoneQuality(v *fastjson.Value, p *pendingEvent) *lineError {
	var le *lineError
	if p.account.display, le = x.requiredString(v, "display_phone_number"); le != nil {
		return le
	}
	if p.account.value, le = x.requiredString(v, "event"); le != nil {
		return le
	}
	// current_limit (older bodies), else max_daily_conversations_per_business.
	for _, key := range []string{"current_limit", "max_daily_conversations_per_business"} {
		n, ok, le := x.limit(v, key, "phone_number_quality_update")
		if le != nil {
			return le
		}
		if ok {
			p.account.number = n
			break
		}
	}
	_, _, le = x.limit(v, "old_limit", "phone_number_quality_update") // the previous event says it
	return le
}

func (x *Exporter) parseBusinessCapability(v *fastjson.Value, p *pendingEvent) *lineError {
	// max_daily_conversations_per_business, else the older per-phone field.
	for _, key := range []string{"max_daily_conversations_per_business", "max_daily_conversation_per_phone"} {
		n, ok, le := x.limit(v, key, "business_capability_update")
		if le != nil {
			return le
		}
		if ok {
			p.account.number = n
			return nil
		}
	}
	return nil // a change of the phone-number caps only
}

func (x *Exporter) parseAccountUpdate(v *fastjson.Value, p *pendingEvent) *lineError {
	event, le := x.requiredString(v, "event")
	if le != nil {
		return at(le, "account_update: value")
	}
	if p.account.display, le = optionalString(v, "phone_number"); le != nil {
		return at(le, "account_update: value")
	}
	withType := func(t []byte) []byte {
		if len(t) == 0 {
			return event
		}
		return append(append(append([]byte(nil), event...), ':'), t...)
	}
	switch string(event) {
	case "ACCOUNT_RESTRICTION":
		list := v.Get("restriction_info")
		if list == nil || list.Type() != fastjson.TypeArray || len(mustArray(list)) == 0 {
			return reject(KindMissingField, "account_update: value: ACCOUNT_RESTRICTION without a restriction_info array")
		}
		for k, r := range mustArray(list) {
			if r.Type() != fastjson.TypeObject {
				return reject(KindWrongType, "account_update: value.restriction_info[%d] is %s, want an object", k, typeName(r.Type()))
			}
			q := *p
			typ, le := x.requiredString(r, "restriction_type")
			if le != nil {
				return at(le, "account_update: value.restriction_info[%d]", k)
			}
			q.account.value = withType(typ)
			if e := r.Get("expiration"); e != nil && e.Type() != fastjson.TypeNull {
				if q.account.until, le = x.accountTime(e); le != nil {
					return at(le, "account_update: value.restriction_info[%d].expiration", k)
				}
			}
			x.pending = append(x.pending, q)
		}
		return nil
	case "ACCOUNT_VIOLATION":
		typ, le := optionalString(v, "violation_info", "violation_type")
		if le != nil {
			return at(le, "account_update: value")
		}
		p.account.value = withType(typ)
	case "DISABLED_UPDATE":
		state, le := optionalString(v, "ban_info", "waba_ban_state")
		if le != nil {
			return at(le, "account_update: value")
		}
		p.account.value = withType(state)
		if d := v.Get("ban_info", "waba_ban_date"); d != nil && d.Type() != fastjson.TypeNull {
			if p.account.until, le = x.accountTime(d); le != nil {
				return at(le, "account_update: value.ban_info.waba_ban_date")
			}
		}
	default:
		p.account.value = event // VERIFIED_ACCOUNT, PARTNER_ADDED, ...: the event alone
	}
	x.pending = append(x.pending, *p)
	return nil
}

func (x *Exporter) parseAccountAlert(v *fastjson.Value, p *pendingEvent) *lineError {
	info := v.Get("alert_info")
	if info == nil || info.Type() != fastjson.TypeObject {
		return reject(KindMissingField, "no alert_info object")
	}
	var le *lineError
	if p.account.value, le = x.requiredString(info, "alert_type"); le != nil {
		return at(le, "alert_info")
	}
	severity, le := optionalString(info, "alert_severity")
	if le != nil {
		return at(le, "alert_info")
	}
	status, le := optionalString(info, "alert_status")
	if le != nil {
		return at(le, "alert_info")
	}
	// ErrorTitle "WARNING ACTIVE": the severity and whether the alert is on.
	p.title = bytes.TrimSpace(append(append(append([]byte(nil), severity...), ' '), status...))
	if p.detail, le = optionalString(info, "alert_description"); le != nil {
		return at(le, "alert_info")
	}
	entityType, le := optionalString(v, "entity_type")
	if le != nil {
		return le
	}
	if string(entityType) == "PHONE_NUMBER" {
		if p.phone, le = x.idText(v.Get("entity_id")); le != nil {
			return at(le, "entity_id")
		}
	}
	return nil
}

func (x *Exporter) parseUserPreferences(v *fastjson.Value, p *pendingEvent) *lineError {
	var le *lineError
	if p.phone, le = x.idText(v.Get("metadata", "phone_number_id")); le != nil {
		return at(le, "user_preferences: value.metadata.phone_number_id")
	}
	if d, _ := optionalString(v, "metadata", "display_phone_number"); len(d) > 0 && len(p.phone) > 0 {
		x.pendingDisplay = append(x.pendingDisplay, [2][]byte{d, p.phone})
	}
	list := v.Get("user_preferences")
	if list == nil || list.Type() != fastjson.TypeArray {
		return reject(KindMissingField, "user_preferences: value: no user_preferences array")
	}
	for k, u := range mustArray(list) {
		if u.Type() != fastjson.TypeObject {
			return reject(KindWrongType, "user_preferences: value.user_preferences[%d] is %s, want an object", k, typeName(u.Type()))
		}
		q := *p
		if le := x.parseUserPreference(u, &q); le != nil {
			return at(le, "user_preferences: value.user_preferences[%d]", k)
		}
		x.pending = append(x.pending, q)
	}
	return nil
}

func (x *Exporter) parseUserPreference(u *fastjson.Value, p *pendingEvent) *lineError {
	var le *lineError
	if p.recip, le = x.recipientField(u, "wa_id"); le != nil {
		return le
	}
	if p.ts, le = x.unixField(u, "timestamp"); le != nil {
		return le
	}
	if p.account.value, le = x.requiredString(u, "value"); le != nil {
		return le
	}
	switch string(p.account.value) {
	case "stop", "resume":
	default:
		x.unknownValue("user_preferences value", p.account.value)
	}
	category, le := optionalString(u, "category")
	if le != nil {
		return le
	}
	if string(category) == "marketing_messages" {
		p.categ = x.categories[pipeline.CategoryMarketing]
	} else {
		x.unknownValue("user_preferences category", category)
	}
	return nil
}

// accountTime reads a time an account webhook names: Unix seconds (a
// number or a numeric string), an RFC 3339 time, a date ("2026-09-30",
// midnight UTC) or a written date ("October 9, 2023").
func (x *Exporter) accountTime(v *fastjson.Value) (int64, *lineError) {
	var b []byte
	switch v.Type() {
	case fastjson.TypeNumber:
		x.num = v.MarshalTo(x.num[:0])
		b = x.num
	case fastjson.TypeString:
		b, _ = v.StringBytes()
	default:
		return 0, reject(KindWrongType, "is %s, want Unix seconds or a date", typeName(v.Type()))
	}
	s := strings.TrimSpace(string(b))
	for _, layout := range []string{time.DateOnly, "January 2, 2006", "Jan 2, 2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMicro(), nil
		}
	}
	us, err := parseTime([]byte(s), time.UTC)
	if err != nil {
		return 0, reject(KindBadTimestamp, "%q is neither Unix seconds, RFC 3339 nor a date: %v", b, err)
	}
	return us, nil
}

// unknownValue counts a value the export does not understand inside a
// change it otherwise turns into an event (the event is kept; this part
// of it is absent). It is kept with the line's pending events and
// counted when the line is committed.
func (x *Exporter) unknownValue(what string, b []byte) {
	if len(b) == 0 {
		b = []byte("(absent)")
	}
	x.pendingValues = append(x.pendingValues, what+" "+strconv.Quote(string(b)))
}

// unknownField counts a change of a webhook field the export does not
// understand: it is named and counted, not turned into events.
func (x *Exporter) unknownField(field []byte) {
	x.pendingFields = append(x.pendingFields, string(field))
}

// accountEventID returns the event id of an account event: see
// pipeline.MakeAccountEventID. display is the sender's display number the
// body names, when it names no phone number id.
func (x *Exporter) accountEventID(r *rec) uint64 {
	a := &x.accts[r.acct]
	e := pipeline.Event{
		Timestamp: r.ts, Status: r.status, WABAID: x.strs.s[r.waba], PhoneNumberID: x.strs.s[r.phone],
		Recipient: x.recipID[r.recip], Template: x.strs.s[a.template], Language: x.strs.s[a.language],
		Category: x.strs.s[r.categ], AccountValue: x.strs.s[a.value], AccountNumber: a.number, AccountUntil: a.until,
	}
	return pipeline.AccountEventIDHash(&e, x.strs.s[a.display])
}
