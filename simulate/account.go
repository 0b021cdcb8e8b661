package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// This file holds the account-level side of the world: what Meta announces
// by webhook besides message statuses (template quality and status,
// messaging limits, account restrictions, users' marketing preferences),
// and the world rules those announcements describe. What Meta does not
// announce stays unannounced: the per-user marketing limit, the pair rate,
// throughput, outages, parameter bugs.

// usMarketingBan is when Meta stopped delivering marketing templates to US
// phone numbers (131049).
var usMarketingBan = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

// Template quality levels, in the order they worsen.
const (
	qualityGreen = iota
	qualityYellow
	qualityRed
)

var qualityNames = [...]string{"GREEN", "YELLOW", "RED"}

// qualityOf returns the quality level of a template whose negative
// signals are share of the amount that pauses it.
func qualityOf(share float64) int {
	switch {
	case share >= 0.75:
		return qualityRed
	case share >= 0.4:
		return qualityYellow
	}
	return qualityGreen
}

// violationType is the violation behind the world's restrictions.
const violationType = "SPAM"

// addAccount buffers an account event; events at or after AsOf are
// dropped, like the others. display is the sender's display number when
// Meta's body names the number by it (pipeline.MakeAccountEventID).
func (o *emitter) addAccount(ev pipeline.Event, display string) {
	if ev.Timestamp >= o.asOf {
		return
	}
	h := ev.Timestamp / usHour
	b, ok := o.buckets[h]
	if !ok && len(o.spare) > 0 {
		b = o.spare[len(o.spare)-1]
		o.spare = o.spare[:len(o.spare)-1]
	}
	ev.EventID = pipeline.MakeAccountEventID(&ev, display)
	o.buckets[h] = append(b, pendingEvent{at: ev.Timestamp, acct: &ev, status: ev.Status, code: pipeline.NoErrorCode})
}

// accountEvent returns an account event of the world at t, with no
// message and no error.
func (e *engine) accountEvent(status pipeline.Status, at int64, waba int, value string) pipeline.Event {
	return pipeline.Event{
		Timestamp: at / usSecond * usSecond, WABAID: e.wabas[waba].id, Status: status, AccountValue: value,
		AccountNumber: pipeline.NoAccountNumber, ErrorCode: pipeline.NoErrorCode, MediaBytes: pipeline.NoMediaBytes,
	}
}

// announceTemplate emits a message_template_status_update of template t.
func (e *engine) announceTemplate(t *template, at int64, value string, number, until int64) {
	if e.out == nil {
		return
	}
	ev := e.accountEvent(pipeline.StatusTemplateStatus, at, t.waba, value)
	ev.Template, ev.Language, ev.Category = t.name, t.language, t.category
	ev.AccountNumber, ev.AccountUntil = number, until
	if value == "PAUSED" {
		ev.ErrorDetails = pauseDescription(number, ev.Timestamp)
	}
	e.out.addAccount(ev, "")
}

// noteQuality updates template t's quality level from its negative
// signals (share of the amount that pauses it) and announces a change
// for the worse (message_template_quality_update).
func (e *engine) noteQuality(t *template, at int64, share float64) {
	q := qualityOf(share)
	if q <= int(t.quality) {
		return
	}
	t.quality = uint8(q)
	if e.out == nil {
		return
	}
	ev := e.accountEvent(pipeline.StatusTemplateQuality, at, t.waba, qualityNames[q])
	ev.Template, ev.Language = t.name, t.language
	e.out.addAccount(ev, "")
}

// onTemplateApproved ends template a's pause number b: Meta announces
// APPROVED when a pause is over (unless a later pause or the disabling
// came first).
func (e *engine) onTemplateApproved(a action) {
	t := &e.templates[a.a]
	if t.pauses != int(a.b) || t.disabledAt != 0 {
		return
	}
	e.announceTemplate(t, a.at, "APPROVED", pipeline.NoAccountNumber, 0)
}

// announceLimit emits a phone_number_quality_update: number n's messaging
// limit changed (event UPGRADE or DOWNGRADE).
func (e *engine) announceLimit(n int, at int64, event string) {
	if e.out == nil {
		return
	}
	num := &e.numbers[n]
	ev := e.accountEvent(pipeline.StatusPhoneQuality, at, num.waba, event)
	ev.PhoneNumberID = num.id
	ev.AccountNumber = int64(tierLimits[num.tier])
	if num.tier == len(tierLimits)-1 {
		ev.AccountNumber = pipeline.NoLimit
	}
	e.out.addAccount(ev, num.display)
}

// restrict restricts number n's business-initiated messaging from at for
// length, announcing the violation and the restriction (account_update).
func (e *engine) restrict(n int, at, length int64) {
	num := &e.numbers[n]
	until := (at + length) / usSecond * usSecond
	num.restricted = append(num.restricted, interval{at, until})
	if e.out == nil {
		return
	}
	v := e.accountEvent(pipeline.StatusAccountUpdate, at, num.waba, "ACCOUNT_VIOLATION:"+violationType)
	v.PhoneNumberID = num.id
	e.out.addAccount(v, num.display)
	r := e.accountEvent(pipeline.StatusAccountUpdate, at+5*usSecond, num.waba, "ACCOUNT_RESTRICTION:RESTRICTED_BIZ_INITIATED_MESSAGING")
	r.PhoneNumberID, r.AccountUntil = num.id, until
	e.out.addAccount(r, num.display)
}

// restrictedAt reports whether number n's business-initiated messaging is
// restricted at t.
func (n *phoneNumber) restrictedAt(t int64) bool {
	for _, iv := range n.restricted {
		if t >= iv.from && t < iv.to {
			return true
		}
	}
	return false
}

// announceStop emits the user_preferences stop of recipient rc (who got
// the marketing message through number n) at t.
func (e *engine) announceStop(rc int32, n int32, at int64) {
	if e.out == nil {
		return
	}
	num := &e.numbers[n]
	ev := e.accountEvent(pipeline.StatusUserPreference, at, num.waba, "stop")
	ev.PhoneNumberID, ev.Recipient = num.id, e.hashOf[rc]
	ev.Country, ev.Category = e.countryOf[rc], pipeline.CategoryMarketing // the preference is about marketing messages
	e.out.addAccount(ev, "")
}

// onRestriction plays a scheduled restriction: number a's
// business-initiated messaging is restricted for b hours (history only).
func (e *engine) onRestriction(a action) {
	if e.mode != modeHistory {
		return
	}
	e.restrict(int(a.a), a.at, int64(a.b)*usHour)
}

// scheduleRestrictions draws the numbers restricted for policy
// violations: one in the history (for the model to learn 368 from) and
// one shortly before as-of whose restriction spans the plan's first day.
func (e *engine) scheduleRestrictions(r *rand.Rand) {
	if len(e.numbers) < 2 || e.asOf-10*usDay < e.start {
		return
	}
	early := r.IntN(len(e.numbers))
	at := e.start + uniformDuration(r, 2*usDay, max(3*usDay, e.asOf-e.start-10*usDay))/usMinute*usMinute
	e.push(action{at: at, kind: actRestriction, a: int32(early), b: 24})
	// The late one: 4 h before as-of, for 14 h.
	late := (early + 1 + r.IntN(len(e.numbers)-1)) % len(e.numbers)
	e.push(action{at: e.asOf - 4*usHour, kind: actRestriction, a: int32(late), b: 14})
}

// pauseDescription is Meta's other_info.description of a template's
// pause-th pause at t (µs), which export keeps as the event's
// ErrorDetails; "" for a pause number without a window.
func pauseDescription(pause, t int64) string {
	hours := map[int64]int64{1: 3, 2: 6}[pause]
	if hours == 0 {
		return ""
	}
	until := time.UnixMicro(t + hours*usHour).UTC().Format("2006-01-02 15:04")
	return fmt.Sprintf("Your message template has been paused for %d hours because of low quality: it will be available again at %s UTC.", hours, until)
}
