package simulate

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// Plan returns the upcoming campaign plan: the campaigns the sender plans
// for the PlanDays after AsOf, and a few risky ones whose causes are visible
// in the history or in the plan itself: a campaign above the throughput, one
// above its number's messaging limit, one with a paused template, one with a
// buggy template version, marketing to fatigued and opted-out recipients,
// service texts outside the 24-hour window, duplicates that hit the pair
// rate, image templates with oversized media, and campaigns of a WABA whose
// token expires near the end of the plan. Sends are ordered by ScheduledAt
// (then SendID); the sends of a campaign are spaced 1/rate seconds apart.
func (w *World) Plan() []pipeline.PlannedSend {
	if w.plan == nil {
		w.plan = w.eng.clone().buildPlan()
	}
	return slices.Clone(w.plan)
}

// buildPlan draws the plan on a clone of the world at AsOf.
func (e *engine) buildPlan() []pipeline.PlannedSend {
	end := e.cfg.planEnd()
	if end <= e.asOf {
		return []pipeline.PlannedSend{}
	}
	var cs []*campaign
	add := func(c *campaign) {
		if c != nil && len(c.audience) > 0 && c.start < end {
			cs = append(cs, c)
		}
	}
	// The sender does not plan watched campaigns on templates it knows
	// to be paused, disabled or broken at their start.
	addUnheld := func(c *campaign) {
		if c != nil && !e.holds(c, c.start) {
			add(c)
		}
	}
	for day := e.asOf / usDay * usDay; day < end; day += usDay {
		e.planDay(day, e.asOf, end, addUnheld)
	}
	e.planRisks(add)

	var plan []pipeline.PlannedSend
	for _, c := range cs {
		for i, rcp := range c.audience {
			at := c.sendTime(i)
			if at >= end {
				break
			}
			ps := pipeline.PlannedSend{
				SendID:          c.id + "-" + pad6(i),
				CampaignID:      c.id,
				WABAID:          e.wabas[c.waba].id,
				PhoneNumberID:   e.numbers[c.number].id,
				Recipient:       e.hashOf[rcp],
				Country:         e.countryOf[rcp],
				Category:        c.category,
				MessageType:     c.messageType,
				MediaBytes:      pipeline.NoMediaBytes,
				ScheduledAt:     at,
				CampaignRateMPS: c.rate,
			}
			if c.template >= 0 {
				t := &e.templates[c.template]
				ps.Template, ps.Language = t.name, t.language
				if t.media {
					ps.MediaBytes = e.mediaBytes(sendKey(ps.SendID), "image")
				}
			} else if c.messageType != "text" {
				ps.MediaBytes = e.mediaBytes(sendKey(ps.SendID), c.messageType)
			}
			plan = append(plan, ps)
		}
	}
	slices.SortStableFunc(plan, func(a, b pipeline.PlannedSend) int {
		if a.ScheduledAt != b.ScheduledAt {
			if a.ScheduledAt < b.ScheduledAt {
				return -1
			}
			return 1
		}
		if a.SendID < b.SendID {
			return -1
		}
		if a.SendID > b.SendID {
			return 1
		}
		return 0
	})
	return plan
}

func pad6(i int) string {
	s := strconv.Itoa(i)
	for len(s) < 6 {
		s = "0" + s
	}
	return s
}

// planRisks adds the scripted risky campaigns of the plan.
func (e *engine) planRisks(add func(*campaign)) {
	r := newStream(e.cfg.Seed, streamPlan)
	end := e.cfg.planEnd()
	at := func(h int64) int64 { return min(e.asOf+h*usHour, end-usHour) }
	marketing := func(w int) int {
		return e.pickTemplate(r, e.asOf, pipeline.CategoryMarketing, w, func(t *template) bool {
			return t.disabledAt == 0 && e.asOf >= t.pausedUntil && t.bug.to <= e.asOf && !t.media
		})
	}
	// Above throughput: planned at 200 messages per second.
	if t := marketing(0); t >= 0 {
		add(e.buildCampaign(r, at(10), campaignSpec{template: t, number: -1, established: true, size: 1500, rate: 200, dupShare: 0.003}))
	}
	// Above the messaging limit: the smallest-tier number (the young one),
	// a third over its limit.
	small := 0
	for i := range e.numbers {
		n, m := &e.numbers[i], &e.numbers[small]
		if n.tier < m.tier || n.tier == m.tier && n.registeredAt > m.registeredAt {
			small = i
		}
	}
	if t := e.pickTemplate(r, e.asOf, pipeline.CategoryUtility, e.numbers[small].waba, func(t *template) bool {
		return t.waba == e.numbers[small].waba && t.disabledAt == 0 && e.asOf >= t.pausedUntil && t.bug.to <= e.asOf
	}); t >= 0 {
		size := min(tierLimits[e.numbers[small].tier]*4/3, 3000)
		add(e.buildCampaign(r, at(11), campaignSpec{template: t, number: small, size: size, rate: 40}))
	}
	// A template that is paused now (the pause is in the history: its
	// second, 6 h from 2 h before as-of).
	if t := e.scripted.pausedTemplate; t >= 0 && e.templates[t].pausedUntil > e.asOf+usHour {
		add(e.buildCampaign(r, at(1), campaignSpec{template: t, number: -1, established: true, size: 400, rate: 40}))
	}
	// A template version with a parameter bug (failures in the history).
	if t := e.scripted.buggyTemplate; t >= 0 {
		add(e.buildCampaign(r, at(12), campaignSpec{template: t, number: -1, established: true, size: 500, rate: 30}))
	}
	// Marketing to the most fatigued recipients, opted-out ones included.
	if t := marketing(0); t >= 0 {
		add(e.buildCampaign(r, at(8), campaignSpec{template: t, number: -1, established: true, rate: 50, audience: e.fatigued(e.templates[t].pool, 300)}))
	}
	// Service texts to recipients whose last message is a day or more old.
	for w := range e.wabas {
		aud := e.recentInbound(w, e.asOf-60*usHour, e.asOf-20*usHour, 250, r)
		if len(aud) > 0 {
			add(e.buildCampaign(r, at(6), campaignSpec{service: true, waba: w, number: -1, established: true, rate: 10, messageType: "text", audience: aud}))
			break
		}
	}
	// Duplicate audience rows (pair rate).
	if t := marketing(1 % len(e.wabas)); t >= 0 {
		add(e.buildCampaign(r, at(14), campaignSpec{template: t, number: -1, established: true, size: 1200, rate: 60, dupShare: 0.03}))
	}
	// An image template (some media over the limit).
	if t := e.pickTemplate(r, e.asOf, pipeline.CategoryMarketing, 2%len(e.wabas), func(t *template) bool {
		return t.media && t.disabledAt == 0 && e.asOf >= t.pausedUntil
	}); t >= 0 {
		add(e.buildCampaign(r, at(13), campaignSpec{template: t, number: -1, established: true, size: 1000, rate: 50}))
	}
	// WABA 0's token expires near the end of the plan.
	gaps := e.wabas[0].gaps
	if i := searchIntervals(gaps, end); i >= 0 && gaps[i].from > e.asOf && gaps[i].from < end-usHour {
		if t := e.pickTemplate(r, e.asOf, pipeline.CategoryUtility, 0, func(t *template) bool {
			return t.waba == 0 && t.disabledAt == 0 && e.asOf >= t.pausedUntil && t.bug.to <= e.asOf
		}); t >= 0 {
			start := gaps[i].from - 10*usMinute
			add(e.buildCampaign(r, start/usSecond*usSecond, campaignSpec{template: t, number: -1, established: true, size: 800, rate: 0.5}))
		}
	}
}

// fatigued returns up to n recipients of a pool with the most marketing in
// the last 24 hours at AsOf, then opted-out ones.
func (e *engine) fatigued(p int, n int) []int32 {
	type cand struct {
		r      int32
		day    int
		optout bool
	}
	var cs []cand
	for _, m := range e.pools[p].members {
		rc := &e.recips[m]
		day, _ := rc.marketingCounts(e.asOf)
		out := rc.optedOutAt != 0 && rc.optedOutAt <= e.asOf
		if day >= 2 || out {
			cs = append(cs, cand{m, day, out})
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return b.day - a.day })
	var aud []int32
	outs := 0
	for _, c := range cs {
		if len(aud) >= n {
			break
		}
		if c.optout {
			if outs >= n/10 {
				continue
			}
			outs++
		}
		aud = append(aud, c.r)
	}
	return aud
}

// planRun is the plan being played in plan mode.
type planRun struct {
	sends []send
	codes []int32
}

// resolve turns plan rows into sends of this world. Rows naming an unknown
// WABA or phone number are an error; an unknown recipient is a new, valid
// one without history; an unknown template is a healthy one.
func (e *engine) resolve(plan []pipeline.PlannedSend) ([]send, error) {
	numbers := make(map[string]int32, len(e.numbers))
	for i := range e.numbers {
		numbers[e.numbers[i].id] = int32(i)
	}
	wabas := make(map[string]int32, len(e.wabas))
	for i := range e.wabas {
		wabas[e.wabas[i].id] = int32(i)
	}
	recips := make(map[string]int32, len(e.recips))
	for i, h := range e.hashOf {
		recips[h] = int32(i)
	}
	sends := make([]send, len(plan))
	for i := range plan {
		p := &plan[i]
		num, ok := numbers[p.PhoneNumberID]
		if !ok {
			return nil, fmt.Errorf("plan row %d (send %s): column %s: phone number %q is not in the simulated world", i+1, p.SendID, pipeline.ColPhoneNumberID, p.PhoneNumberID)
		}
		w, ok := wabas[p.WABAID]
		if !ok {
			return nil, fmt.Errorf("plan row %d (send %s): column %s: WABA %q is not in the simulated world", i+1, p.SendID, pipeline.ColWABAID, p.WABAID)
		}
		rcp, ok := recips[p.Recipient]
		if !ok {
			rcp = e.newRecipient(p.Recipient, int(w))
			recips[p.Recipient] = rcp
		}
		tpl := int32(-1)
		if p.Template != "" {
			if t, ok := e.templateIndex[p.Template+"|"+p.Language]; ok {
				tpl = int32(t)
			} else {
				tpl = int32(e.addTemplate(template{slug: p.Template, language: p.Language, category: p.Category, waba: int(w), retiredAt: math.MaxInt64}))
			}
		}
		sends[i] = send{
			key:         sendKey(p.SendID),
			at:          p.ScheduledAt,
			campaign:    p.CampaignID,
			waba:        w,
			number:      num,
			template:    tpl,
			recipient:   rcp,
			category:    p.Category,
			messageType: p.MessageType,
			media:       p.MediaBytes,
			rate:        p.CampaignRateMPS,
		}
	}
	return sends, nil
}

// newRecipient adds a recipient the world has not seen (in plan mode).
func (e *engine) newRecipient(hash string, w int) int32 {
	e.recips = append(e.recips, recipient{waba: int16(w), lastNumber: -1, pairNumber: [2]int32{-1, -1}, pool: -1})
	e.hashOf = append(slices.Clip(e.hashOf), hash)
	e.numberOf = append(slices.Clip(e.numberOf), "")
	e.countryOf = append(slices.Clip(e.countryOf), countries[0].iso)
	e.stamp = append(e.stamp, 0)
	return int32(len(e.recips) - 1)
}

// playPlan runs sends forward from AsOf on e (a clone) and returns their
// error codes, in the order of sends.
func (e *engine) playPlan(ctx context.Context, sends []send) ([]int32, error) {
	e.mode = modePlan
	e.plan = &planRun{sends: sends, codes: make([]int32, len(sends))}
	last := e.asOf
	for i := range sends {
		if sends[i].at < e.asOf {
			return nil, fmt.Errorf("plan send %d is scheduled at %s, before the world's as-of time %s", i+1,
				fmtMicros(sends[i].at), fmtMicros(e.asOf))
		}
		last = max(last, sends[i].at)
		e.plan.codes[i] = pipeline.NoErrorCode
	}
	// Sends go in time order; simultaneous ones in plan order.
	for i := range sends {
		e.push(action{at: sends[i].at, kind: actPlanSend, a: int32(i)})
	}
	if err := e.runUntil(ctx, last+usHour); err != nil {
		return nil, fmt.Errorf("simulate plan: %w", err)
	}
	return e.plan.codes, nil
}

// onPlanSend runs a planned send. A paced send (the sender's pacer holds
// it) waits until the pair rate allows it.
func (e *engine) onPlanSend(a action) {
	s := &e.plan.sends[a.a]
	s.at = a.at
	if s.paced {
		rc := &e.recips[s.recipient]
		for j := range rc.pairAt {
			if rc.pairNumber[j] == s.number && s.at-rc.pairAt[j] < pairWindow {
				e.push(action{at: rc.pairAt[j] + pairWindow, kind: actPlanSend, a: a.a})
				return
			}
		}
	}
	e.plan.codes[a.a] = e.doSend(s)
}

// Outcomes continues the world from AsOf with the plan's sends and returns
// the true outcome of each, in plan order. Draws of a send are keyed on its
// SendID, so adding or removing other sends changes its outcome only
// through the world's state (marketing load, limits, pair rate).
func (w *World) Outcomes(ctx context.Context, plan []pipeline.PlannedSend) ([]pipeline.PlanOutcome, error) {
	e := w.eng.clone()
	sends, err := e.resolve(plan)
	if err != nil {
		return nil, err
	}
	codes, err := e.playPlan(ctx, sends)
	if err != nil {
		return nil, err
	}
	out := make([]pipeline.PlanOutcome, len(plan))
	for i := range plan {
		out[i] = pipeline.PlanOutcome{SendID: plan[i].SendID, Failed: codes[i] != pipeline.NoErrorCode, ErrorCode: codes[i]}
	}
	return out, nil
}

// fmtMicros formats a contract timestamp as RFC 3339.
func fmtMicros(t int64) string { return time.UnixMicro(t).UTC().Format(time.RFC3339Nano) }
