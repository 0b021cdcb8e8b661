package simulate

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// mode says what the engine is simulating.
type mode uint8

const (
	modeHistory mode = iota // the history window: campaigns, replies, events
	modePlan                // after AsOf: only the plan's sends (and the recipients' own life)
)

// engine holds the state of a world and advances it in time order.
type engine struct {
	cfg    Config
	mode   mode
	start  int64
	asOf   int64
	hasher *pipeline.RecipientHasher

	wabas         []waba
	numbers       []phoneNumber
	pools         []pool
	recips        []recipient
	numberOf      []string // recipient -> phone number (shared, read-only)
	hashOf        []string // recipient -> hashed number (shared, read-only)
	countryOf     []string // recipient -> ISO country parsed from its number, as export labels it (shared, read-only)
	templates     []template
	templateIndex map[string]int // name|language -> template
	outages       []outage

	queue     actionQueue
	campaigns []*campaign       // history campaigns, by index
	dayCount  map[int64]int     // campaigns started per day, for ids
	recent    [][]inboundRecord // per WABA: recent inbound messages
	stamp     []uint32          // audience sampling scratch
	stampGen  uint32

	scripted scripted

	pcg rand.PCG // per-send stream, reseeded for every send
	rng *rand.Rand

	out   *emitter // history events (history mode only)
	plan  *planRun // plan sends and their outcomes (plan mode only)
	stats Stats
}

// scripted records the incidents played near AsOf, which the plan uses.
type scripted struct {
	pausedTemplate int // template paused shortly before AsOf, -1 none
	buggyTemplate  int // template version with a parameter bug spanning AsOf, -1 none
}

type inboundRecord struct {
	at        int64
	recipient int32
}

// newEngine builds the world at the start of the history window.
func newEngine(cfg Config) (*engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &engine{
		cfg:           cfg,
		start:         cfg.start(),
		asOf:          cfg.asOf(),
		hasher:        pipeline.NewRecipientHasher([]byte(cfg.HashKey)),
		templateIndex: map[string]int{},
		dayCount:      map[int64]int{},
		scripted:      scripted{pausedTemplate: -1, buggyTemplate: -1},
	}
	e.rng = rand.New(&e.pcg)
	if err := e.buildEntities(); err != nil {
		return nil, err
	}
	e.buildSchedules()
	e.recent = make([][]inboundRecord, len(e.wabas))
	e.stamp = make([]uint32, len(e.recips))
	e.stats.ByCode = map[int32]int64{}
	// The first day rollover is at the start (which need not be midnight).
	e.push(action{at: e.start, kind: actDay})
	if e.asOf-30*usHour >= e.start {
		e.push(action{at: e.asOf - 30*usHour, kind: actIncident, a: incidentFirstPause})
		e.push(action{at: e.asOf - 14*usHour, kind: actIncident, a: incidentBug})
		e.push(action{at: e.asOf - 2*usHour, kind: actIncident, a: incidentPause})
	}
	e.scheduleRestrictions(newStream(cfg.Seed, streamRestrictions))
	return e, nil
}

// clone returns an independent copy of the state (for plan runs). Read-only
// tables are shared.
func (e *engine) clone() *engine {
	c := *e
	c.wabas = slices.Clone(e.wabas)
	c.numbers = slices.Clone(e.numbers)
	for i := range c.numbers {
		c.numbers[i].contacts = e.numbers[i].contacts.clone()
	}
	c.recips = slices.Clone(e.recips)
	c.templates = slices.Clone(e.templates)
	c.templateIndex = make(map[string]int, len(e.templateIndex))
	for k, v := range e.templateIndex {
		c.templateIndex[k] = v
	}
	c.queue = actionQueue{items: slices.Clone(e.queue.items), seq: e.queue.seq}
	c.campaigns = nil
	c.dayCount = map[int64]int{}
	c.recent = make([][]inboundRecord, len(e.recent))
	for i := range e.recent {
		c.recent[i] = slices.Clone(e.recent[i])
	}
	c.stamp = make([]uint32, len(e.stamp))
	c.stampGen = 0
	c.rng = rand.New(&c.pcg)
	c.out = nil
	c.plan = nil
	c.stats = Stats{ByCode: map[int32]int64{}}
	return &c
}

// Action kinds, in the order they run when simultaneous and pushed together.
const (
	actDay              uint8 = iota // UTC day rollover
	actCampaignSend                  // next send of history campaign a
	actInbound                       // recipient a writes to phone number b (-1: choose)
	actSupportReply                  // the business answers recipient a from number b
	actPlanSend                      // planned send a
	actIncident                      // scripted incident a
	actBugFix                        // the sender's fix for template a's bug ships
	actTemplateApproved              // template a's pause number b is over (APPROVED)
	actRestriction                   // number a is restricted (scripted)
)

// Scripted incidents.
const (
	incidentBug int32 = iota
	incidentPause
	incidentFirstPause
)

// action is something that happens at a time.
type action struct {
	at   int64
	seq  uint64
	key  uint64
	a, b int32
	kind uint8
}

// actionQueue is a binary min-heap of actions by (at, seq).
type actionQueue struct {
	items []action
	seq   uint64
}

func (q *actionQueue) less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (e *engine) push(a action) {
	q := &e.queue
	q.seq++
	a.seq = q.seq
	q.items = append(q.items, a)
	i := len(q.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.items[i], q.items[p] = q.items[p], q.items[i]
		i = p
	}
}

func (q *actionQueue) pop() action {
	top := q.items[0]
	n := len(q.items) - 1
	q.items[0] = q.items[n]
	q.items = q.items[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			break
		}
		q.items[i], q.items[m] = q.items[m], q.items[i]
		i = m
	}
	return top
}

// runUntil processes actions before end, in time order.
func (e *engine) runUntil(ctx context.Context, end int64) error {
	for n := 0; len(e.queue.items) > 0 && e.queue.items[0].at < end; n++ {
		if n&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		a := e.queue.pop()
		if e.out != nil {
			if err := e.out.advance(a.at); err != nil {
				return err
			}
		}
		switch a.kind {
		case actDay:
			e.onDay(a.at)
		case actCampaignSend:
			e.onCampaignSend(a)
		case actInbound:
			e.onInbound(a)
		case actSupportReply:
			e.onSupportReply(a)
		case actPlanSend:
			e.onPlanSend(a)
		case actIncident:
			e.onIncident(a)
		case actBugFix:
			e.onBugFix(a)
		case actTemplateApproved:
			e.onTemplateApproved(a)
		case actRestriction:
			e.onRestriction(a)
		}
	}
	return nil
}

// send is one send request.
type send struct {
	key         uint64
	at          int64 // microseconds, a whole millisecond
	campaign    string
	waba        int32
	number      int32
	template    int32 // -1: not a template message
	recipient   int32
	category    string
	messageType string
	media       int64
	rate        float64 // planned campaign rate, 0 = not a campaign
	exploration bool

	// Actions of a replay.
	fixTemplate, renewToken, paced bool
}

// Mechanism parameters.
const (
	throughputMPS         = 80.0
	pairWindow            = 6 * usSecond
	pairFailShare         = 0.9
	bugFailShare          = 0.85
	newVersionChance      = 0.5  // each day, each WABA publishes a new template version with this chance
	buggyVersionShare     = 0.12 // new template versions with a parameter bug
	youngNumberLimit      = 400  // daily unique recipients the sender assumes for a number in its first week
	backgroundTransient   = 0.0012
	transientSyncShare    = 0.35
	windowLength          = usDay
	templatePauseFeedback = 10.0
	templatePauseShare    = 0.02        // negative signals per marketing send that pause a template
	templateErrorMemory   = 72 * usHour // refusals of a template less apart are one incident
	fastCampaignShare     = 0.03        // campaigns planned at 100-250 mps
	flowMedianSize        = 120         // triggered messages a day per template
	resumeDelay           = 24 * usHour // the sender resumes a template this long after its incident is over
	watchedShare          = 0.65        // watched campaigns (see campaign.watched)
	firstPause            = 3 * usHour  // Meta: 3 h on the first pause
	secondPause           = 6 * usHour  // 6 h on the second; the third disables
)

// marketingLimitProbability is the chance that a marketing send is held
// back by the per-user marketing limit (131049), given the marketing
// messages the recipient got in the trailing 24 h and 7 days.
func marketingLimitProbability(day, week int) float64 {
	byDay := [...]float64{0.001, 0.006, 0.04, 0.2, 0.45, 0.65, 0.8}
	p := byDay[min(day, len(byDay)-1)]
	if week > 6 {
		p += 0.015 * float64(week-6)
	}
	return min(p, 0.95)
}

// optOutProbability is the chance that a recipient opts out of marketing
// after a marketing delivery (day and week count that delivery).
func optOutProbability(day, week int) float64 {
	return 0.0002 + 0.0015*float64(max(0, day-1)) + 0.0003*float64(max(0, week-5))
}

// mediaLimit returns the size limit of a send's media (template media
// headers are images, as pipeline.MediaLimit takes them).
func mediaLimit(messageType string) int64 {
	if l, ok := pipeline.MediaLimit(messageType); ok {
		return l
	}
	return pipeline.MediaLimitBytes["image"]
}

// attempt decides the fate of a send and applies its effects on the
// world. It returns the error code (pipeline.NoErrorCode on success) and
// whether the API refused the request synchronously. It leaves e.rng
// positioned for the send's event timing draws.
func (e *engine) attempt(s *send) (code int32, sync bool) {
	e.pcg.Seed(e.cfg.Seed, s.key)
	var u [10]float64
	for i := range u {
		u[i] = e.rng.Float64()
	}
	rc := &e.recips[s.recipient]
	num := &e.numbers[s.number]
	var tpl *template
	if s.template >= 0 {
		tpl = &e.templates[s.template]
	}

	// Synchronous refusals.
	if !s.renewToken && e.tokenExpired(int(s.waba), s.at) {
		return 190, true
	}
	pTransient := e.outageAt(s.at)
	if pTransient == 0 {
		pTransient = backgroundTransient
	}
	transient := u[0] < pTransient
	if transient && u[1] < transientSyncShare {
		if u[2] < 0.5 {
			return 500, true
		}
		return 503, true
	}
	if tpl != nil && num.restrictedAt(s.at) {
		// Business-initiated messaging restricted for a policy
		// violation (announced by account_update).
		return 368, true
	}
	if s.rate > throughputMPS && !s.paced && u[3] < 1-throughputMPS/s.rate {
		return 130429, true
	}
	if tpl != nil && !s.fixTemplate {
		if tpl.disabledAt != 0 && s.at >= tpl.disabledAt {
			tpl.templateError(s.at)
			return 132016, true
		}
		if s.at < tpl.pausedUntil {
			tpl.templateError(s.at)
			return 132015, true
		}
		if s.at >= tpl.bug.from && s.at < tpl.bug.to && u[4] < bugFailShare {
			if tpl.bugFix > 0 {
				// The sender notices the errors and fixes its integration
				// some time later; until then the version keeps failing.
				tpl.bug.to = s.at + tpl.bugFix
				tpl.bugFix = 0
				e.push(action{at: tpl.bug.to, kind: actBugFix, a: s.template})
			}
			tpl.templateError(s.at)
			return tpl.bugCode, true
		}
	}

	// Accepted: asynchronous failures, reported by webhook.
	marketing := s.category == pipeline.CategoryMarketing
	if marketing && tpl != nil {
		tpl.volume.add(s.at, 1)
	}
	switch {
	case rc.invalid():
		return 131026, false
	case tpl == nil && s.at-rc.lastInbound > windowLength && !s.fixTemplate:
		// Fixing a free-form send outside the 24-hour window means
		// sending an approved template instead.
		return 131047, false
	case marketing && e.countryOf[s.recipient] == "US" && s.at >= usMarketingBan:
		// Meta does not deliver marketing templates to US numbers.
		return 131049, false
	case marketing && rc.optedOutAt != 0 && s.at >= rc.optedOutAt:
		return 131050, false
	}
	if tpl != nil {
		n, known := num.contacts.unique(s.at, s.recipient)
		if !known && n >= tierLimits[num.tier] {
			return 131048, false
		}
	}
	for j := range rc.pairAt {
		if rc.pairNumber[j] == s.number && s.at-rc.pairAt[j] < pairWindow && u[5] < pairFailShare {
			return 131056, false
		}
	}
	if marketing {
		day, week := rc.marketingCounts(s.at)
		if u[6] < marketingLimitProbability(day, week) {
			e.feedback(s, 0.25)
			return 131049, false
		}
	}
	if s.media >= 0 && s.media > mediaLimit(s.messageType) && !s.fixTemplate {
		// Fixing the template includes its media header: the sender
		// resizes the file the warning names.
		return 131053, false
	}
	if transient {
		if u[2] < 0.6 {
			return 131000, false
		}
		return 131016, false
	}

	// Delivered: the world remembers it.
	if tpl != nil {
		num.contacts.add(s.at, s.recipient)
		if n := len(num.contacts.last); n > num.peakToday {
			num.peakToday = n
		}
	}
	rc.pairAt[1], rc.pairNumber[1] = rc.pairAt[0], rc.pairNumber[0]
	rc.pairAt[0], rc.pairNumber[0] = s.at, s.number
	rc.lastNumber = s.number
	if marketing {
		rc.addMarketing(s.at)
		day, week := rc.marketingCounts(s.at)
		if rc.optedOutAt == 0 && u[7] < optOutProbability(day, week) {
			rc.optedOutAt = secondAfter(s.at, int64(u[8]*float64(6*usHour))+10*usMinute)
			e.announceStop(s.recipient, s.number, rc.optedOutAt)
			e.feedback(s, 1)
		}
	}
	return pipeline.NoErrorCode, false
}

// templateError records a refusal for the template at t, which the sender
// sees: refusals less than templateErrorMemory apart are one incident.
func (t *template) templateError(at int64) {
	if t.errorAt == 0 || at-t.errorAt > templateErrorMemory {
		t.errorSince = at
	}
	t.errorAt = at
}

// feedback adds a negative quality signal to the send's template and phone
// number. A template whose signals pile up is paused (72 h, then 96 h) and
// disabled at the third pause.
func (e *engine) feedback(s *send, x float64) {
	e.numbers[s.number].quality.add(s.at, x)
	if s.template < 0 {
		return
	}
	t := &e.templates[s.template]
	if t.disabledAt != 0 || s.at < t.pausedUntil {
		return
	}
	f := t.feedback.add(s.at, x)
	threshold := max(templatePauseFeedback, templatePauseShare*t.volume.valueAt(s.at))
	e.noteQuality(t, s.at, f/threshold)
	if f < threshold {
		return
	}
	e.pauseTemplate(int(s.template), s.at)
}

// pauseTemplate pauses template ti at time at by Meta's rule: 3 h on
// its first pause, 6 h on its second, disabled on the third. Meta
// announces each (message_template_status_update), and APPROVED when a
// pause ends.
func (e *engine) pauseTemplate(ti int, at int64) {
	t := &e.templates[ti]
	t.feedback, t.volume = decaying{}, decaying{}
	t.pauses++
	switch {
	case t.pauses >= 3:
		t.disabledAt = at
		e.announceTemplate(t, at, "DISABLED", pipeline.NoAccountNumber, at/usSecond*usSecond)
		return
	case t.pauses == 2:
		t.pausedUntil = at + secondPause
	default:
		t.pausedUntil = at + firstPause
	}
	e.announceTemplate(t, at, "PAUSED", int64(t.pauses), 0)
	e.push(action{at: t.pausedUntil, kind: actTemplateApproved, a: int32(ti), b: int32(t.pauses)})
}

// wamid returns the WhatsApp message id of a send or inbound message.
func wamid(key uint64) string {
	var b [24]byte
	for i := 0; i < 3; i++ {
		binary.BigEndian.PutUint64(b[8*i:], mix64(key+uint64(i)*0x632be59bd9b4e019))
	}
	b[0], b[1], b[2] = 0x1d, 0x81, 0x8b // like Meta's "HBgL" prefix
	return "wamid." + base64.StdEncoding.EncodeToString(b[:])
}

// requestID returns the sender's request id of a send.
func requestID(key uint64) string {
	h := strconv.FormatUint(mix64(key^0x5245515545535449), 16)
	for len(h) < 16 {
		h = "0" + h
	}
	return "req-" + h
}

// secondAfter returns the whole second of t + d (Meta's webhook precision).
func secondAfter(t, d int64) int64 { return (t + d) / usSecond * usSecond }

// doSend runs a send: decides it, emits its events and schedules the
// recipient's reaction. It returns the error code.
func (e *engine) doSend(s *send) int32 {
	code, sync := e.attempt(s)
	e.stats.count(code)
	r := e.rng
	var rec *sendRecord
	if code != pipeline.NoErrorCode {
		if e.out != nil {
			if sync {
				e.out.add(e.record(s, requestID(s.key)), pipeline.StatusFailed, s.at, code)
			} else {
				rec = e.record(s, wamid(s.key))
				e.out.add(rec, pipeline.StatusAccepted, s.at, pipeline.NoErrorCode)
				e.out.add(rec, pipeline.StatusFailed, secondAfter(s.at, uniformDuration(r, usSecond, 5*usSecond)), code)
			}
		}
		return code
	}
	if e.out != nil {
		rec = e.record(s, wamid(s.key))
		e.out.add(rec, pipeline.StatusAccepted, s.at, pipeline.NoErrorCode)
	}
	sent := secondAfter(s.at, uniformDuration(r, usSecond, 3*usSecond))
	var delivered int64
	switch x := r.Float64(); {
	case x < 0.92:
		delivered = sent + uniformDuration(r, 0, 20*usSecond)
	case x < 0.98:
		delivered = sent + uniformDuration(r, 5*usMinute, 12*usHour)
	default:
		delivered = -1 // the phone stays offline
	}
	readShare, replyShare := engagement(s.category)
	readAt := int64(-1)
	if delivered >= 0 && r.Float64() < readShare {
		readAt = delivered + min(int64(logNormal(r, float64(15*usMinute), 1.3)), 20*usHour)
	}
	replyDraw := r.Float64()
	replyDelay := int64(logNormal(r, float64(3*usMinute), 1.0))
	if e.out != nil {
		e.out.add(rec, pipeline.StatusSent, sent, pipeline.NoErrorCode)
		if delivered >= 0 {
			e.out.add(rec, pipeline.StatusDelivered, secondAfter(delivered, 0), pipeline.NoErrorCode)
		}
		if readAt >= 0 {
			e.out.add(rec, pipeline.StatusRead, secondAfter(readAt, 0), pipeline.NoErrorCode)
		}
	}
	if readAt >= 0 && replyDraw < replyShare {
		e.push(action{at: secondAfter(readAt, replyDelay+usSecond), kind: actInbound, a: s.recipient, b: s.number, key: mix64(s.key ^ 0x5245504c59)})
	}
	return code
}

// engagement returns the shares of delivered messages of a category that
// are read and that get a reply.
func engagement(category string) (read, reply float64) {
	switch category {
	case pipeline.CategoryMarketing:
		return 0.45, 0.04
	case pipeline.CategoryUtility:
		return 0.6, 0.06
	case pipeline.CategoryAuthentication:
		return 0.75, 0
	default:
		return 0.7, 0.3
	}
}

// sendRecord holds what the events of one message share, until they are
// all emitted: pending events point to it instead of each carrying a full
// history row.
type sendRecord struct {
	messageID   string
	campaign    string
	category    string
	messageType string
	media       int64
	waba        int32
	number      int32
	template    int32 // -1: none
	recipient   int32
	exploration bool
}

// record returns the shared record of a send's events.
func (e *engine) record(s *send, messageID string) *sendRecord {
	return &sendRecord{
		messageID: messageID, campaign: s.campaign, category: s.category, messageType: s.messageType,
		media: s.media, waba: s.waba, number: s.number, template: s.template, recipient: s.recipient,
		exploration: s.exploration,
	}
}

// event builds the history row of a pending event.
func (e *engine) event(p *pendingEvent, eventID string) pipeline.Event {
	if p.acct != nil {
		return *p.acct
	}
	r := p.rec
	ev := pipeline.Event{
		EventID:       eventID,
		MessageID:     r.messageID,
		Timestamp:     p.at,
		WABAID:        e.wabas[r.waba].id,
		PhoneNumberID: e.numbers[r.number].id,
		Recipient:     e.hashOf[r.recipient],
		Country:       e.countryOf[r.recipient],
		CampaignID:    r.campaign,
		Category:      r.category,
		MessageType:   r.messageType,
		MediaBytes:    r.media,
		Status:        p.status,
		ErrorCode:     p.code,
		Exploration:   r.exploration,
	}
	if r.template >= 0 {
		t := &e.templates[r.template]
		ev.Template, ev.Language = t.name, t.language
	}
	if p.code != pipeline.NoErrorCode {
		ev.ErrorTitle, ev.ErrorDetails = errorText(p.code)
	}
	return ev
}

// errorDetails are the fixed error_data.details strings per code.
var errorDetails = map[int32]string{
	190:    "Error validating access token: Session has expired.",
	500:    "Internal server error.",
	503:    "Service temporarily unavailable.",
	130429: "Cloud API message throughput has been reached.",
	131000: "Something went wrong.",
	131016: "A service is temporarily unavailable.",
	131026: "Message Undeliverable.",
	131047: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
	131048: "Message failed to send because there are restrictions on how many messages can be sent from this phone number.",
	131049: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
	131050: "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
	131053: "Media upload error: the media exceeds the maximum size for its type.",
	131056: "Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.",
	132000: "body: number of localizable_params (0) does not match the expected number of params (1)",
	132012: "header: Format mismatch, expected IMAGE, received TEXT",
	132015: "Template is paused due to low quality.",
	132016: "Template has been paused too many times due to low quality and is now permanently disabled.",
	368:    "Temporarily blocked for policies violations.",
}

// errorText returns the title (the taxonomy's) and details of a code.
func errorText(code int32) (title, details string) {
	info, _ := pipeline.LookupCode(code)
	return info.Title, errorDetails[code]
}

// onIncident plays a scripted incident near AsOf, so that the plan's risky
// cases have causes visible in the history.
func (e *engine) onIncident(a action) {
	if e.mode != modeHistory {
		return
	}
	r := newStream(e.cfg.Seed, streamTemplates+uint64(a.a)+1000)
	switch a.a {
	case incidentFirstPause:
		// A marketing template's first pause, a day before as-of...
		t := e.pickTemplate(r, a.at, pipeline.CategoryMarketing, 1%len(e.wabas), func(t *template) bool {
			return t.disabledAt == 0 && t.pauses == 0 && a.at >= t.pausedUntil && t.bug.to <= a.at
		})
		if t < 0 {
			return
		}
		e.pauseTemplate(t, a.at) // by the rule: 3 h
		e.scripted.pausedTemplate = t
	case incidentPause:
		// ... and its second, 2 h before as-of: 6 h, into the plan.
		t := e.scripted.pausedTemplate
		if t < 0 {
			return
		}
		if tp := &e.templates[t]; tp.disabledAt != 0 || a.at < tp.pausedUntil || !tp.usableAt(a.at) {
			e.scripted.pausedTemplate = -1
			return
		}
		e.pauseTemplate(t, a.at)
		e.startCampaign(r, a.at+30*usMinute, campaignSpec{template: t, number: -1, size: 100, rate: 40})
	case incidentBug:
		t := e.pickTemplate(r, a.at, pipeline.CategoryUtility, 2%len(e.wabas), func(t *template) bool {
			return t.disabledAt == 0 && a.at >= t.pausedUntil
		})
		if t < 0 {
			return
		}
		v := e.newVersion(t, a.at)
		nt := &e.templates[v]
		nt.bug, nt.bugCode = interval{a.at, e.asOf + 30*usHour}, 132012
		e.scripted.buggyTemplate = v
		e.startCampaign(r, a.at+4*usHour, campaignSpec{template: v, number: -1, size: 300, rate: 30})
	}
}

// onBugFix ships the sender's fix of a template's parameter bug: the fix
// comes with a corrected template version, which replaces the buggy one
// (history only; in a plan run the bug just ends).
func (e *engine) onBugFix(a action) {
	if e.mode != modeHistory {
		return
	}
	if t := int(a.a); e.templates[t].usableAt(a.at) {
		e.newVersion(t, a.at)
	}
}

// pickTemplate returns a random template of a category usable at t, of
// WABA w when it has one (any WABA when w < 0), that passes ok; -1 if there
// is none.
func (e *engine) pickTemplate(r *rand.Rand, t int64, category string, w int, ok func(*template) bool) int {
	var best []int
	for pass := 0; pass < 2 && len(best) == 0; pass++ {
		for i := range e.templates {
			tp := &e.templates[i]
			if tp.category == category && tp.usableAt(t) && (pass == 1 || w < 0 || tp.waba == w) && ok(tp) {
				best = append(best, i)
			}
		}
	}
	if len(best) == 0 {
		return -1
	}
	return best[r.IntN(len(best))]
}

// newVersion creates the next version of template t at time at; t is
// retired then.
func (e *engine) newVersion(t int, at int64) int {
	old := e.templates[t]
	e.templates[t].retiredAt = at
	nt := template{
		slug: old.slug, category: old.category, version: old.version + 1,
		waba: old.waba, pool: old.pool, language: old.language,
		createdAt: at, retiredAt: math.MaxInt64, media: old.media,
	}
	return e.addTemplate(nt)
}

// Stats counts what a simulation produced.
type Stats struct {
	Events   int64 // history rows emitted
	Inbound  int64 // inbound messages
	Sends    int64 // send requests
	Failures int64 // failed send requests
	// Cancelled counts campaigns the sender called off at their start
	// (their template's incident or their WABA's expired token).
	Cancelled int64
	// Stopped counts watched campaigns the sender stopped when their
	// template was paused while they ran.
	Stopped  int64
	ByFamily [pipeline.NumFamilies]int64 // failed sends by error family
	ByCode   map[int32]int64             // failed sends by error code
	Elapsed  time.Duration               // wall time of the run
}

func (s *Stats) count(code int32) {
	s.Sends++
	if code != pipeline.NoErrorCode {
		s.Failures++
		s.ByFamily[pipeline.FamilyOf(code)]++
		s.ByCode[code]++
	}
}

// FailureRate returns Failures / Sends.
func (s *Stats) FailureRate() float64 {
	if s.Sends == 0 {
		return 0
	}
	return float64(s.Failures) / float64(s.Sends)
}
