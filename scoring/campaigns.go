package scoring

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/predictions"
)

// DefaultSafetyFactor is the share of the number's throughput a throttled
// campaign is recommended to use (headroom for other traffic).
const DefaultSafetyFactor = 0.9

// Campaigns aggregates predictions per campaign, for campaigns.csv and the
// run summary. Memory grows with the number of campaigns, not sends.
type Campaigns struct {
	throughput, safety float64
	byID               map[string]*Campaign
	actions            [numActions]int
	risks              [predictions.NumRisks]int
	warnings           map[string]int
	sends, stale       int
	last               *Campaign // the campaign of the last send added: a plan's sends come in runs of one campaign
}

// numActions is len(predictions.Actions), as a constant for array sizes.
const numActions = 7

func actionIndex(a Action) int {
	if i := a.Index(); i >= 0 {
		return i
	}
	return numActions - 2 // never reached: Score only produces listed actions
}

// Campaign is the aggregate of one campaign's planned sends: one row of
// campaigns.csv.
type Campaign struct {
	ID             string
	PhoneNumberIDs []string // in order of first appearance
	Template       string   // of the first send
	Category       string   // of the first send
	First, Last    int64    // scheduled_at range, Unix microseconds

	Sends            int
	ExpectedFailures float64
	ExpectedByFamily [pipeline.NumFamilies]float64
	ByRisk           [predictions.NumRisks]int
	ByAction         [numActions]int
	Stale            int
	Warnings         map[string]int // warning kind -> sends

	// Rates, messages per second.
	PlannedRateMPS  float64 // the plan's CampaignRateMPS, else the peak sends in one second of the schedule
	PeakNumberMPS   float64 // peak of the number's planned sends per second while the campaign runs (features), NaN if unknown
	ThroughputMPS   float64
	RecommendedMPS  float64 // 0 when throttling would not help
	RateFromPlanMPS float64 // max CampaignRateMPS in the plan, 0 if none given

	PeakUnique24h float64 // max unique recipients of the number in 24 h (features), NaN if unknown
	TierLimit     float64 // the number's tier limit at that send, NaN if unknown

	MinHoursSincePause float64 // NaN if unknown
	TemplateDisabled   bool
	ParamErrorRate     float64 // the template's highest parameter error rate over the sends, NaN if unknown
	FreeFormSends      int     // non-template sends
	WindowClosedSends  int     // non-template sends whose recipient's 24-hour window is closed
	AuthErrors24h      float64 // max over sends, NaN if unknown
	MinHoursSinceAuth  float64 // NaN if unknown
	// Known token expiry (ScorerConfig.TokenExpiry): the earliest expiry some
	// of the campaign's sends are at or after, its WABA, and how many
	// sends are (0, "", 0 when none).
	TokenExpiresAt        int64
	TokenWABA             string
	SendsAfterTokenExpiry int
	// Sends a deterministic rule fails (announced account, template or
	// recipient states; US marketing), by rule in knownKinds order, and
	// the latest time each rule holds until over them (0 when unknown).
	KnownFailures      [knownFailureKindsCount]int
	KnownFailuresUntil [knownFailureKindsCount]int64

	Findings []string

	curSec   int64 // calendar second of the last send
	curCount int   // sends in that second
	peakSec  int   // most sends in one calendar second
}

// NewCampaigns returns an empty aggregate for a number throughput (mps,
// 0 = DefaultThroughputMPS) and a safety factor for recommended rates
// (0 = DefaultSafetyFactor).
func NewCampaigns(throughputMPS, safety float64) *Campaigns {
	if throughputMPS <= 0 {
		throughputMPS = DefaultThroughputMPS
	}
	if safety <= 0 || safety > 1 {
		safety = DefaultSafetyFactor
	}
	return &Campaigns{throughput: throughputMPS, safety: safety, byID: map[string]*Campaign{}, warnings: map[string]int{}}
}

// Add folds predictions into their campaigns. Predictions of a campaign
// must come in non-decreasing scheduled_at order (the peak rate is counted
// per calendar second as sends arrive).
func (cs *Campaigns) Add(ps []Prediction) {
	nan := math.NaN()
	for i := range ps {
		p := &ps[i]
		c := cs.last
		if c == nil || c.ID != p.Send.CampaignID {
			c = cs.byID[p.Send.CampaignID]
		}
		if c == nil {
			c = &Campaign{
				ID: p.Send.CampaignID, Template: p.Send.Template, Category: p.Send.Category,
				First: p.Send.ScheduledAt, Last: p.Send.ScheduledAt,
				Warnings: map[string]int{}, ThroughputMPS: cs.throughput,
				PeakNumberMPS: nan, PeakUnique24h: nan, TierLimit: nan,
				MinHoursSincePause: nan, AuthErrors24h: nan, MinHoursSinceAuth: nan, ParamErrorRate: nan,
				curSec: math.MinInt64,
			}
			cs.byID[c.ID] = c
		}
		cs.last = c
		c.add(p)
		cs.sends++
		cs.actions[actionIndex(p.Action)]++
		cs.risks[p.Risk]++
		if p.Stale {
			cs.stale++
		}
		if p.WarningKind != "" {
			cs.warnings[p.WarningKind]++
		}
	}
}

func (c *Campaign) add(p *Prediction) {
	s := &p.Send
	if !slices.Contains(c.PhoneNumberIDs, s.PhoneNumberID) && len(c.PhoneNumberIDs) < 16 {
		c.PhoneNumberIDs = append(c.PhoneNumberIDs, s.PhoneNumberID)
	}
	c.First, c.Last = min(c.First, s.ScheduledAt), max(c.Last, s.ScheduledAt)
	c.Sends++
	c.ExpectedFailures += p.PFail
	for _, f := range predictions.ReportedFamilies {
		c.ExpectedByFamily[f] += p.PFamily[f]
	}
	c.ByRisk[p.Risk]++
	c.ByAction[actionIndex(p.Action)]++
	if p.Stale {
		c.Stale++
	}
	if p.WarningKind != "" {
		c.Warnings[p.WarningKind]++
	}
	c.RateFromPlanMPS = max(c.RateFromPlanMPS, s.CampaignRateMPS)
	sec := floorDiv(s.ScheduledAt, 1e6)
	if sec == c.curSec {
		c.curCount++
	} else {
		c.curSec, c.curCount = sec, 1
	}
	c.peakSec = max(c.peakSec, c.curCount)

	f := &p.facts
	c.PeakNumberMPS = maxKnown(c.PeakNumberMPS, f.phoneMPS)
	if u := float64(f.unique24h); !math.IsNaN(u) && (math.IsNaN(c.PeakUnique24h) || u > c.PeakUnique24h) {
		c.PeakUnique24h = u
		c.TierLimit = float64(f.tierLimit)
	}
	c.MinHoursSincePause = minKnown(c.MinHoursSincePause, f.hoursSincePause)
	if f.disabled >= 0.5 {
		c.TemplateDisabled = true
	}
	if f.known >= 0 {
		c.KnownFailures[f.known]++
		c.KnownFailuresUntil[f.known] = max(c.KnownFailuresUntil[f.known], f.knownUntil)
		if knownKinds[f.known].kind == warnTemplateDisabled {
			c.TemplateDisabled = true
		}
	}
	if f.tokenExpiresAt != 0 {
		c.SendsAfterTokenExpiry++
		if c.TokenWABA == "" || f.tokenExpiresAt < c.TokenExpiresAt {
			c.TokenExpiresAt, c.TokenWABA = f.tokenExpiresAt, s.WABAID
		}
	}
	c.AuthErrors24h = maxKnown(c.AuthErrors24h, f.authErrors24h)
	c.MinHoursSinceAuth = minKnown(c.MinHoursSinceAuth, f.hoursToken)
	c.ParamErrorRate = maxKnown(c.ParamErrorRate, f.paramRate)
	if f.freeForm {
		c.FreeFormSends++
		if f.windowClosed {
			c.WindowClosedSends++
		}
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func maxKnown(cur float64, v float32) float64 {
	x := float64(v)
	if math.IsNaN(x) {
		return cur
	}
	if math.IsNaN(cur) || x > cur {
		return x
	}
	return cur
}

func minKnown(cur float64, v float32) float64 {
	x := float64(v)
	if math.IsNaN(x) {
		return cur
	}
	if math.IsNaN(cur) || x < cur {
		return x
	}
	return cur
}

// Rate findings and flags. Each is derived in finish.
func (c *Campaign) finish(safety float64) {
	c.PlannedRateMPS = c.RateFromPlanMPS
	if c.PlannedRateMPS <= 0 {
		c.PlannedRateMPS = float64(c.peakSec)
	}
	c.Findings = c.Findings[:0]
	c.knownFindings()
	target := c.ThroughputMPS * safety
	switch {
	case c.RateAboveThroughput():
		c.RecommendedMPS = math.Min(c.PlannedRateMPS, target)
		c.Findings = append(c.Findings, fmt.Sprintf("planned rate %s mps is above the number's throughput of %s mps: about %s%% of sends would fail with 130429; throttle to %s mps",
			decimal1(c.PlannedRateMPS), decimal1(c.ThroughputMPS), count(100*(1-c.ThroughputMPS/c.PlannedRateMPS)), rateText(c.RecommendedMPS)))
	case !math.IsNaN(c.PeakNumberMPS) && c.PeakNumberMPS > c.ThroughputMPS:
		// The campaign alone is within throughput but overlaps other
		// sends of the same number: scale it down by the overflow.
		c.RecommendedMPS = math.Min(c.PlannedRateMPS, c.PlannedRateMPS*target/c.PeakNumberMPS)
		c.Findings = append(c.Findings, fmt.Sprintf("the number's planned sends peak at %s mps while this campaign runs (other campaigns overlap), above its throughput of %s mps; throttle this campaign to %s mps or move it",
			decimal1(c.PeakNumberMPS), decimal1(c.ThroughputMPS), rateText(c.RecommendedMPS)))
	default:
		c.RecommendedMPS = 0
	}
	if c.AboveTierLimit() {
		c.Findings = append(c.Findings, fmt.Sprintf("the number reaches %s unique recipients in 24 h against its tier limit of %s: sends to new recipients beyond it fail (131048); split the campaign over days",
			count(c.PeakUnique24h), count(c.TierLimit)))
	}
	switch {
	case c.KnownFailures[knownIndex(warnTemplateDisabled)] > 0 || c.KnownFailures[knownIndex(warnTemplatePaused)] > 0:
		// Named by knownFindings.
	case c.TemplateDisabled:
		c.Findings = append(c.Findings, fmt.Sprintf("template %s is permanently disabled (132016): create a new template", quoteName(c.Template)))
	case c.TemplatePausedRecently():
		c.Findings = append(c.Findings, fmt.Sprintf("template %s was paused (132015) %s before the campaign's first send: check its status and quality rating before sending",
			quoteName(c.Template), ago(c.MinHoursSincePause)))
	}
	if c.TemplateParamErrors() {
		c.Findings = append(c.Findings, fmt.Sprintf("template %s failed with parameter errors (132000/132012) in %s%% of its recent sends: fix the template or its parameters before sending",
			quoteName(c.Template), count(100*c.ParamErrorRate)))
	}
	if c.WindowClosedSends > 0 {
		c.Findings = append(c.Findings, fmt.Sprintf("%d of %d free-form sends go to recipients whose 24-hour service window is closed (131047): send an approved template instead",
			c.WindowClosedSends, c.FreeFormSends))
	}
	if c.SendsAfterTokenExpiry > 0 {
		renewBy := FormatTime(c.TokenExpiresAt)
		if c.TokenExpiresAt <= c.First {
			renewBy = "the first send at " + FormatTime(c.First)
		}
		c.Findings = append(c.Findings, fmt.Sprintf("the access token of WABA %s expires at %s (token inventory), before %d of the campaign's %d sends: they are refused with 190 unless it is renewed; renew it before %s",
			c.TokenWABA, FormatTime(c.TokenExpiresAt), c.SendsAfterTokenExpiry, c.Sends, renewBy))
	} else if c.TokenRisk() {
		var why string
		switch {
		case c.AuthErrors24h >= minDecayedCount:
			why = fmt.Sprintf("about %s auth errors (190) on the number in the last day of history", count(c.AuthErrors24h))
		case !math.IsNaN(c.MinHoursSinceAuth) && c.MinHoursSinceAuth <= authRecentHours:
			why = fmt.Sprintf("an auth error (190) %s before the campaign's first send", ago(c.MinHoursSinceAuth))
		default:
			why = fmt.Sprintf("%s sends expected to fail with auth errors", decimal1(c.ExpectedByFamily[pipeline.FamilyAuth]))
		}
		c.Findings = append(c.Findings, fmt.Sprintf("access token may be expired or expire before the last send at %s (%s): renew it before %s",
			FormatTime(c.Last), why, FormatTime(c.First)))
	}
}

// RateAboveThroughput reports whether the campaign's planned rate exceeds
// the number's throughput (130429).
func (c *Campaign) RateAboveThroughput() bool { return c.PlannedRateMPS > c.ThroughputMPS }

// AboveTierLimit reports whether the number's unique recipients in 24 h
// reach beyond its messaging tier limit during the campaign.
func (c *Campaign) AboveTierLimit() bool {
	return !math.IsNaN(c.PeakUnique24h) && !math.IsNaN(c.TierLimit) && c.TierLimit > 0 && c.TierLimit < unlimitedTier && c.PeakUnique24h > c.TierLimit
}

// TemplatePausedRecently reports whether the campaign's template was
// paused (132015) within a week before its first send, or disabled.
func (c *Campaign) TemplatePausedRecently() bool {
	return c.TemplateDisabled || (!math.IsNaN(c.MinHoursSincePause) && c.MinHoursSincePause <= pauseRecentHours)
}

// TokenRisk reports whether the access token may be expired or expire
// before the campaign ends: the token inventory says so for some of its
// sends, or auth errors in the recent history of its number or account,
// or the model expecting at least one auth failure and 1% of the
// campaign's sends.
func (c *Campaign) TokenRisk() bool {
	return c.SendsAfterTokenExpiry > 0 ||
		(!math.IsNaN(c.AuthErrors24h) && c.AuthErrors24h >= minDecayedCount) ||
		(!math.IsNaN(c.MinHoursSinceAuth) && c.MinHoursSinceAuth <= authRecentHours) ||
		c.ExpectedByFamily[pipeline.FamilyAuth] >= max(1, minAuthShare*float64(c.Sends))
}

// minAuthShare is the share of a campaign's sends the model must expect to
// fail with auth errors for a token finding without auth errors in the
// history: a token expiry fails every later send, not a few.
const minAuthShare = 0.01

// TemplateParamErrors reports whether the campaign's template failed with
// parameter errors in at least 2% of its recent sends.
func (c *Campaign) TemplateParamErrors() bool {
	return !math.IsNaN(c.ParamErrorRate) && c.ParamErrorRate >= minParamErrorRate
}

// TopWarnings returns up to n warning kinds of the campaign with their
// send counts, most frequent first (ties by kind).
func (c *Campaign) TopWarnings(n int) []WarningCount { return topWarnings(c.Warnings, n) }

// WarningCount is a warning kind and how many sends carry it.
type WarningCount struct {
	Kind    string
	Summary string
	Sends   int
}

func topWarnings(m map[string]int, n int) []WarningCount {
	out := make([]WarningCount, 0, len(m))
	for k, v := range m {
		out = append(out, WarningCount{Kind: k, Summary: WarningSummary(k), Sends: v})
	}
	slices.SortFunc(out, func(a, b WarningCount) int {
		if c := cmp.Compare(b.Sends, a.Sends); c != 0 {
			return c
		}
		return strings.Compare(a.Kind, b.Kind)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// List finishes the aggregates and returns the campaigns, most expected
// failures first (ties by campaign id).
func (cs *Campaigns) List() []*Campaign {
	out := make([]*Campaign, 0, len(cs.byID))
	for _, c := range cs.byID {
		c.finish(cs.safety)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *Campaign) int {
		if c := cmp.Compare(b.ExpectedFailures, a.ExpectedFailures); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Totals are the counts over all scored sends.
type Totals struct {
	Sends, Stale int
	ByAction     map[Action]int
	ByRisk       map[Risk]int
	TopWarnings  []WarningCount // top 5 warning kinds over all sends
}

// Totals returns the counts over everything added so far.
func (cs *Campaigns) Totals() Totals {
	t := Totals{Sends: cs.sends, Stale: cs.stale, ByAction: map[Action]int{}, ByRisk: map[Risk]int{}, TopWarnings: topWarnings(cs.warnings, 5)}
	for i, a := range predictions.Actions {
		t.ByAction[a] = cs.actions[i]
	}
	for r := RiskLow; r <= RiskHigh; r++ {
		t.ByRisk[r] = cs.risks[r]
	}
	return t
}

// campaignColumns are the columns of campaigns.csv (the predictions
// contract); WriteCampaigns writes its cells in their order.
var campaignColumns = predictions.CampaignColumns()

// WriteCampaigns writes campaigns.csv (RFC 4180, header row; the columns
// of predictions.CampaignColumns) for the campaigns in the order given.
func WriteCampaigns(w io.Writer, campaigns []*Campaign, modelVersion string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(campaignColumns); err != nil {
		return fmt.Errorf("write campaigns header: %w", err)
	}
	rec := make([]string, 0, len(campaignColumns))
	for _, c := range campaigns {
		r := rec[:0]
		r = append(r, SafeCell(c.ID), SafeCell(strings.Join(c.PhoneNumberIDs, " ")), SafeCell(c.Template), SafeCell(c.Category),
			FormatTime(c.First), FormatTime(c.Last), strconv.Itoa(c.Sends), decimal2(c.ExpectedFailures))
		for _, f := range predictions.ReportedFamilies {
			r = append(r, decimal2(c.ExpectedByFamily[f]))
		}
		r = append(r, strconv.Itoa(c.ByRisk[RiskHigh]), strconv.Itoa(c.ByRisk[RiskMedium]), FormatProb(float64(c.ByRisk[RiskHigh])/float64(max(c.Sends, 1))))
		for i := range numActions {
			r = append(r, strconv.Itoa(c.ByAction[i]))
		}
		r = append(r, strconv.Itoa(c.Stale),
			rateText(c.PlannedRateMPS), decimal1(c.ThroughputMPS), boolCell(c.RateAboveThroughput()), optional(c.RecommendedMPS, rateText),
			optionalNaN(c.PeakUnique24h, count), optionalNaN(c.TierLimit, count), boolCell(c.AboveTierLimit()),
			boolCell(c.TemplatePausedRecently()), optionalNaN(c.ParamErrorRate, decimal4), strconv.Itoa(c.WindowClosedSends), boolCell(c.TokenRisk()),
			tokenExpiryCell(c))
		top := c.TopWarnings(3)
		for i := 0; i < 3; i++ {
			if i < len(top) {
				r = append(r, SafeCell(top[i].Summary), strconv.Itoa(top[i].Sends))
			} else {
				r = append(r, "", "")
			}
		}
		r = append(r, SafeCell(strings.Join(c.Findings, "; ")), SafeCell(modelVersion))
		if err := cw.Write(r); err != nil {
			return fmt.Errorf("write campaign %q: %w", c.ID, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write campaigns: %w", err)
	}
	return nil
}

// tokenExpiryCell is the token_expires_at cell: the known expiry before
// the campaign's last send, or empty.
func tokenExpiryCell(c *Campaign) string {
	if c.SendsAfterTokenExpiry == 0 {
		return ""
	}
	return FormatTime(c.TokenExpiresAt)
}

func decimal2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func optional(v float64, f func(float64) string) string {
	if v <= 0 {
		return ""
	}
	return f(v)
}

func optionalNaN(v float64, f func(float64) string) string {
	if math.IsNaN(v) {
		return ""
	}
	return f(v)
}

// knownFindings names the causes of the sends deterministic rules fail,
// with their counts: "template X is paused until 16:41 UTC: 1,203 sends
// would fail (132015)".
func (c *Campaign) knownFindings() {
	for i, n := range c.KnownFailures {
		if n == 0 {
			continue
		}
		until := c.KnownFailuresUntil[i]
		sends := thousands(n) + " " + pluralInt(n, "send", "sends") + " would fail"
		var f string
		switch knownKinds[i].kind {
		case warnAccountLocked:
			f = fmt.Sprintf("the business account is locked (account_update): %s with 131031; resolve the lock before sending", sends)
		case warnAccountRestricted:
			f = fmt.Sprintf("the account's messaging is restricted %s (account_update): %s with 368; send after the restriction ends", untilText(until), sends)
		case warnTemplateDisabled:
			f = fmt.Sprintf("template %s is disabled (announced): %s with 132016; create a new template", quoteName(c.Template), sends)
		case warnTemplatePaused:
			f = fmt.Sprintf("template %s is paused %s (announced): %s with 132015; send after the pause or with another template", quoteName(c.Template), untilText(until), sends)
		case warnUSMarketing:
			f = fmt.Sprintf("%s marketing %s: Meta does not deliver marketing templates to US numbers since 2025-04-01 (131049); suppress %s", thousands(n),
				pluralInt(n, "send goes to a US number", "sends go to US numbers"), pluralInt(n, "it", "them"))
		case warnMarketingStopped:
			f = fmt.Sprintf("%s marketing %s stopped marketing messages (user_preferences): %s with 131050; suppress %s", thousands(n),
				pluralInt(n, "send goes to a recipient who", "sends go to recipients who"), pluralInt(n, "it fails", "they fail"), pluralInt(n, "it", "them"))
		}
		c.Findings = append(c.Findings, f)
	}
}

// untilText is "until <time>" (to the minute, UTC) or "with no end
// announced".
func untilText(us int64) string {
	if us == 0 {
		return "with no end announced"
	}
	return "until " + time.UnixMicro(us).UTC().Round(time.Minute).Format("2006-01-02 15:04 UTC")
}

// thousands formats n with comma thousands separators: 1,203.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func pluralInt(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// rateText formats a rate in messages per second: one decimal, or two
// significant digits below 1 mps, so that a slow campaign's positive rate
// (a flow at 0.02 mps, throttled to 0.018) never reads as 0.0.
func rateText(v float64) string {
	if v >= 0.95 || v <= 0 {
		return decimal1(v)
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}
