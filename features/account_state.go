package features

import (
	"math"
	"strings"

	"github.com/failcast/failcast/pipeline"
)

// This file holds the account state: what Meta's account-level webhooks
// (pipeline.Status.IsAccountEvent) announced about templates, phone
// numbers, business accounts and recipients. Account events are outcome
// events: they reach the state through the outcome FIFO, so a send at t
// sees only those before cutoff(t), like deliveries and failures.

// Meta's pause windows: a template is paused for 3 h on its first pause,
// 6 h on its second; the third disables it.
const (
	FirstPauseWindow  = 3 * usPerHour
	SecondPauseWindow = 6 * usPerHour
)

// PauseWindow returns how long the pause-th pause of a template lasts
// (Unix µs), 0 for the third and later (the template is disabled) or an
// unknown pause number.
func PauseWindow(pause int64) int64 {
	switch pause {
	case 1:
		return FirstPauseWindow
	case 2:
		return SecondPauseWindow
	}
	return 0
}

// Template statuses of message_template_status_update, as record values.
const (
	tplStatusOther uint8 = iota // not understood: counted as a change, no state
	tplApproved
	tplPaused
	tplFlagged
	tplDisabled
	tplRejected
	tplReinstated
	tplArchived
	tplPendingDeletion
	tplDeleted
)

var tplStatusValues = map[string]uint8{
	"APPROVED": tplApproved, "PAUSED": tplPaused, "FLAGGED": tplFlagged, "DISABLED": tplDisabled,
	"REJECTED": tplRejected, "REINSTATED": tplReinstated, "ARCHIVED": tplArchived,
	"PENDING_DELETION": tplPendingDeletion, "DELETED": tplDeleted,
}

// Quality scores of message_template_quality_update, as record values
// (the feature's index is the value - 1; 0 is unknown).
const (
	qualityUnknown uint8 = iota
	qualityGreen
	qualityYellow
	qualityRed
)

// Account updates of account_update, as record values.
const (
	acctOther             uint8 = iota
	acctRestrictBiz             // ACCOUNT_RESTRICTION:RESTRICTED_BIZ_INITIATED_MESSAGING
	acctRestrictCustomer        // ACCOUNT_RESTRICTION:RESTRICTED_CUSTOMER_INITIATED_MESSAGING
	acctRestrictOther           // another restriction (adding numbers, ...): no effect on sends
	acctLocked                  // DISABLED_UPDATE (ban): the account is locked (131031)
	acctReinstated              // DISABLED_UPDATE:REINSTATE, or the restriction lifted
	acctRestrictionLifted       // ACCOUNT_RESTRICTION without a type: restrictions lifted
)

// User preferences of user_preferences, as record values.
const (
	prefOther uint8 = iota
	prefStop
	prefResume
)

// accountValue encodes an account event's AccountValue for its kind.
func accountValue(e *pipeline.Event) uint8 {
	v := strings.ToUpper(strings.TrimSpace(e.AccountValue))
	switch e.Status {
	case pipeline.StatusTemplateStatus:
		return tplStatusValues[v]
	case pipeline.StatusTemplateQuality:
		switch v {
		case "GREEN", "HIGH":
			return qualityGreen
		case "YELLOW", "MEDIUM":
			return qualityYellow
		case "RED", "LOW":
			return qualityRed
		}
		return qualityUnknown
	case pipeline.StatusAccountUpdate:
		event, kind, _ := strings.Cut(v, ":")
		switch event {
		case "ACCOUNT_RESTRICTION":
			switch kind {
			case "RESTRICTED_BIZ_INITIATED_MESSAGING":
				return acctRestrictBiz
			case "RESTRICTED_CUSTOMER_INITIATED_MESSAGING":
				return acctRestrictCustomer
			case "":
				return acctRestrictionLifted
			}
			return acctRestrictOther
		case "DISABLED_UPDATE":
			// ban_info.waba_ban_state after the colon.
			switch kind {
			case "REINSTATE":
				return acctReinstated
			case "", "DISABLE":
				return acctLocked
			}
			return acctOther // SCHEDULE_FOR_DISABLE: not locked yet
		}
		return acctOther
	case pipeline.StatusUserPreference:
		switch v {
		case "STOP":
			return prefStop
		case "RESUME":
			return prefResume
		}
	}
	return 0
}

// accountNumber returns an account event's AccountNumber as the record
// keeps it: -1 when absent (the contract's NoAccountNumber, or 0 from a
// history written before the column existed), MaxInt32 for NoLimit and
// anything above it.
func accountNumber(n int64) int32 {
	switch {
	case n <= 0:
		return -1
	case n >= math.MaxInt32:
		return math.MaxInt32
	}
	return int32(n)
}

// accountRecord returns the record of an account event.
func accountRecord(e *pipeline.Event, ids entityIDs) record {
	return record{
		kind: recAccount, status: e.Status, ts: e.Timestamp, ids: ids, row: -1,
		code: accountNumber(e.AccountNumber), media: e.AccountUntil, acctValue: accountValue(e),
		hasTpl: e.Template != "", category: indexOf(pipeline.Categories, strings.ToLower(e.Category)), mtype: -1,
	}
}

// tplAccount is what account events announced about a template (name +
// language). Times are µs, 0 meaning never.
type tplAccount struct {
	pausedAt    int64 // the last PAUSED, 0 when no pause is in force
	pauseNumber int64 // its pause number (1, 2, ...)
	pauses      int64 // pauses announced
	changedAt   int64 // the last status or quality event
	flaggedAt   int64 // FLAGGED (a disable is scheduled), 0 when not in force
	disableDate int64 // the disable date of the FLAGGED, 0 if none
	disabledAt  int64 // DISABLED, 0 when not in force
	toMarketing bool  // template_category_update moved it to marketing
	quality     uint8 // qualityUnknown, qualityGreen, ...
}

// pauseEnd returns when the template's announced pause ends (µs), 0 when
// no pause is in force. A pause of unknown number counts as the first
// window past the number of pauses seen.
func (a *tplAccount) pauseEnd() int64 {
	if a.pausedAt == 0 {
		return 0
	}
	w := PauseWindow(a.pauseNumber)
	if w == 0 {
		w = SecondPauseWindow // a third pause disables; until DISABLED comes, the longest window
	}
	return a.pausedAt + w
}

func (a *tplAccount) apply(r *record) {
	switch r.status {
	case pipeline.StatusTemplateQuality:
		a.quality = r.acctValue
		a.changedAt = r.ts
	case pipeline.StatusTemplateCategory:
		// Category is the new category; AccountValue the previous one.
		a.toMarketing = r.category == catMarketing
	case pipeline.StatusTemplateStatus:
		a.changedAt = r.ts
		switch r.acctValue {
		case tplPaused:
			a.pauses++
			a.pausedAt, a.pauseNumber = r.ts, int64(r.code)
			if r.code <= 0 {
				a.pauseNumber = a.pauses
			}
			a.pauses = max(a.pauses, a.pauseNumber)
		case tplApproved, tplReinstated:
			a.pausedAt, a.flaggedAt, a.disableDate, a.disabledAt = 0, 0, 0, 0
		case tplFlagged:
			a.flaggedAt, a.disableDate = r.ts, r.media
		case tplDisabled:
			a.disabledAt, a.pausedAt = r.ts, 0
		case tplRejected, tplArchived, tplPendingDeletion, tplDeleted:
			// Not sendable; Meta answers 132001 (not approved), a
			// payload error the outcome features already count.
			a.pausedAt = 0
		}
	}
}

// limitAccount is what account events announced about a phone number or
// a business account: its messaging limit and restrictions.
type limitAccount struct {
	limit        int32 // announced messaging limit (unique users per 24 h), 0 unknown, MaxInt32 unlimited
	limitAt      int64
	bizUntil     int64 // business-initiated messaging restricted until (µs); MaxInt64 no expiry known; 0 none
	customerTill int64 // customer-initiated messaging restricted until
	locked       bool  // the account is locked (DISABLED_UPDATE)
}

func (a *limitAccount) apply(r *record) {
	switch r.status {
	case pipeline.StatusPhoneQuality, pipeline.StatusBusinessCapability:
		if r.code > 0 {
			a.limit, a.limitAt = r.code, r.ts
		}
	case pipeline.StatusAccountUpdate:
		until := r.media
		if until <= 0 {
			until = math.MaxInt64
		}
		switch r.acctValue {
		case acctRestrictBiz:
			a.bizUntil = until
		case acctRestrictCustomer:
			a.customerTill = until
		case acctRestrictionLifted:
			a.bizUntil, a.customerTill = 0, 0
		case acctLocked:
			a.locked = true
		case acctReinstated:
			a.locked, a.bizUntil, a.customerTill = false, 0, 0
		}
	}
}

// restrictedUntil returns when the restriction that applies to a send at t
// ends (math.MaxInt64: no expiry known), or 0 when none does. Template
// sends are business-initiated; other sends answer the recipient.
func (a *limitAccount) restrictedUntil(t int64, template bool) int64 {
	u := a.customerTill
	if template {
		u = a.bizUntil
	}
	if u > t {
		return u
	}
	return 0
}

// prefAccount is a recipient's marketing preference (user_preferences).
type prefAccount struct {
	at    uint32 // Unix seconds of the last preference
	value uint8  // prefStop or prefResume
}

// accountState is the account state, one entry per entity id.
type accountState struct {
	tpl   []tplAccount
	phone []limitAccount
	waba  []limitAccount
	pref  map[int32]prefAccount // sparse: few recipients ever stop marketing
}

func (a *accountState) ensure(ids *entityIDs) {
	a.tpl = grow(a.tpl, ids.tpl, tplAccount{})
	a.phone = grow(a.phone, ids.phone, limitAccount{})
	a.waba = grow(a.waba, ids.waba, limitAccount{})
	if a.pref == nil {
		a.pref = map[int32]prefAccount{}
	}
}

// apply folds one account record into the state.
func (a *accountState) apply(r *record) {
	a.ensure(&r.ids)
	switch r.status {
	case pipeline.StatusTemplateStatus, pipeline.StatusTemplateQuality, pipeline.StatusTemplateCategory:
		if r.hasTpl {
			a.tpl[r.ids.tpl].apply(r)
		}
	case pipeline.StatusPhoneQuality, pipeline.StatusAccountUpdate:
		// Phone-level when the event names a number, else the business
		// account's.
		if r.ids.phone != 0 {
			a.phone[r.ids.phone].apply(r)
		} else {
			a.waba[r.ids.waba].apply(r)
		}
	case pipeline.StatusBusinessCapability:
		a.waba[r.ids.waba].apply(r)
	case pipeline.StatusUserPreference:
		if r.acctValue != prefOther {
			a.pref[r.ids.recip] = prefAccount{at: uint32(r.ts / usPerSec), value: r.acctValue}
		}
	}
}

// knownLimit returns the messaging limit announced for the send's number
// or its business account (the latest of the two), 0 when none was.
func (a *accountState) knownLimit(ids *entityIDs) int32 {
	p, w := &a.phone[ids.phone], &a.waba[ids.waba]
	switch {
	case p.limit > 0 && (w.limit == 0 || p.limitAt >= w.limitAt):
		return p.limit
	case w.limit > 0:
		return w.limit
	}
	return 0
}

// restriction returns when the restriction on the send's number or
// business account in force at t ends (MaxInt64: no expiry known), 0 if
// none, and whether the account is locked.
func (a *accountState) restriction(ids *entityIDs, t int64, template bool) (until int64, locked bool) {
	p, w := &a.phone[ids.phone], &a.waba[ids.waba]
	return max(p.restrictedUntil(t, template), w.restrictedUntil(t, template)), p.locked || w.locked
}

// tierLimit returns the send's messaging limit as known at cutoff: the
// announced one when Meta announced one, else the inferred tier.
func (o *outcomeState) tierLimit(ids *entityIDs, cutoff int64) float32 {
	if l := o.acct.knownLimit(ids); l > 0 {
		if l == math.MaxInt32 {
			return UnlimitedTier
		}
		return float32(l)
	}
	return tierOf(o.phone[ids.phone].uniqReached(cutoff))
}
