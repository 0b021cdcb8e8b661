package features

import (
	"math"

	"github.com/failcast/failcast/pipeline"
)

// This file holds the outcome state: what the engine knows from statuses,
// errors and inbound messages. It is only ever updated by the outcome
// cursor (records with Timestamp < cutoff) and only read by outcome
// blocks, so no schedule-clock value can leak outcomes into it.

const (
	usPerSec  = int64(1_000_000)
	usPerHour = 3600 * usPerSec
	usPerDay  = 24 * usPerHour
)

// Code groups tracked by the group entities (phone, template, campaign,
// account, country).
const (
	grpRateLimit = iota // 130429, 131056, 131048
	grpTransient        // family transient (131000, 131016, 5xx, ...)
	grpAuth             // family auth (190, 0, 10, ...)
	grpToken            // 190, access token expired
	grpPause            // 132015, template paused
	grpDisabled         // 132016, template disabled
	grpParam            // 132000, 132012, template parameter errors
	numGroups
)

// codeGroupMask returns the code groups an error code belongs to.
func codeGroupMask(code int32, fam pipeline.Family) uint8 {
	var m uint8
	switch code {
	case 130429, 131056, 131048:
		m |= 1 << grpRateLimit
	case 190:
		m |= 1 << grpToken
	case 132015:
		m |= 1 << grpPause
	case 132016:
		m |= 1 << grpDisabled
	case 132000, 132012:
		m |= 1 << grpParam
	}
	switch fam {
	case pipeline.FamilyTransient:
		m |= 1 << grpTransient
	case pipeline.FamilyAuth:
		m |= 1 << grpAuth
	}
	return m
}

// Decay time constants. A decayed count c, last updated at L, is worth
// c*exp(-(T-L)/tau) at time T: a smooth stand-in for "events in the last
// tau" that needs one float per window instead of a ring of buckets.
var (
	recipTau = [3]float64{24 * 3600, 7 * 24 * 3600, 30 * 24 * 3600} // seconds: 24 h, 7 d, 30 d
	groupTau = [3]float64{1 * 3600, 24 * 3600, 7 * 24 * 3600}       // seconds: 1 h, 24 h, 7 d
)

// recipFactors returns exp(-dtSec/tau) for the recipTau, from one
// exponential: with g = exp(-dt/210 d), they are g^210, g^30 and g^7
// (a few multiplications, exact to about 1e-13, far below float32).
func recipFactors(dtSec float64) [3]float32 {
	if dtSec <= 0 {
		return [3]float32{1, 1, 1}
	}
	g := expNeg(dtSec / (210 * recipTau[0]))
	g2 := g * g
	g7 := g2 * g2 * g2 * g
	g30 := g7 * g7
	g30 *= g30 * g2
	g210 := g30 * g30
	g210 *= g210 * g210 * g30 // g^60 * g^120 * g^30
	return [3]float32{float32(g210), float32(g30), float32(g7)}
}

// groupFactorsOf returns exp(-dtSec/tau) for the groupTau from one
// exponential: with g = exp(-dt/7 d), they are g^168, g^7 and g.
func groupFactorsOf(dtSec float64) [3]float32 {
	if dtSec <= 0 {
		return [3]float32{1, 1, 1}
	}
	g := expNeg(dtSec / groupTau[2])
	g2 := g * g
	g7 := g2 * g2 * g2 * g
	h3 := g7 * g7 * g7 // g^21
	h24 := h3 * h3
	h24 *= h24
	h24 *= h24 // g^168
	return [3]float32{float32(h24), float32(g7), float32(g)}
}

// expNeg returns exp(-x) for x >= 0. Busy entities are updated every few
// seconds, where x is tiny and a short series is exact to float32
// precision and much cheaper than math.Exp.
func expNeg(x float64) float64 {
	if x < 1e-3 {
		return 1 - x*(1-x*(0.5-x*(1.0/6)))
	}
	return math.Exp(-x)
}

// recipFamilies are the error families each recipient counts separately
// (the others are account- or template-level causes, counted there).
var recipFamilies = [...]pipeline.Family{pipeline.FamilyRecipient, pipeline.FamilyThrottle, pipeline.FamilyPayload, pipeline.FamilyMedia, pipeline.FamilyTransient}

var recipFamilyIndex = func() (idx [pipeline.NumFamilies]int8) {
	for i := range idx {
		idx[i] = -1
	}
	for k, f := range recipFamilies {
		idx[f] = int8(k)
	}
	return idx
}()

// recipOutcome is the outcome state of one recipient (148 bytes). Times
// are Unix seconds, 0 meaning never.
type recipOutcome struct {
	last          uint32     // time of the last decay update
	delivered     [3]float32 // decayed over 24 h, 7 d, 30 d
	read          [3]float32
	failed        [3]float32
	family        [len(recipFamilies)]float32 // failures by recipFamilies, decayed over 30 d
	code          [5]float32                  // failures by KeyCodes, decayed over 30 d
	codeLast      [5]uint32
	lastDelivered uint32
	lastRead      uint32
	lastFailed    uint32
	lastInbound   uint32
	consecFailed  uint16
	lastFamily    int8 // -1: no outcome yet
}

func (r *recipOutcome) decayTo(sec uint32) {
	if r.last == 0 {
		r.last = sec
		return
	}
	if sec <= r.last {
		return
	}
	dt := float64(sec - r.last)
	f := recipFactors(dt)
	for i := range 3 {
		r.delivered[i] *= f[i]
		r.read[i] *= f[i]
		r.failed[i] *= f[i]
	}
	for i := range r.family {
		r.family[i] *= f[2]
	}
	for i := range r.code {
		r.code[i] *= f[2]
	}
	r.last = sec
}

// groupOutcome is the outcome state of a phone number, template, campaign,
// account or country (232 bytes).
type groupOutcome struct {
	last       int64      // µs of the last decay update
	sends      [3]float32 // sends whose send event is before cutoff, decayed over 1 h, 24 h, 7 d
	failed     [3]float32
	family     [pipeline.NumFamilies]float32 // failures by family, decayed over 7 d
	group      [numGroups]float32            // failures by code group, decayed over 24 h
	groupLast  [numGroups]int64              // µs, 0 = never
	spam131048 int64                         // phone only: µs of the last 131048 (spam rate limit), 0 = never
	maxUniqOK  int32                         // phone only: most unique recipients in 24 h reached without a 131048 in the 24 h before
	// Phone only: credits to maxUniqOK still waiting for a 131048 that
	// would void them (see creditUnique): the most unique recipients of
	// the sends in the bucket [pendStart, pendStart+tierCreditDelay)
	// and in the bucket before it.
	pendStart   int64
	pendPrev    int32
	pendCurrent int32
	// The decay factors from last to fCutoff, kept because the state and
	// the cutoff change only when the cutoff moves on (with the Refresh
	// grid in training, never when scoring), while every send reads them.
	f       [3]float32
	fCutoff int64
	fLast   int64
}

func (g *groupOutcome) decayTo(ts int64) {
	if g.last == 0 {
		g.last = ts
		return
	}
	if ts <= g.last {
		return
	}
	f := groupFactorsOf(float64(ts-g.last) / 1e6)
	for i := range 3 {
		g.sends[i] *= f[i]
		g.failed[i] *= f[i]
	}
	for i := range g.family {
		g.family[i] *= f[2]
	}
	for i := range g.group {
		g.group[i] *= f[1]
	}
	g.last = ts
}

func (g *groupOutcome) addSend(ts int64) {
	g.decayTo(ts)
	for i := range g.sends {
		g.sends[i]++
	}
}

func (g *groupOutcome) addFailure(ts int64, fam pipeline.Family, groups uint8) {
	g.decayTo(ts)
	for i := range g.failed {
		g.failed[i]++
	}
	g.family[fam]++
	for i := range numGroups {
		if groups&(1<<i) != 0 {
			g.group[i]++
			g.groupLast[i] = ts
		}
	}
}

// tierCreditDelay is how long a send's unique-recipient count waits
// before it counts as reached without a 131048: the failures of the
// sends over a messaging limit come seconds after them, and before
// they come the sends look fine.
const tierCreditDelay = 10 * 60 * usPerSec

// creditUnique notes a phone's send at ts that reached uniq unique
// recipients in 24 h. Sends within 24 h after a 131048 earn no credit;
// the others' credits wait in two buckets of tierCreditDelay and count
// once the newer bucket is that old (a 131048 meanwhile voids them).
func (g *groupOutcome) creditUnique(ts int64, uniq int32) {
	if ts >= g.pendStart+tierCreditDelay {
		g.maxUniqOK = max(g.maxUniqOK, g.pendPrev)
		if ts >= g.pendStart+2*tierCreditDelay {
			g.maxUniqOK = max(g.maxUniqOK, g.pendCurrent)
			g.pendPrev = 0
		} else {
			g.pendPrev = g.pendCurrent
		}
		g.pendCurrent = 0
		g.pendStart = ts - (ts-g.pendStart)%tierCreditDelay
	}
	if g.spam131048 == 0 || ts-g.spam131048 >= usPerDay {
		g.pendCurrent = max(g.pendCurrent, uniq)
	}
}

// uniqReached returns the most unique recipients in 24 h the phone
// reached without a 131048, as known at cutoff: the pending credits
// count once tierCreditDelay has passed over them by then.
func (g *groupOutcome) uniqReached(cutoff int64) int32 {
	m := g.maxUniqOK
	if cutoff >= g.pendStart+tierCreditDelay {
		m = max(m, g.pendPrev)
	}
	if cutoff >= g.pendStart+2*tierCreditDelay {
		m = max(m, g.pendCurrent)
	}
	return m
}

// outcomeState is everything known from outcomes before the cutoff.
type outcomeState struct {
	recip   pagedState[recipOutcome]
	phone   []groupOutcome
	tpl     []groupOutcome
	camp    []groupOutcome
	waba    []groupOutcome
	country []groupOutcome
	acct    accountState
	param   paramEpisodes // the templates' parameter error episodes
}

// grow extends s with zero values to hold index id. It keeps append's
// growth policy: big slices grow by a quarter, so little capacity sits
// unused (which matters more at the peak than the garbage left behind).
func grow[T any](s []T, id int32, zero T) []T {
	for int(id) >= len(s) {
		s = append(s, zero)
	}
	return s
}

func (o *outcomeState) ensure(ids *entityIDs) {
	o.recip.ensure(ids.recip)
	o.phone = grow(o.phone, ids.phone, groupOutcome{})
	o.tpl = grow(o.tpl, ids.tpl, groupOutcome{})
	o.camp = grow(o.camp, ids.camp, groupOutcome{})
	o.waba = grow(o.waba, ids.waba, groupOutcome{})
	o.country = grow(o.country, ids.country, groupOutcome{})
	o.acct.ensure(ids)
}

// apply folds one outcome-clock record into the state.
func (o *outcomeState) apply(r *record) {
	o.ensure(&r.ids)
	sec := uint32(r.ts / usPerSec)
	switch r.kind {
	case recAccount:
		o.acct.apply(r)
	case recSend:
		o.phone[r.ids.phone].addSend(r.ts)
		o.tpl[r.ids.tpl].addSend(r.ts)
		o.param.send(r.ids.tpl, o.tpl[r.ids.tpl].group[grpParam]/(o.tpl[r.ids.tpl].sends[1]+1))
		o.camp[r.ids.camp].addSend(r.ts)
		o.waba[r.ids.waba].addSend(r.ts)
		o.country[r.ids.country].addSend(r.ts)
		o.phone[r.ids.phone].creditUnique(r.ts, r.uniq24)
	case recOutcome:
		rc := o.recip.at(r.ids.recip)
		switch r.status {
		case pipeline.StatusDelivered:
			rc.decayTo(sec)
			for i := range rc.delivered {
				rc.delivered[i]++
			}
			rc.lastDelivered = sec
			rc.consecFailed = 0
			rc.lastFamily = 0
		case pipeline.StatusRead:
			rc.decayTo(sec)
			for i := range rc.read {
				rc.read[i]++
			}
			rc.lastRead = sec
			rc.consecFailed = 0
			rc.lastFamily = 0
		case pipeline.StatusInbound:
			rc.lastInbound = sec
		case pipeline.StatusFailed:
			rc.decayTo(sec)
			for i := range rc.failed {
				rc.failed[i]++
			}
			if k := recipFamilyIndex[r.family]; k >= 0 {
				rc.family[k]++
			}
			if k := keyCodeIndex(r.code); k >= 0 {
				rc.code[k]++
				rc.codeLast[k] = sec
			}
			rc.lastFailed = sec
			if rc.consecFailed < math.MaxUint16 {
				rc.consecFailed++
			}
			rc.lastFamily = int8(r.family)
			o.phone[r.ids.phone].addFailure(r.ts, r.family, r.groups)
			if r.code == 131048 {
				p := &o.phone[r.ids.phone]
				// The sends waiting for credit may be the ones over the
				// limit, this failure's among them: void their credit.
				p.spam131048, p.pendPrev, p.pendCurrent = r.ts, 0, 0
			}
			o.tpl[r.ids.tpl].addFailure(r.ts, r.family, r.groups)
			if r.groups&(1<<grpParam) != 0 {
				o.param.fail(r.ids.tpl, r.ts)
			}
			o.camp[r.ids.camp].addFailure(r.ts, r.family, r.groups)
			o.waba[r.ids.waba].addFailure(r.ts, r.family, r.groups)
			o.country[r.ids.country].addFailure(r.ts, r.family, r.groups)
		}
	}
}
