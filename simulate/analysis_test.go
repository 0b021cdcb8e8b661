package simulate

import (
	"context"
	"sync"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

// analysis checks a history stream, as a Sink, against the mechanisms'
// causes, using only what the history shows at each point in time (the way
// a feature pipeline sees it).
type analysis struct {
	events, outOfOrder, badPrecision int
	lastTS                           int64
	lastID                           string
	statuses                         map[pipeline.Status]int
	sends, failures                  int
	byCode                           map[int32]int

	accepted map[string]acceptedSend // message id -> its send, until resolved

	// 131049: marketing sends by marketing messages sent to the recipient in
	// the 24 h before.
	mktSent map[string][]int64
	mktBins [8]struct{ n, limited int }

	// 131050: marketing sends after the recipient's first 131050.
	optedOut                        map[string]int64
	afterOptOut, afterOptOutSucceed int

	// 131026: recipients with an undeliverable send, and with a sent one.
	undeliverable, delivered map[string]bool

	// 130429: per campaign, sends and timing.
	campaigns map[string]*campaignStat

	// 131047: free-form sends by hours since the recipient's last inbound.
	lastInbound                      map[string]int64
	windowFails, windowFailsInWindow int
	windowOpenSends                  int

	// 131053: media over the limit.
	mediaOverSucceeded, mediaFailsUnderLimit, mediaFails int

	// 131056: sends to the same recipient from the same number.
	pairLast                 map[[2]string][2]int64
	pairFails, pairFailsNear int

	// 132016: sends of a template after it was disabled.
	disabled                          map[string]int64
	afterDisabled, afterDisabledFails int

	// 190: accepted sends of a WABA between two auth failures of one gap.
	lastAuth        map[string]int64
	acceptedSince   map[string]int
	acceptedInGaps  int
	authFailures    int
	tierChecks      int
	tierFailsAtFull int
	tiers           map[string]*tierTracker
	recipientIndex  map[string]int32

	// The plan's risks in the history: failures the history already
	// showed the cause of, hours before (what a model learns them from).
	firstSeen      int64            // first event of the history
	lastPause      map[string]int64 // template -> last 132015
	pauseSince     map[string]int64 // template -> first 132015 of its current pause
	firstParam     map[string]int64 // template -> first 132000/132012
	phoneFirst     map[string]int64 // phone number -> first send
	knownPauseFail int              // 132015s 12 h or more after the first 132015 of the template's pause
	knownBugFail   int              // 132000/132012s 12 h or more after the template's first one
	youngTierFail  int              // 131048s of numbers that started sending two days or more into the history

	// Account events: what Meta announced, and the failures it explains.
	acctEvents                        map[pipeline.Status]int
	pausedAt                          map[string]int64 // template -> announced PAUSED not yet APPROVED
	qualityAt                         map[string]int64 // template -> last announced quality change
	pausesAfterQ                      int              // announced pauses with a quality change in the 3 days before
	pauses                            int
	stoppedAt                         map[string]int64 // recipient -> announced stop
	restrictedTill                    map[string]int64 // phone number -> restriction expiry
	pauseFails                        [2]int           // 132015s [unannounced, after an announced PAUSED]
	stopFails                         [2]int           // 131050s [unannounced, after an announced stop]
	restrictFails                     [2]int           // 368s [unannounced, within an announced restriction]
	usMarketingFails, usMarketingSent int              // marketing sends to US numbers that failed (131049), that were sent
}

// account notes an account event.
func (a *analysis) account(ev *pipeline.Event) {
	a.acctEvents[ev.Status]++
	tpl := ev.Template + "|" + ev.Language
	switch ev.Status {
	case pipeline.StatusTemplateQuality:
		a.qualityAt[tpl] = ev.Timestamp
	case pipeline.StatusTemplateStatus:
		switch ev.AccountValue {
		case "PAUSED":
			a.pauses++
			if q, ok := a.qualityAt[tpl]; ok && ev.Timestamp-q < 3*usDay {
				a.pausesAfterQ++
			}
			a.pausedAt[tpl] = ev.Timestamp
		case "APPROVED", "DISABLED":
			delete(a.pausedAt, tpl)
		}
	case pipeline.StatusUserPreference:
		if ev.AccountValue == "stop" {
			a.stoppedAt[ev.Recipient] = ev.Timestamp
		}
	case pipeline.StatusAccountUpdate:
		if ev.AccountUntil > 0 {
			a.restrictedTill[ev.PhoneNumberID] = ev.AccountUntil
		}
	}
}

type acceptedSend struct {
	at                     int64
	recipient, number      string
	category, template     string
	messageType, campaign  string
	media                  int64
	mktBin                 int
	afterOptOut, afterDisb bool
	usMarketing            bool // a marketing send to a US number
	pairNear               bool // another send to the recipient from the number within 6 s before
	inWindow               bool // the recipient wrote in the 24 h before the send
}

type campaignStat struct {
	first, last int64
	sends, c429 int
}

func newAnalysis() *analysis {
	return &analysis{
		statuses: map[pipeline.Status]int{}, byCode: map[int32]int{}, accepted: map[string]acceptedSend{},
		mktSent: map[string][]int64{}, optedOut: map[string]int64{}, undeliverable: map[string]bool{},
		delivered: map[string]bool{}, campaigns: map[string]*campaignStat{}, lastInbound: map[string]int64{},
		pairLast: map[[2]string][2]int64{}, disabled: map[string]int64{}, lastAuth: map[string]int64{},
		acceptedSince: map[string]int{}, tiers: map[string]*tierTracker{}, recipientIndex: map[string]int32{},
		lastPause: map[string]int64{}, pauseSince: map[string]int64{}, firstParam: map[string]int64{}, phoneFirst: map[string]int64{},
		lastTS: -1 << 63, firstSeen: -1,
		acctEvents: map[pipeline.Status]int{}, pausedAt: map[string]int64{}, qualityAt: map[string]int64{},
		stoppedAt: map[string]int64{}, restrictedTill: map[string]int64{},
	}
}

func (a *analysis) History(batch []pipeline.Event) error {
	for i := range batch {
		a.event(&batch[i])
	}
	return nil
}

func (a *analysis) recipientID(r string) int32 {
	id, ok := a.recipientIndex[r]
	if !ok {
		id = int32(len(a.recipientIndex))
		a.recipientIndex[r] = id
	}
	return id
}

func (a *analysis) event(ev *pipeline.Event) {
	a.events++
	if ev.Timestamp < a.lastTS || ev.Timestamp == a.lastTS && ev.EventID < a.lastID {
		a.outOfOrder++
	}
	a.lastTS, a.lastID = ev.Timestamp, ev.EventID
	if a.firstSeen < 0 {
		a.firstSeen = ev.Timestamp
	}
	a.statuses[ev.Status]++
	if ev.Status.IsAccountEvent() {
		a.account(ev)
		return
	}
	sync := ev.Status == pipeline.StatusFailed && len(ev.MessageID) > 4 && ev.MessageID[:4] == "req-"
	switch {
	case ev.Status == pipeline.StatusAccepted || sync:
		if ev.Timestamp%1000 != 0 {
			a.badPrecision++
		}
	case ev.Timestamp%usSecond != 0:
		a.badPrecision++
	}
	if ev.Status == pipeline.StatusInbound {
		a.lastInbound[ev.Recipient] = ev.Timestamp
		return
	}
	var rec acceptedSend
	if ev.Status == pipeline.StatusAccepted || sync {
		rec = a.newSend(ev, sync)
	}
	if ev.Status == pipeline.StatusFailed {
		a.failures++
		a.byCode[ev.ErrorCode]++
	}
	s, known := a.accepted[ev.MessageID]
	if sync {
		s, known = rec, true // a synchronous refusal is its own only event
	}
	if !known {
		return
	}
	switch ev.Status {
	case pipeline.StatusSent:
		delete(a.accepted, ev.MessageID)
		a.delivered[ev.Recipient] = true
		if s.category == pipeline.CategoryMarketing {
			a.mktSent[ev.Recipient] = append(a.mktSent[ev.Recipient], s.at)
		}
		if s.afterOptOut {
			a.afterOptOutSucceed++
		}
		if s.usMarketing {
			a.usMarketingSent++
		}
		if s.template != "" {
			a.tier(s.number).add(s.at, a.recipientID(ev.Recipient))
		}
		if s.media > mediaLimit(s.messageType) {
			a.mediaOverSucceeded++
		}
	case pipeline.StatusFailed:
		delete(a.accepted, ev.MessageID)
		a.failed(ev, &s)
	}
}

func (a *analysis) tier(number string) *tierTracker {
	t, ok := a.tiers[number]
	if !ok {
		tt := newTierTracker()
		t = &tt
		a.tiers[number] = t
	}
	return t
}

func (a *analysis) record(ev *pipeline.Event) acceptedSend {
	s := acceptedSend{
		at: ev.Timestamp, recipient: ev.Recipient, number: ev.PhoneNumberID, category: ev.Category,
		template: ev.Template + "|" + ev.Language, messageType: ev.MessageType, campaign: ev.CampaignID, media: ev.MediaBytes,
	}
	if ev.Template == "" {
		s.template = ""
	}
	return s
}

// newSend records a send request when it is made and returns its record.
func (a *analysis) newSend(ev *pipeline.Event, sync bool) acceptedSend {
	a.sends++
	s := a.record(ev)
	if _, ok := a.phoneFirst[s.number]; !ok {
		a.phoneFirst[s.number] = ev.Timestamp
	}
	if l, ok := a.lastInbound[ev.Recipient]; ok && ev.Timestamp-l <= usDay {
		s.inWindow = true
	}
	if ev.CampaignID != "" {
		c := a.campaigns[ev.CampaignID]
		if c == nil {
			c = &campaignStat{first: ev.Timestamp}
			a.campaigns[ev.CampaignID] = c
		}
		c.sends++
		c.last = ev.Timestamp
		if sync && ev.ErrorCode == 130429 {
			c.c429++
		}
	}
	if s.category == pipeline.CategoryMarketing {
		times := a.mktSent[ev.Recipient]
		n := 0
		for _, t := range times {
			if t > ev.Timestamp-usDay {
				times[n] = t
				n++
			}
		}
		a.mktSent[ev.Recipient] = times[:n]
		s.mktBin = min(n, len(a.mktBins)-1)
		if at, ok := a.optedOut[ev.Recipient]; ok && ev.Timestamp > at {
			s.afterOptOut = true
			a.afterOptOut++
		}
	}
	if at, ok := a.disabled[s.template]; ok && s.template != "" && ev.Timestamp > at {
		s.afterDisb = true
		a.afterDisabled++
	}
	w := ev.WABAID
	if ev.Status == pipeline.StatusAccepted {
		a.acceptedSince[w]++
	}
	if s.template == "" && ev.MessageType != "" {
		if ev.Timestamp-a.lastInbound[ev.Recipient] <= usDay {
			a.windowOpenSends++
		}
	}
	// US numbers get no marketing at all (131049 by policy, whatever the
	// load): the load bins count the others.
	s.usMarketing = s.category == pipeline.CategoryMarketing && ev.Country == "US"
	if s.category == pipeline.CategoryMarketing && ev.Status == pipeline.StatusAccepted && !s.usMarketing {
		a.mktBins[s.mktBin].n++
	}
	if !sync {
		a.accepted[ev.MessageID] = s
		k := [2]string{ev.Recipient, s.number}
		l, seen := a.pairLast[k]
		s.pairNear = seen && (s.at-l[0] < pairWindow || l[1] != 0 && s.at-l[1] < pairWindow)
		a.pairLast[k] = [2]int64{s.at, l[0]}
		a.accepted[ev.MessageID] = s
	}
	return s
}

// failed checks a failure against its cause.
func (a *analysis) failed(ev *pipeline.Event, s *acceptedSend) {
	if s.afterDisb {
		a.afterDisabledFails++
	}
	switch ev.ErrorCode {
	case 131049:
		if s.usMarketing {
			a.usMarketingFails++
		} else {
			a.mktBins[s.mktBin].limited++
		}
	case 131050:
		if at, ok := a.stoppedAt[ev.Recipient]; ok && at <= s.at {
			a.stopFails[1]++
		} else {
			a.stopFails[0]++
		}
		if _, ok := a.optedOut[ev.Recipient]; !ok {
			a.optedOut[ev.Recipient] = s.at
		}
	case 131026:
		a.undeliverable[ev.Recipient] = true
	case 131047:
		a.windowFails++
		if s.inWindow {
			a.windowFailsInWindow++
		}
	case 131053:
		a.mediaFails++
		if s.media <= mediaLimit(s.messageType) {
			a.mediaFailsUnderLimit++
		}
	case 131056:
		a.pairFails++
		if s.pairNear {
			a.pairFailsNear++
		}
	case 132016:
		if _, ok := a.disabled[s.template]; !ok {
			a.disabled[s.template] = s.at
		}
	case 190:
		a.authFailures++
		w := ev.WABAID
		if last, ok := a.lastAuth[w]; ok && s.at-last < 12*usHour {
			a.acceptedInGaps += a.acceptedSince[w]
		}
		a.lastAuth[w] = s.at
		a.acceptedSince[w] = 0
	case 368:
		if until, ok := a.restrictedTill[s.number]; ok && s.at < until {
			a.restrictFails[1]++
		} else {
			a.restrictFails[0]++
		}
	case 132015:
		if _, ok := a.pausedAt[s.template]; ok {
			a.pauseFails[1]++
		} else {
			a.pauseFails[0]++
		}
		// A pause's refusals less than three days apart are one incident.
		if l, ok := a.lastPause[s.template]; !ok || s.at-l > 72*usHour {
			a.pauseSince[s.template] = s.at
		}
		if s.at-a.pauseSince[s.template] >= 12*usHour {
			a.knownPauseFail++
		}
		a.lastPause[s.template] = s.at
	case 132000, 132012:
		if f, ok := a.firstParam[s.template]; !ok {
			a.firstParam[s.template] = s.at
		} else if s.at-f >= 12*usHour {
			a.knownBugFail++
		}
	}
	if ev.ErrorCode == 131048 && a.phoneFirst[s.number]-a.firstSeen >= 2*usDay {
		a.youngTierFail++
	}
	switch ev.ErrorCode {
	case 131048:
		a.tierChecks++
		n, known := a.tier(s.number).unique(s.at, a.recipientID(ev.Recipient))
		if n >= tierLimits[0]*95/100 && !known {
			a.tierFailsAtFull++
		}
	}
}

func (a *analysis) failureRate() float64 { return float64(a.failures) / float64(max(a.sends, 1)) }

// The demo world is simulated once and shared by the tests that check it.
var demo struct {
	once  sync.Once
	world *World
	an    *analysis
	err   error
}

func demoWorld(t testing.TB) (*World, *analysis) {
	t.Helper()
	demo.once.Do(func() {
		demo.an = newAnalysis()
		demo.world, demo.err = Run(context.Background(), DefaultConfig(), demo.an)
	})
	if demo.err != nil {
		t.Fatal(demo.err)
	}
	return demo.world, demo.an
}
