package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/failcast/failcast/pipeline"
)

// countryInfo describes how the numbers of a country look.
type countryInfo struct {
	iso         string
	calling     string   // international calling code
	language    string   // template language code used for the country
	prefixes    []string // digits after the calling code (area or mobile prefixes)
	localDigits int      // digits after the prefix
	names       []string // first names for inbound contact profiles
}

// Country indexes into countries.
const (
	countryBR = iota
	countryMX
	countryIN
	countryID
	countryUS
	countryGB
	countryDE
	countryNG
	countryCA
)

var countries = []countryInfo{
	countryBR: {"BR", "55", "pt_BR", []string{"119", "219", "319", "419", "519", "619", "719", "819", "859", "919"}, 8, []string{"Ana", "João", "Maria", "Lucas"}},
	countryMX: {"MX", "52", "es_MX", []string{"55", "33", "81", "22"}, 8, []string{"Sofía", "Diego", "Valeria", "José"}},
	countryIN: {"IN", "91", "en", []string{"9", "8", "7", "6"}, 9, []string{"Priya", "Rahul", "Anjali", "Arjun"}},
	countryID: {"ID", "62", "id", []string{"81", "82", "85", "87"}, 8, []string{"Putri", "Budi", "Siti", "Agus"}},
	// North American numbers: area code and the first digit of the
	// exchange (2-9), so that they are valid NANP numbers; Canada shares
	// the calling code 1 with the US.
	countryUS: {"US", "1", "en_US", []string{"2125", "4155", "3057", "3128", "6465", "7024"}, 6, []string{"Emily", "Michael", "Jessica", "David"}},
	countryGB: {"GB", "44", "en_GB", []string{"74", "75", "77", "78", "79"}, 8, []string{"Olivia", "Harry", "Amelia", "George"}},
	countryDE: {"DE", "49", "de", []string{"151", "152", "160", "170", "176"}, 8, []string{"Lena", "Jonas", "Mia", "Felix"}},
	countryNG: {"NG", "234", "en_NG", []string{"803", "806", "810", "813", "703", "905"}, 7, []string{"Chinedu", "Aisha", "Tunde", "Ngozi"}},
	countryCA: {"CA", "1", "en", []string{"4163", "6045", "5142", "4036", "6137", "7785"}, 6, []string{"Olivia", "Liam", "Emma", "Noah"}},
}

// regions are the markets a WABA serves: countries and their shares of the
// WABA's recipients. WABA w serves regions[w % len(regions)].
var regions = [][]struct {
	country int
	share   float64
}{
	{{countryBR, 0.65}, {countryMX, 0.35}},
	{{countryIN, 0.6}, {countryID, 0.4}},
	{{countryUS, 0.12}, {countryCA, 0.13}, {countryGB, 0.30}, {countryDE, 0.15}, {countryNG, 0.30}},
}

// numberMultiplier is coprime with 10, so serial -> digits is a bijection
// modulo every power of ten: generated numbers never collide.
const numberMultiplier = 25214903917

// phoneNumberOf returns the recipient number (E.164 digits, no "+") of the
// serial-th recipient of a country.
func phoneNumberOf(seed uint64, country int, serial uint32) string {
	c := &countries[country]
	mod := uint64(math.Pow10(c.localDigits))
	h := mix64(seed ^ uint64(country)<<56 ^ uint64(serial))
	local := (uint64(serial)*numberMultiplier + mix64(seed+uint64(country))) % mod
	prefix := c.prefixes[h%uint64(len(c.prefixes))]
	digits := strconv.FormatUint(local, 10)
	buf := make([]byte, 0, len(c.calling)+len(prefix)+c.localDigits)
	buf = append(buf, c.calling...)
	buf = append(buf, prefix...)
	for i := len(digits); i < c.localDigits; i++ {
		buf = append(buf, '0')
	}
	buf = append(buf, digits...)
	return string(buf)
}

// Recipient flags.
const (
	flagHeavy   uint8 = 1 << iota // in the loyalty segment that gets most marketing
	flagInvalid                   // the number is not on WhatsApp: every send fails 131026
)

// mktRing is how many recent marketing deliveries a recipient remembers.
const mktRing = 12

// recipient is the compact state of one recipient.
type recipient struct {
	lastInbound  int64 // last inbound message (0 = never)
	optedOutAt   int64 // opted out of marketing from this time on (0 = never)
	mkt          [mktRing]int64
	pairAt       [2]int64 // the two last successful sends ...
	pairNumber   [2]int32 // ... and their phone numbers
	lastNumber   int32    // phone number of the last successful send (-1 none)
	serial       uint32   // index within the country, gives the number
	pool         int32
	waba         int16
	mktHead      uint8
	country      uint8
	flags        uint8
	inboundClass uint8
}

func (r *recipient) heavy() bool   { return r.flags&flagHeavy != 0 }
func (r *recipient) invalid() bool { return r.flags&flagInvalid != 0 }

// marketingCounts returns the marketing messages delivered to r in the 24 h
// and 7 days before t (the 7-day count saturates at mktRing).
func (r *recipient) marketingCounts(t int64) (day, week int) {
	for _, at := range r.mkt {
		if at == 0 || at > t {
			continue
		}
		if at > t-usDay {
			day++
		}
		if at > t-7*usDay {
			week++
		}
	}
	return day, week
}

func (r *recipient) addMarketing(t int64) {
	r.mkt[r.mktHead] = t
	r.mktHead = (r.mktHead + 1) % mktRing
}

// pool is the recipients of one WABA in one country, loyalty segment first.
type pool struct {
	waba, country int
	members       []int32
	heavy         int // members[:heavy] are in the loyalty segment
}

// waba is a WhatsApp Business Account.
type waba struct {
	id      string
	numbers []int
	pools   []int
	gaps    []interval // token expired: [expiry, renewal)
	ttl     int64
}

// interval is a half-open time interval in microseconds.
type interval struct{ from, to int64 }

// phoneNumber is a sender phone number and its messaging-limit state.
type phoneNumber struct {
	id, display  string
	waba         int
	tier         int
	contacts     tierTracker
	peaks        [7]int // daily peak of unique recipients in 24 h, last 7 days
	peakToday    int
	upgradedAt   int64
	registeredAt int64      // the sender uses the number from then on
	quality      decaying   // negative quality signals (opt-outs, ecosystem limits)
	restricted   []interval // business-initiated messaging restricted (account_update)
}

// Messaging-limit tiers: unique recipients a number may start
// business-initiated conversations with in a rolling 24 h.
var tierLimits = []int{250, 2_000, 10_000, 100_000, math.MaxInt}

// decaying is a score that decays exponentially with a 24-hour time scale.
type decaying struct {
	value float64
	at    int64
}

func (d *decaying) valueAt(t int64) float64 {
	if d.value == 0 || t <= d.at {
		return d.value
	}
	return d.value * math.Exp(-float64(t-d.at)/float64(usDay))
}

func (d *decaying) add(t int64, x float64) float64 {
	d.value = d.valueAt(t) + x
	d.at = max(d.at, t)
	return d.value
}

// Template categories as indices, for weights.
var templateSlugs = map[string][]string{
	pipeline.CategoryMarketing:      {"weekend_sale", "flash_deal", "new_arrivals", "loyalty_points", "cart_reminder", "seasonal_offer", "back_in_stock", "vip_preview", "referral_bonus", "price_drop"},
	pipeline.CategoryUtility:        {"order_update", "shipping_update", "payment_receipt", "appointment_reminder", "account_alert", "delivery_window", "invoice_ready"},
	pipeline.CategoryAuthentication: {"login_code", "verify_otp", "password_reset"},
}

// template is one version of a message template (a name and a language).
type template struct {
	name, slug, language, category string
	version                        int
	waba, pool                     int
	createdAt, retiredAt           int64    // the sender uses it in [createdAt, retiredAt)
	media                          bool     // image header: sends carry media bytes
	bug                            interval // parameter bug: sends fail in [from, to)
	bugFix                         int64    // the sender fixes the bug this long after its first failure (0: fixed or scheduled)
	bugCode                        int32
	pausedUntil                    int64
	errorSince, errorAt            int64 // first and last refusal of the template's current incident (paused, disabled, bug), which the sender sees
	pauses                         int
	disabledAt                     int64    // 0 = not disabled
	feedback                       decaying // negative quality signals
	volume                         decaying // accepted marketing sends
	quality                        uint8    // announced quality level (qualityGreen, ...)
}

func (t *template) usableAt(at int64) bool { return t.createdAt <= at && at < t.retiredAt }

// entities builds the WABAs, numbers, recipients, pools and initial
// templates of the world.
func (e *engine) buildEntities() error {
	cfg := e.cfg
	r := newStream(cfg.Seed, streamEntities)
	used := map[string]bool{}
	newID := func(prefix string) string {
		for {
			id := prefix + fmt.Sprintf("%013d", r.Int64N(1e13))
			if !used[id] {
				used[id] = true
				return id
			}
		}
	}
	e.wabas = make([]waba, cfg.WABAs)
	for w := range e.wabas {
		e.wabas[w].id = newID("88")
	}
	e.numbers = make([]phoneNumber, cfg.PhoneNumbers)
	tierWeights := []float64{0.1, 0.4, 0.35, 0.12, 0.03}
	for n := range e.numbers {
		w := n % cfg.WABAs
		pn := &e.numbers[n]
		pn.registeredAt = math.MinInt64
		pn.id = newID("30")
		pn.display = newID("1555")[:11]
		pn.waba = w
		pn.tier = pick(r, tierWeights)
		pn.contacts = newTierTracker()
		e.wabas[w].numbers = append(e.wabas[w].numbers, n)
	}
	// Growth: the last number of every WABA that has several is
	// registered during the history, at the lowest tier, so the messaging
	// limit bites while it is young. The last number of all is registered
	// at as-of (the plan's new number); the others at a random time in
	// the history window.
	rg := newStream(cfg.Seed, streamNumbers)
	for w := range e.wabas {
		nums := e.wabas[w].numbers
		if len(nums) < 2 {
			continue
		}
		young := &e.numbers[nums[len(nums)-1]]
		young.tier = 0
		if nums[len(nums)-1] == len(e.numbers)-1 {
			young.registeredAt = e.asOf
		} else {
			// Not in the first days (the history's start) nor the last
			// week, when there is room.
			lo, hi := e.start+3*usDay, e.asOf-6*usDay
			if hi <= lo {
				lo, hi = e.start, e.asOf
			}
			young.registeredAt = lo + uniformDuration(rg, 0, hi-lo)/usHour*usHour
		}
		young.upgradedAt = young.registeredAt
	}

	// Pools: one per WABA and country of its region.
	poolOf := map[[2]int]int{}
	for w := range e.wabas {
		for _, rc := range regions[w%len(regions)] {
			poolOf[[2]int{w, rc.country}] = len(e.pools)
			e.wabas[w].pools = append(e.wabas[w].pools, len(e.pools))
			e.pools = append(e.pools, pool{waba: w, country: rc.country})
		}
	}
	e.recips = make([]recipient, cfg.Recipients)
	serials := make([]uint32, len(countries))
	inboundClassWeights := []float64{0.70, 0.25, 0.05}
	for i := range e.recips {
		rc := &e.recips[i]
		w := r.IntN(cfg.WABAs)
		region := regions[w%len(regions)]
		shares := make([]float64, len(region))
		for j, s := range region {
			shares[j] = s.share
		}
		c := region[pick(r, shares)].country
		rc.waba = int16(w)
		rc.country = uint8(c)
		rc.serial = serials[c]
		serials[c]++
		rc.pool = int32(poolOf[[2]int{w, c}])
		rc.lastNumber = -1
		rc.pairNumber = [2]int32{-1, -1}
		if r.Float64() < 0.08 {
			rc.flags |= flagHeavy
		}
		if r.Float64() < 0.012 {
			rc.flags |= flagInvalid
		}
		rc.inboundClass = uint8(pick(r, inboundClassWeights))
	}
	// Pool members, loyalty segment first.
	for pass := 0; pass < 2; pass++ {
		for i := range e.recips {
			rc := &e.recips[i]
			if rc.heavy() == (pass == 0) {
				p := &e.pools[rc.pool]
				p.members = append(p.members, int32(i))
				if pass == 0 {
					p.heavy++
				}
			}
		}
	}
	e.numberOf = make([]string, len(e.recips))
	e.hashOf = make([]string, len(e.recips))
	e.countryOf = make([]string, len(e.recips))
	for i := range e.recips {
		e.numberOf[i] = phoneNumberOf(cfg.Seed, int(e.recips[i].country), e.recips[i].serial)
		e.hashOf[i] = e.hasher.Hash(e.numberOf[i])
		// The label export gives the number (a "GB" mobile range may be
		// Jersey's), not the country the number was drawn for.
		e.countryOf[i] = pipeline.CountryOf(e.numberOf[i])
	}
	e.buildTemplates(r)
	return nil
}

// buildTemplates creates the initial templates, spread over the pools:
// each pool gets a marketing and a utility template first.
func (e *engine) buildTemplates(r *rand.Rand) {
	categoryWeights := []float64{0.55, 0.35, 0.10}
	categories := []string{pipeline.CategoryMarketing, pipeline.CategoryUtility, pipeline.CategoryAuthentication}
	for i := 0; i < e.cfg.Templates; i++ {
		p := i % len(e.pools)
		var category string
		switch i / len(e.pools) {
		case 0:
			category = pipeline.CategoryMarketing
		case 1:
			category = pipeline.CategoryUtility
		default:
			category = categories[pick(r, categoryWeights)]
		}
		slugs := templateSlugs[category]
		t := template{
			slug:      slugs[r.IntN(len(slugs))],
			category:  category,
			version:   1 + r.IntN(3),
			pool:      p,
			waba:      e.pools[p].waba,
			language:  countries[e.pools[p].country].language,
			createdAt: e.start - uniformDuration(r, 5*usDay, 200*usDay),
			retiredAt: math.MaxInt64,
			media:     category == pipeline.CategoryMarketing && r.Float64() < 0.35,
		}
		e.addTemplate(t)
	}
}

// addTemplate names t uniquely (by name and language) and adds it.
func (e *engine) addTemplate(t template) int {
	for {
		t.name = t.slug + "_v" + strconv.Itoa(t.version)
		key := t.name + "|" + t.language
		if _, taken := e.templateIndex[key]; !taken {
			e.templateIndex[key] = len(e.templates)
			break
		}
		t.version++
	}
	e.templates = append(e.templates, t)
	return len(e.templates) - 1
}

// buildSchedules draws the token-expiry gaps of every WABA and the
// platform outages, far enough ahead for any plan.
func (e *engine) buildSchedules() {
	cfg := e.cfg
	horizon := cfg.planEnd() + 400*usDay
	r := newStream(cfg.Seed, streamTokens)
	for w := range e.wabas {
		wb := &e.wabas[w]
		wb.ttl = uniformDuration(r, 30*usDay, 61*usDay) / usHour * usHour
		// The anchor is one expiry; WABA 0's token expires near the end
		// of the plan (a scripted risk), the others' at random.
		anchor := e.start + uniformDuration(r, 0, wb.ttl)
		if w == 0 {
			wb.ttl = 30 * usDay
			anchor = cfg.planEnd() - 4*usHour
			if cfg.PlanDays == 0 {
				anchor = cfg.asOf() + 14*usHour
			}
		}
		delay := func() int64 { return uniformDuration(r, usHour, 6*usHour) / usSecond * usSecond }
		var gaps []interval
		// Backwards from the anchor to before the history starts.
		t := anchor
		for t > e.start-wb.ttl-14*usHour {
			gaps = append(gaps, interval{t, 0})
			t = t - wb.ttl - delay()
		}
		for i, j := 0, len(gaps)-1; i < j; i, j = i+1, j-1 {
			gaps[i], gaps[j] = gaps[j], gaps[i]
		}
		for i := range gaps {
			if i+1 < len(gaps) {
				gaps[i].to = gaps[i+1].from - wb.ttl
			} else {
				gaps[i].to = gaps[i].from + delay()
			}
		}
		if w == 0 {
			// The scripted expiry is renewed only after the plan ends.
			last := &gaps[len(gaps)-1]
			last.to = max(last.to, anchor+12*usHour)
		}
		// Forwards from the anchor to the horizon.
		for last := gaps[len(gaps)-1]; last.to+wb.ttl < horizon; last = gaps[len(gaps)-1] {
			from := last.to + wb.ttl
			gaps = append(gaps, interval{from, from + delay()})
		}
		wb.gaps = gaps
	}
	ro := newStream(cfg.Seed, streamOutages)
	for t := e.start; t < horizon; {
		t += int64(ro.ExpFloat64() * float64(72*usHour))
		d := uniformDuration(ro, 10*usMinute, 90*usMinute)
		e.outages = append(e.outages, outage{interval{t, t + d}, uniform(ro, 0.05, 0.3)})
		t += d
	}
}

// outage is a platform incident: sends fail with transient errors at a
// raised rate.
type outage struct {
	interval
	severity float64 // probability that a send fails
}

// tokenExpired reports whether WABA w's access token is expired at t.
func (e *engine) tokenExpired(w int, t int64) bool {
	gaps := e.wabas[w].gaps
	i := searchIntervals(gaps, t)
	return i >= 0 && t < gaps[i].to
}

// outageAt returns the severity of the outage at t, 0 if none.
func (e *engine) outageAt(t int64) float64 {
	i := searchIntervals(e.outages, t)
	if i >= 0 && t < e.outages[i].to {
		return e.outages[i].severity
	}
	return 0
}

// interval is embedded in outage; searchIntervals works on both.
type fromer interface{ start() int64 }

func (iv interval) start() int64 { return iv.from }

// searchIntervals returns the index of the last interval starting at or
// before t, -1 if none.
func searchIntervals[T fromer](s []T, t int64) int {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m].start() <= t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}
