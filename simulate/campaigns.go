package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// campaign is a batch of sends of one message to an audience, from one
// phone number, at a planned rate.
type campaign struct {
	id          string
	hash        uint64 // randomness key base of the history sends
	waba        int32
	number      int32
	template    int32 // -1: a non-template (service) message
	category    string
	messageType string
	rate        float64 // messages per second
	start       int64
	// watched: the sender calls the campaign off at its start while its
	// template's incident (pause, disabling, parameter bug) or its WABA's
	// expired token lasts, once it has known of it for checkAfter (its
	// reaction time, see holds), and stops it when Meta announces that its
	// template was paused while it runs. checkAfter is math.MaxInt64 for
	// campaigns nobody watches (unwatched campaigns, flows) and 0 for the
	// ones that go out as scripted (scripted incidents and risks, service
	// follow-ups).
	watched    bool
	checkAfter int64
	audience   []int32
	pos        int
}

// sendTime returns the time of the i-th send: sends are spaced 1/rate
// seconds apart, at millisecond precision (the send log's).
func (c *campaign) sendTime(i int) int64 {
	return c.start + int64(float64(i)*1000/c.rate)*1000
}

// campaignSpec says what campaign to build; zero fields are drawn.
type campaignSpec struct {
	template    int // template to send; -1 for a service message
	waba        int // for service messages
	number      int // -1: a random number of the WABA
	size        int
	rate        float64
	heavyShare  float64 // share of the audience drawn from the loyalty segment
	dupShare    float64 // share of audience entries repeated a few positions later
	messageType string  // for service messages
	audience    []int32 // a given audience (sampling skipped)
	service     bool
	established bool // not from a young phone number
}

// campaignID returns the next campaign id of the UTC day of t.
func (e *engine) campaignID(t int64) string {
	day := t / usDay
	e.dayCount[day]++
	return fmt.Sprintf("cmp-%s-%02d", time.UnixMicro(day*usDay).UTC().Format("20060102"), e.dayCount[day])
}

// buildCampaign builds a campaign starting at t (a whole second) from spec.
func (e *engine) buildCampaign(r *rand.Rand, t int64, spec campaignSpec) *campaign {
	c := &campaign{start: t, rate: spec.rate, template: -1}
	w := spec.waba
	if !spec.service {
		tp := &e.templates[spec.template]
		c.template = int32(spec.template)
		c.category = tp.category
		c.messageType = "template"
		w = tp.waba
	} else {
		c.category = pipeline.CategoryService
		c.messageType = spec.messageType
	}
	c.waba = int32(w)
	if spec.number >= 0 {
		c.number = int32(spec.number)
	} else {
		c.number = int32(e.pickNumber(r, w, t, spec.established))
	}
	c.id = e.campaignID(t)
	c.hash = mix64(hashString(c.id) ^ e.cfg.Seed)
	switch {
	case spec.audience != nil:
		c.audience = spec.audience
	default:
		c.audience = e.sampleAudience(r, e.templates[spec.template].pool, spec.size, spec.heavyShare)
	}
	if spec.dupShare > 0 {
		c.audience = addDuplicates(r, c.audience, spec.dupShare, c.rate)
	}
	return c
}

// pickNumber returns a random phone number of WABA w registered at t (a
// week before t if established).
func (e *engine) pickNumber(r *rand.Rand, w int, t int64, established bool) int {
	if established {
		t -= 7 * usDay
	}
	nums := e.wabas[w].numbers
	for {
		n := nums[r.IntN(len(nums))]
		if e.numbers[n].registeredAt <= t || n == nums[0] {
			return n
		}
	}
}

// sampleAudience draws size distinct recipients of a pool; heavyShare of
// them come from the loyalty segment.
func (e *engine) sampleAudience(r *rand.Rand, p int, size int, heavyShare float64) []int32 {
	pl := &e.pools[p]
	if len(pl.members) == 0 {
		return nil
	}
	size = min(size, len(pl.members)*7/10)
	e.stampGen++
	gen := e.stampGen
	out := make([]int32, 0, size)
	for tries := 0; len(out) < size && tries < 4*size+100; tries++ {
		var i int32
		if pl.heavy > 0 && r.Float64() < heavyShare {
			i = pl.members[r.IntN(pl.heavy)]
		} else {
			i = pl.members[r.IntN(len(pl.members))]
		}
		if e.stamp[i] == gen {
			continue
		}
		e.stamp[i] = gen
		out = append(out, i)
	}
	return out
}

// addDuplicates repeats a share of the audience entries a few seconds'
// worth of positions later (duplicate rows in the sender's audience list),
// which runs into the pair rate limit.
func addDuplicates(r *rand.Rand, audience []int32, share, rate float64) []int32 {
	if len(audience) < 2 {
		return audience
	}
	n := int(math.Round(float64(len(audience))*share + r.Float64() - 0.5))
	window := max(1, min(int(4*rate), 200))
	for k := 0; k < n; k++ {
		j := r.IntN(len(audience))
		at := min(len(audience), j+1+r.IntN(window))
		audience = slices.Insert(audience, at, audience[j])
	}
	return audience
}

// mediaBytes returns the media size of a send with media (template image
// headers, service images, documents and videos), from the send's key.
func (e *engine) mediaBytes(key uint64, messageType string) int64 {
	var pcg rand.PCG
	pcg.Seed(e.cfg.Seed^0x4d45444941, key)
	r := rand.New(&pcg)
	var b float64
	switch messageType {
	case "document":
		b = logNormal(r, 2<<20, 1.2)
	case "video":
		b = logNormal(r, 6<<20, 0.7)
	default: // image, template image header
		b = logNormal(r, 1.4*(1<<20), 0.6)
	}
	return max(1024, int64(b))
}

// Campaign kinds and their shares of the campaigns of a day.
var (
	campaignKinds       = []string{pipeline.CategoryMarketing, pipeline.CategoryUtility, pipeline.CategoryAuthentication, pipeline.CategoryService}
	campaignKindWeights = []float64{0.62, 0.26, 0.05, 0.07}
	normalRates         = []float64{10, 20, 30, 40, 50, 60, 80}
	normalRateWeights   = []float64{0.1, 0.15, 0.2, 0.2, 0.15, 0.1, 0.1}
	serviceTypes        = []string{"text", "image", "document", "video"}
	serviceTypeWeights  = []float64{0.8, 0.12, 0.06, 0.02}
)

// dayPlanner draws the campaigns of one UTC day, as the sender plans them
// at the start of the day: it keeps each number's planned audience under
// its messaging limit, except for the occasional overshoot.
type dayPlanner struct {
	e        *engine
	r        *rand.Rand
	dayStart int64
	from, to int64         // campaign starts are kept in [from, to)
	budget   map[int32]int // planned unique recipients per number
}

// planDay draws the campaigns of the UTC day starting at dayStart whose
// start is in [from, to) and passes each to add.
func (e *engine) planDay(dayStart, from, to int64, add func(*campaign)) {
	day := dayStart / usDay
	p := &dayPlanner{e: e, r: newStream(e.cfg.Seed, streamDay+uint64(day)), dayStart: dayStart, from: from, to: to, budget: map[int32]int{}}
	r := p.r
	n := int(math.Round(float64(e.cfg.CampaignsPerDay) * uniform(r, 0.7, 1.3)))
	promo := make([]bool, len(e.wabas))
	for w := range promo {
		promo[w] = r.Float64() < 0.2
	}
	// Triggered messages (order updates, reminders) go out all day, one
	// flow per marketing and utility template.
	for t := range e.templates {
		if c := p.flow(t); c != nil {
			add(c)
		}
	}
	for i := 0; i < n; i++ {
		if c := p.campaign(campaignKinds[pick(r, campaignKindWeights)], -1); c != nil {
			add(c)
		}
	}
	// Promotion days: a WABA hammers its loyalty segment.
	for w, on := range promo {
		if !on {
			continue
		}
		for k := 0; k < 4; k++ {
			if c := p.campaign(pipeline.CategoryMarketing, w); c != nil {
				add(c)
			}
		}
	}
}

// flow returns the day's flow of triggered messages of template t, or nil
// (no flow for the template, or outside the planner's range). A flow is a
// slow campaign from 07:00 to 22:00 UTC to recipients drawn from the
// template's pool; the automation behind it never looks at errors.
func (p *dayPlanner) flow(t int) *campaign {
	e, r := p.e, p.r
	tp := &e.templates[t]
	start := p.dayStart + 7*usHour + uniformDuration(r, 0, 30*usMinute)/usSecond*usSecond
	if tp.category != pipeline.CategoryMarketing && tp.category != pipeline.CategoryUtility || !tp.usableAt(start) || tp.disabledAt != 0 {
		return nil
	}
	size := int(logNormal(r, flowMedianSize, 0.4))
	number := e.pickNumber(r, tp.waba, start, true)
	if start < p.from || start >= p.to || size < 10 {
		return nil
	}
	rate := float64(size) / float64(15*usHour/usSecond)
	c := e.buildCampaign(r, start, campaignSpec{template: t, number: number, size: size, rate: rate})
	c.checkAfter = math.MaxInt64
	if _, ok := p.budget[int32(number)]; !ok {
		p.budget[int32(number)] = len(e.numbers[number].contacts.last) / 3
	}
	p.budget[int32(number)] += len(c.audience)
	return c
}

// campaign draws one campaign of a kind (of WABA w when w >= 0); nil when
// it starts outside the planner's range or nothing fits.
func (p *dayPlanner) campaign(kind string, w int) *campaign {
	e, r := p.e, p.r
	start := p.dayStart + uniformDuration(r, 8*usHour, 21*usHour)/usSecond*usSecond
	inRange := start >= p.from && start < p.to
	if kind == pipeline.CategoryService {
		ww := r.IntN(len(e.wabas))
		size := int(logNormal(r, 150, 0.6))
		rate := float64(5 + 5*r.IntN(4))
		mt := serviceTypes[pick(r, serviceTypeWeights)]
		if !inRange {
			return nil
		}
		aud := e.recentInbound(ww, p.dayStart-18*usHour, p.dayStart, size, r)
		if len(aud) == 0 {
			return nil
		}
		return e.buildCampaign(r, start, campaignSpec{service: true, waba: ww, number: -1, rate: rate, messageType: mt, audience: aud, dupShare: 0.003})
	}
	// The sender knows which templates are disabled when it plans the
	// day (Meta announces it), but not whether one is paused or has a
	// bug: it learns that from its errors (see holds).
	watched := r.Float64() < watchedShare
	checkAfter := int64(math.MaxInt64) // never reacts
	if watched {
		checkAfter = uniformDuration(r, usHour/2, 4*usHour)
	}
	t := e.pickTemplate(r, start, kind, w, func(t *template) bool {
		return (w < 0 || t.waba == w) && t.disabledAt == 0
	})
	if t < 0 || (w >= 0 && e.templates[t].waba != w) {
		return nil
	}
	tp := &e.templates[t]
	number := e.pickNumber(r, tp.waba, start, false)
	median := map[string]float64{pipeline.CategoryMarketing: 900, pipeline.CategoryUtility: 500, pipeline.CategoryAuthentication: 80}[kind]
	size := int(logNormal(r, median, 0.8))
	heavy := 0.0
	if kind == pipeline.CategoryMarketing && (w >= 0 || r.Float64() < 0.5) {
		heavy = 1
		size = min(size, e.pools[tp.pool].heavy*9/10)
	}
	// Keep under the number's messaging limit, but overshoot now and then.
	limit := e.believedLimit(number, start)
	overshoot := r.Float64() < 0.05
	used, ok := p.budget[int32(number)]
	if !ok && limit < math.MaxInt {
		// Recipients reached yesterday evening still count this morning.
		used = len(e.numbers[number].contacts.last) / 3
	}
	if left := limit - used; size > left {
		if overshoot {
			size = left + int(float64(limit)*uniform(r, 0.1, 0.8))
		} else {
			size = max(left, 0)
		}
	}
	var rate float64
	switch {
	case kind == pipeline.CategoryAuthentication:
		rate = []float64{0.5, 1, 2}[r.IntN(3)]
	case r.Float64() < fastCampaignShare:
		rate = float64(100 + 10*r.IntN(16))
	default:
		rate = normalRates[pick(r, normalRateWeights)]
	}
	if !inRange || size < 10 {
		return nil
	}
	c := e.buildCampaign(r, start, campaignSpec{template: t, number: number, size: size, rate: rate, heavyShare: heavy, dupShare: 0.003})
	c.watched, c.checkAfter = watched, checkAfter
	p.budget[int32(number)] = used + len(c.audience)
	return c
}

// believedLimit returns the messaging limit the sender plans a number's
// day with: its tier's, except that the sender does not look up the tier
// of a number in its first week and assumes youngNumberLimit.
func (e *engine) believedLimit(number int, t int64) int {
	n := &e.numbers[number]
	limit := tierLimits[n.tier]
	if n.registeredAt > math.MinInt64 && t-n.registeredAt < 7*usDay {
		limit = max(limit, youngNumberLimit)
	}
	return limit
}

// recentInbound returns up to n distinct recipients of WABA w who wrote in
// [from, to), drawn at random.
func (e *engine) recentInbound(w int, from, to int64, n int, r *rand.Rand) []int32 {
	e.stampGen++
	gen := e.stampGen
	var out []int32
	rec := e.recent[w]
	for i := len(rec) - 1; i >= 0; i-- {
		x := rec[i]
		if x.at >= to {
			continue
		}
		if x.at < from {
			break
		}
		if e.stamp[x.recipient] != gen {
			e.stamp[x.recipient] = gen
			out = append(out, x.recipient)
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:min(n, len(out))]
}

// startCampaign builds a history campaign and schedules its first send.
func (e *engine) startCampaign(r *rand.Rand, t int64, spec campaignSpec) {
	c := e.buildCampaign(r, t, spec)
	e.addCampaign(c)
}

func (e *engine) addCampaign(c *campaign) {
	if len(c.audience) == 0 {
		return
	}
	e.campaigns = append(e.campaigns, c)
	e.push(action{at: c.start, kind: actCampaignSend, a: int32(len(e.campaigns) - 1)})
}

// holds reports whether the sender calls campaign c off at time at: its
// WABA's token has been expired for c.checkAfter, or it has known of its
// template's incident for c.checkAfter and the incident is not over, or
// over for less than resumeDelay (Meta announces a pause with its end and
// a disabled template; the sender knows when its own fix ships).
func (e *engine) holds(c *campaign, at int64) bool {
	if c.checkAfter == 0 {
		return false
	}
	// An expired access token (every request refused with 190): the
	// sender holds campaigns until it is renewed.
	if gaps := e.wabas[c.waba].gaps; c.checkAfter < math.MaxInt64 {
		if i := searchIntervals(gaps, at); i >= 0 && at < gaps[i].to && at-gaps[i].from >= c.checkAfter {
			return true
		}
	}
	if c.template < 0 {
		return false
	}
	tp := &e.templates[c.template]
	if tp.errorAt == 0 || at-tp.errorSince < c.checkAfter || at-tp.errorAt > templateErrorMemory {
		return false
	}
	// It resumes a day after the incident is over, to be safe.
	return tp.disabledAt != 0 || at < tp.pausedUntil+resumeDelay ||
		tp.bugFix == 0 && at >= tp.bug.from && at < tp.bug.to+resumeDelay
}

// onCampaignSend runs the next send of a history campaign.
func (e *engine) onCampaignSend(a action) {
	if e.mode != modeHistory {
		return
	}
	c := e.campaigns[a.a]
	i := c.pos
	if i == 0 && e.holds(c, a.at) {
		e.stats.Cancelled++
		c.audience = nil
		return
	}
	s := send{
		key:         mix64(c.hash + uint64(i)*0x9e3779b97f4a7c15),
		at:          a.at,
		campaign:    c.id,
		waba:        c.waba,
		number:      c.number,
		template:    c.template,
		recipient:   c.audience[i],
		category:    c.category,
		messageType: c.messageType,
		media:       pipeline.NoMediaBytes,
		rate:        c.rate,
	}
	if c.messageType != "template" && c.messageType != "text" || c.template >= 0 && e.templates[c.template].media {
		s.media = e.mediaBytes(s.key, c.messageType)
	}
	pauses := -1
	if c.template >= 0 {
		pauses = e.templates[c.template].pauses
	}
	e.doSend(&s)
	c.pos++
	if c.watched && pauses >= 0 && e.templates[c.template].pauses > pauses {
		// Meta announces the template's pause (or disabling): the
		// sender stops the watched campaign it is running.
		e.stats.Stopped++
		c.audience = nil
		return
	}
	if c.pos < len(c.audience) {
		if t := c.sendTime(c.pos); t < e.asOf {
			e.push(action{at: t, kind: actCampaignSend, a: a.a})
			return
		}
	}
	c.audience = nil // done: free it
}

// onDay rolls the world over to a new UTC day (or starts the first one).
func (e *engine) onDay(at int64) {
	dayStart := at / usDay * usDay
	next := dayStart + usDay
	e.push(action{at: next, kind: actDay})
	if at == dayStart {
		e.rollTiers(at)
	}
	e.planInbound(dayStart, at)
	if e.mode != modeHistory {
		return
	}
	e.versionTemplates(dayStart, at)
	e.planDay(dayStart, at, e.asOf, e.addCampaign)
}

// rollTiers closes a day of the numbers' messaging-limit accounting: a
// number that used at least half its limit on two of the last seven days,
// with good quality, moves up a tier (at most once in three days).
func (e *engine) rollTiers(at int64) {
	for i := range e.numbers {
		n := &e.numbers[i]
		copy(n.peaks[1:], n.peaks[:len(n.peaks)-1])
		n.peaks[0] = n.peakToday
		n.peakToday = 0
		if n.tier >= len(tierLimits)-1 || at-n.upgradedAt < 3*usDay {
			continue
		}
		busy := 0
		for _, p := range n.peaks {
			if p*2 >= tierLimits[n.tier] {
				busy++
			}
		}
		if busy >= 2 && n.quality.valueAt(at) < 40 {
			n.tier++
			n.upgradedAt = at
			n.peaks = [7]int{}
			e.announceLimit(i, at, "UPGRADE")
		}
	}
}

// inboundRates are the daily rates of spontaneous inbound messages of the
// recipients' inbound classes (rare, occasional, chatty).
var inboundDailyChance = func() [3]float64 {
	rates := [3]float64{1.0 / 60, 1.0 / 10, 1.0 / 2}
	var p [3]float64
	for i, l := range rates {
		p[i] = 1 - math.Exp(-l)
	}
	return p
}()

// planInbound schedules the spontaneous inbound messages of the day
// starting at dayStart, from time from on. Each recipient's draw is keyed
// on (seed, day, recipient).
func (e *engine) planInbound(dayStart, from int64) {
	base := mix64(e.cfg.Seed ^ (streamInbound + uint64(dayStart/usDay)))
	for i := range e.recips {
		rc := &e.recips[i]
		if rc.invalid() {
			continue
		}
		h := mix64(base ^ uint64(i)*0xd1b54a32d192ed03)
		if unitFloat(h) >= inboundDailyChance[rc.inboundClass] {
			continue
		}
		t := dayStart + int64(mix64(h)%uint64(usDay))/usSecond*usSecond
		if t < from {
			continue
		}
		e.push(action{at: t, kind: actInbound, a: int32(i), b: -1, key: h})
	}
}

// versionTemplates lets the sender publish new template versions (some
// with a parameter bug in its integration for a while) and replace
// templates that were disabled.
func (e *engine) versionTemplates(dayStart, from int64) {
	r := newStream(e.cfg.Seed, streamVersions+uint64(dayStart/usDay))
	at := dayStart + uniformDuration(r, 0, 8*usHour)/usSecond*usSecond
	if at < from {
		return
	}
	for w := range e.wabas {
		if r.Float64() >= newVersionChance {
			continue
		}
		cat := pipeline.CategoryMarketing
		if r.Float64() < 0.4 {
			cat = pipeline.CategoryUtility
		}
		t := e.pickTemplate(r, at, cat, w, func(t *template) bool { return t.waba == w && t.disabledAt == 0 })
		if t < 0 || e.templates[t].waba != w {
			continue
		}
		v := e.newVersion(t, at)
		if r.Float64() < buggyVersionShare {
			nt := &e.templates[v]
			// The bug lasts until the sender has seen its errors and
			// shipped a fix: hours to a few days after the first one.
			nt.bug = interval{at, math.MaxInt64}
			nt.bugFix = bugFixDelay(r)
			nt.bugCode = 132000
			if r.Float64() < 0.4 {
				nt.bugCode = 132012
			}
		}
	}
	for i := range e.templates {
		if t := &e.templates[i]; t.disabledAt != 0 && t.disabledAt < dayStart && t.usableAt(at) {
			e.newVersion(i, at)
		}
	}
}

// bugFixDelay draws how long after a template bug's first failure the
// sender's fix goes out: log-normal, median 3 days, between 12 h and a week.
func bugFixDelay(r *rand.Rand) int64 {
	d := int64(logNormal(r, float64(72*usHour), 0.4))
	return min(max(d, 12*usHour), 168*usHour) / usSecond * usSecond
}

// onInbound records a message from a recipient to the business. It opens
// the recipient's 24-hour service window.
func (e *engine) onInbound(a action) {
	rc := &e.recips[a.a]
	num := a.b
	if num < 0 {
		if rc.lastNumber >= 0 {
			num = rc.lastNumber
		} else {
			// A number the WABA has registered by now.
			nums := e.wabas[rc.waba].numbers
			num = int32(nums[a.key%uint64(len(nums))])
			if e.numbers[num].registeredAt > a.at {
				num = int32(nums[0])
			}
		}
	}
	rc.lastInbound = a.at
	w := e.numbers[num].waba
	e.stats.Inbound++
	rec := e.recent[w]
	if len(rec) > 1024 && rec[0].at < a.at-96*usHour {
		cut := 0
		for cut < len(rec) && rec[cut].at < a.at-80*usHour {
			cut++
		}
		rec = append(rec[:0], rec[cut:]...)
	}
	e.recent[w] = append(rec, inboundRecord{a.at, a.a})
	if e.out != nil {
		rec := &sendRecord{
			messageID: wamid(a.key), category: pipeline.CategoryService, messageType: "text",
			media: pipeline.NoMediaBytes, waba: int32(w), number: num, template: -1, recipient: a.a,
		}
		e.out.add(rec, pipeline.StatusInbound, a.at, pipeline.NoErrorCode)
	}
	if e.mode != modeHistory {
		return
	}
	// The business answers most messages, usually quickly; a backlog now
	// and then pushes the answer past the 24-hour window.
	h := mix64(a.key ^ 0x53555050)
	if unitFloat(h) >= 0.55 {
		return
	}
	var delay int64
	switch x := unitFloat(mix64(h)); {
	case x < 0.85:
		delay = usMinute + int64(unitFloat(mix64(h+1))*float64(59*usMinute))
	case x < 0.97:
		delay = usHour + int64(unitFloat(mix64(h+1))*float64(11*usHour))
	default:
		delay = 20*usHour + int64(unitFloat(mix64(h+1))*float64(20*usHour))
	}
	e.push(action{at: a.at + delay/1000*1000, kind: actSupportReply, a: a.a, b: num, key: h})
}

// onSupportReply sends the business's answer to an inbound message: a
// free-form text, which needs an open 24-hour window.
func (e *engine) onSupportReply(a action) {
	if e.mode != modeHistory {
		return
	}
	s := send{
		key:         a.key,
		at:          a.at,
		waba:        int32(e.numbers[a.b].waba),
		number:      a.b,
		template:    -1,
		recipient:   a.a,
		category:    pipeline.CategoryService,
		messageType: "text",
		media:       pipeline.NoMediaBytes,
	}
	e.doSend(&s)
}
