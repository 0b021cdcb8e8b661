package scoring

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/failcast/failcast/models/calibrate"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/predictions"
)

// ScorerConfig is how a Scorer turns model outputs into predictions.
type ScorerConfig struct {
	// Thresholds are the model's stored "high" and "medium" thresholds.
	Thresholds Thresholds
	// LikelyCodes maps a family to its most frequent error code in the
	// model's training data; DefaultCodes fills the gaps.
	LikelyCodes map[pipeline.Family]int32
	// ModelVersion is written to every row.
	ModelVersion string
	// AsOf is the time (Unix microseconds) the features were computed at;
	// warnings of stale sends name it.
	AsOf int64
	// Explore is the share (0..1) of sends the policy would suppress or
	// defer that are sent as planned anyway, so their outcomes are seen.
	Explore float64
	// Seed makes the exploration draw reproducible. The draw of a send
	// depends only on Seed and its send id, not on batch boundaries or
	// plan order.
	Seed uint64
	// ThroughputMPS is the sender number's throughput, messages per
	// second (Cloud API default 80).
	ThroughputMPS float64
	// TokenExpiry maps a WABA id to when its access token expires (Unix
	// µs, pipeline.TokenNeverExpires for never), as the sender's token
	// inventory says (pipeline.ReadTokenExpiries). A send at or after its
	// WABA's expiry is refused with 190 unless the token is renewed: it
	// is scored as such whatever the model says. WABAs not in the map
	// are left to the model.
	TokenExpiry map[string]int64
	// Calibration maps the model's P(fail) to a calibrated probability
	// (the bundle's Serving.Calibration, fitted on its validation window);
	// nil uses P(fail) as the model gives it. The family split is scaled
	// with it. Known failure mechanisms (mechanism.go) are combined with
	// the calibrated probability.
	Calibration *calibrate.Platt
}

// TokenExpiredPFail is the P(fail) of a send scheduled at or after its
// WABA's known token expiry: the API refuses it with 190 unless the
// token is renewed first (not 1: the inventory may be out of date).
const TokenExpiredPFail = 0.99

// DefaultThroughputMPS is the Cloud API's default throughput of a business
// phone number, messages per second.
const DefaultThroughputMPS = 80

func (c ScorerConfig) validate() error {
	if err := c.Thresholds.Validate(); err != nil {
		return err
	}
	if c.Calibration != nil {
		if err := c.Calibration.Valid(); err != nil {
			return fmt.Errorf("scoring: %w", err)
		}
	}
	if c.Explore < 0 || c.Explore > 1 {
		return fmt.Errorf("scoring: exploration share must be within 0..1, got %g", c.Explore)
	}
	if c.ThroughputMPS < 0 {
		return fmt.Errorf("scoring: throughput must not be negative, got %g mps", c.ThroughputMPS)
	}
	return nil
}

// Batch is a batch of planned sends with what the features layer and the
// model said about them. Row i of every slice belongs to Sends[i].
type Batch struct {
	Sends    []pipeline.PlannedSend
	Features Features
	// Stale marks sends scored with features older than the model saw in
	// training (nil: none).
	Stale []bool
	// PFail is the model's P(fail) of each send.
	PFail []float64
	// PFamily holds P(fail with family f) for each send, indexed by
	// pipeline.Family (up to pipeline.NumFamilies per row, missing
	// families are 0; the none entry is ignored). Nil rows (or a nil slice) mean the model has no family
	// head: every p_<family> is 0 and the likely family comes from the
	// features alone.
	PFamily [][]float64
}

// Prediction is the verdict on one planned send: one row of predictions.csv.
type Prediction struct {
	Send        pipeline.PlannedSend
	PFail       float64
	PFamily     [pipeline.NumFamilies]float64 // P(fail with family f)
	Risk        Risk
	Family      pipeline.Family // likely family; FamilyNone when the model expects no failure
	Code        int32           // likely error code; pipeline.NoErrorCode when none
	Warning     string          // one sentence naming the cause; "" for unremarkable sends
	WarningKind string          // stable id of the warning's rule ("marketing_limit"); "" when no warning
	Reasons     string          // top TreeSHAP contributions to P(fail)'s log-odds (AppendReasons); "" when not computed
	Action      Action
	Exploration bool
	Stale       bool

	facts sendFacts // feature values campaign findings need
}

// sendFacts are the feature values of a send that campaign findings use;
// NaN when the model's feature set lacks the feature.
type sendFacts struct {
	unique24h, tierLimit      float32 // unique recipients of the number in 24 h, its tier limit
	phoneMPS                  float32 // the number's planned sends in the second up to this send
	authErrors24h, hoursToken float32 // recent auth errors; hours since the last auth error or 190
	hoursSincePause, disabled float32
	paramRate                 float32 // the template's parameter error rate
	freeForm, windowClosed    bool    // a non-template send; its recipient's 24-hour window is closed
	lastSendFailed            bool    // the recipient's last known outcome was a failure (the rule baseline)
	knownRecipient            int8    // 1: the history has an outcome of the recipient, 0: none, -1: unknown (no such feature)
	tokenExpiresAt            int64   // the send's WABA's known token expiry when the send is at or after it, else 0
	known                     int8    // the deterministic rule that fails the send (index into knownKinds), -1 none
	knownUntil                int64   // until when that rule holds (Unix µs), 0 unknown or never
}

func (r row) facts() sendFacts {
	g := func(k int) float32 {
		if v, ok := r.get(k); ok {
			return float32(v)
		}
		return float32(math.NaN())
	}
	f := sendFacts{
		known:     -1,
		unique24h: g(fPhoneUnique24h), tierLimit: g(fPhoneTierLimit),
		phoneMPS:      g(fPhoneSends1s) + 1,
		authErrors24h: g(fPhoneAuthErrors24h), hoursToken: g(fPhoneHoursSinceAuth),
		hoursSincePause: g(fTemplateHoursSincePause), disabled: g(fTemplateDisabled),
	}
	f.paramRate = g(fTemplateParamRate)
	last := g(fRcptLastOutcomeFamily)
	f.lastSendFailed = last > 0
	switch {
	case math.IsNaN(float64(last)):
		f.knownRecipient = -1
	case last >= 0:
		f.knownRecipient = 1
	}
	f.freeForm = !pipeline.IsTemplateSend(r.send.Template, r.send.MessageType)
	if h, ok := r.get(fRcptHoursSinceInbound); ok && f.freeForm {
		f.windowClosed = h > serviceWindowHours
	}
	if w := g(fWABAHoursSinceToken); w < f.hoursToken || math.IsNaN(float64(f.hoursToken)) {
		f.hoursToken = w
	}
	return f
}

// Scorer turns batches of model outputs into predictions. It is not safe
// for concurrent use, and takes one plan's sends in scheduled order across
// its batches: the tier limit counts the conversations the earlier sends
// open (applyMechanisms).
type Scorer struct {
	cfg      ScorerConfig
	fx       featureIndex
	stale    string // warning suffix of stale sends
	staleLow string // warning of stale low-risk sends
	// tier is the plan's refused sends, for the tier limit (applyMechanisms).
	tier tierLedger
	// texts are the warning sentences that repeat across sends (rowTexts).
	texts rowTexts
	// codes is each family's likely code (likelyCodeOf), looked up once:
	// two map look-ups a send cost a 1M-send plan about 0.02 CPU seconds.
	codes [pipeline.NumFamilies]int32
}

// NewScorer returns a Scorer for cfg.
func NewScorer(cfg ScorerConfig) (*Scorer, error) {
	if cfg.ThroughputMPS == 0 {
		cfg.ThroughputMPS = DefaultThroughputMPS
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	asOf := time.UnixMicro(cfg.AsOf).UTC().Format(time.RFC3339)
	s := &Scorer{
		cfg:      cfg,
		stale:    " (stale features: computed as of " + asOf + ", further ahead than the model was trained for)",
		staleLow: "stale features: computed as of " + asOf + ", further ahead than the model was trained for; the score is less reliable",
	}
	for f := range s.codes {
		s.codes[f] = likelyCodeOf(cfg.LikelyCodes, pipeline.Family(f))
	}
	return s, nil
}

// Score appends the predictions of batch to dst and returns it.
func (s *Scorer) Score(dst []Prediction, b Batch) ([]Prediction, error) {
	n := len(b.Sends)
	if len(b.PFail) != n {
		return dst, fmt.Errorf("scoring: batch of %d sends has %d fail probabilities", n, len(b.PFail))
	}
	if b.PFamily != nil && len(b.PFamily) != n {
		return dst, fmt.Errorf("scoring: batch of %d sends has %d family probability rows", n, len(b.PFamily))
	}
	if b.Stale != nil && len(b.Stale) != n {
		return dst, fmt.Errorf("scoring: batch of %d sends has %d stale flags", n, len(b.Stale))
	}
	if err := s.fx.bind(b.Features, n); err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, n)
	for i := range b.Sends {
		// Filled in place: a Prediction is about 400 bytes.
		dst = dst[:len(dst)+1]
		p := &dst[len(dst)-1]
		*p = Prediction{Send: b.Sends[i], PFail: b.PFail[i], Code: pipeline.NoErrorCode}
		if b.PFamily != nil && b.PFamily[i] != nil {
			pf := b.PFamily[i]
			if len(pf) > pipeline.NumFamilies {
				return dst[:len(dst)-1], fmt.Errorf("scoring: send %q: want at most %d family probabilities, got %d", p.Send.SendID, pipeline.NumFamilies, len(pf))
			}
			copy(p.PFamily[:], pf)
			for _, v := range pf {
				if !(v >= 0 && v <= 1) {
					return dst[:len(dst)-1], fmt.Errorf("scoring: send %q: family probability %v is not a probability", p.Send.SendID, v)
				}
			}
			p.PFamily[pipeline.FamilyNone] = 0
		}
		if b.Stale != nil {
			p.Stale = b.Stale[i]
		}
		if !(p.PFail >= 0 && p.PFail <= 1) {
			return dst[:len(dst)-1], fmt.Errorf("scoring: send %q: P(fail) %v is not a probability", p.Send.SendID, p.PFail)
		}
		r := row{fx: &s.fx, i: i, send: &b.Sends[i], throughput: s.cfg.ThroughputMPS, texts: &s.texts}
		s.calibrate(p)
		expiry, expired := s.tokenExpired(&p.Send)
		in := r.mechanismInputs()
		known, isKnown := knownFailureOf(r, &in)
		s.applyMechanisms(p, r, &in, expired || isKnown)
		switch {
		case expired:
			s.decideTokenExpired(p, expiry)
		case isKnown:
			s.decideKnown(p, known)
		default:
			s.decide(p, r)
		}
		p.facts = r.facts()
		if expired {
			p.facts.tokenExpiresAt = expiry
		} else if isKnown {
			p.facts.known, p.facts.knownUntil = int8(known.index), known.until
		}
	}
	return dst, nil
}

// calibrate maps p's model P(fail) through the calibration map and
// scales its family split to match.
func (s *Scorer) calibrate(p *Prediction) {
	c := s.cfg.Calibration
	if c == nil {
		return
	}
	q := c.Apply(p.PFail)
	if p.PFail > 0 {
		k := q / p.PFail
		for f := range p.PFamily {
			p.PFamily[f] *= k
		}
	}
	p.PFail = q
}

// decide fills risk, likely family and code, warning and action of p.
func (s *Scorer) decide(p *Prediction, r row) {
	p.Risk = s.cfg.Thresholds.RiskOf(p.PFail)
	p.Family = likelyFamily(&p.PFamily)
	if p.Risk >= RiskMedium {
		if p.Family == pipeline.FamilyNone {
			// No family head, or it put no mass on any family: let the
			// features name the cause.
			if c, ok := explainAny(r); ok {
				p.Family, p.Code, p.Warning, p.WarningKind = c.family, c.code, c.text, c.kind
			}
		} else if c, ok := explain(p.Family, r); ok {
			p.Code, p.Warning, p.WarningKind = c.code, c.text, c.kind
		} else if c, ok := explainAny(r); ok {
			// The features show no cause of the model's likely family but
			// a concrete cause of another: the family head is the weaker
			// witness (it confuses families that share recipients), so the
			// send takes the cause the features show.
			p.Family, p.Code, p.Warning, p.WarningKind = c.family, c.code, c.text, c.kind
		}
		if p.Family != pipeline.FamilyNone && p.Code == pipeline.NoErrorCode {
			p.Code = s.likelyCode(p.Family)
		}
		if p.Warning == "" {
			p.Warning, p.WarningKind = genericWarning(p.Family, p.Code, p.PFail), modelKindPrefix+p.Family.String()
		}
	} else if p.Family != pipeline.FamilyNone {
		p.Code = s.likelyCode(p.Family)
	}
	p.Action = ActionFor(p.Risk, p.Family, p.Code)
	if p.Action == ActionSuppress && !p.hasEvidence() {
		// Suppressing drops the send for good: only a cause the features
		// show justifies it. A verdict of the model alone defers.
		p.Action = ActionDefer24h
	}
	if explorable(p.Action) && s.cfg.Explore > 0 && exploreDraw(s.cfg.Seed, p.Send.SendID) < s.cfg.Explore {
		p.Action, p.Exploration = ActionExploration, true
	}
	if p.Stale {
		if p.Warning == "" {
			p.Warning = s.staleLow
		} else {
			p.Warning += s.stale
		}
	}
}

// tokenExpired reports whether the send is scheduled at or after its
// WABA's known token expiry, and that expiry.
func (s *Scorer) tokenExpired(send *pipeline.PlannedSend) (int64, bool) {
	exp, ok := s.cfg.TokenExpiry[send.WABAID]
	return exp, ok && exp != pipeline.TokenNeverExpires && send.ScheduledAt >= exp
}

// decideTokenExpired scores a send its WABA's expired token will refuse:
// the refusal comes before any other cause, so the whole failure mass
// goes to auth (190), and the action is to renew the token.
func (s *Scorer) decideTokenExpired(p *Prediction, expiry int64) {
	p.PFail = max(p.PFail, TokenExpiredPFail)
	p.PFamily = [pipeline.NumFamilies]float64{}
	p.PFamily[pipeline.FamilyAuth] = p.PFail
	p.Risk, p.Family, p.Code = RiskHigh, pipeline.FamilyAuth, 190
	when := "at the send"
	if d := p.Send.ScheduledAt - expiry; d > 0 {
		when = ago(float64(d)/3.6e9) + " before the send"
	}
	p.Warning = fmt.Sprintf("the access token of WABA %s expires at %s (token inventory), %s: the send is refused with 190 (access token expired) unless the token is renewed first",
		p.Send.WABAID, FormatTime(expiry), when)
	p.WarningKind = warnTokenExpiry
	p.Action = ActionRenewToken
}

// warnTokenExpiry is the warning kind of sends after a known token expiry.
const warnTokenExpiry = "token_expiry_known"

// hasEvidence reports whether a rule found the cause in the features (as
// opposed to a warning from the model's verdict alone).
func (p *Prediction) hasEvidence() bool {
	return p.WarningKind != "" && !strings.HasPrefix(p.WarningKind, modelKindPrefix)
}

// modelKindPrefix starts the warning kinds of model-only warnings.
const modelKindPrefix = "model_"

// likelyCode returns the likely error code of family f (s.codes).
func (s *Scorer) likelyCode(f pipeline.Family) int32 {
	if int(f) >= 0 && int(f) < len(s.codes) {
		return s.codes[f]
	}
	return likelyCodeOf(s.cfg.LikelyCodes, f)
}

// likelyCodeOf returns the likely error code of family f: the model's
// (codes) when it belongs to f, else DefaultCodes', else none.
func likelyCodeOf(codes map[pipeline.Family]int32, f pipeline.Family) int32 {
	if c, ok := codes[f]; ok && pipeline.FamilyOf(c) == f {
		return c
	}
	if c, ok := DefaultCodes[f]; ok {
		return c
	}
	return pipeline.NoErrorCode
}

// likelyFamily returns the reported family with the highest probability,
// or FamilyNone when all are zero. Ties go to the earlier family.
func likelyFamily(pf *[pipeline.NumFamilies]float64) pipeline.Family {
	best, bestP := pipeline.FamilyNone, 0.0
	for _, f := range predictions.ReportedFamilies {
		if pf[f] > bestP {
			best, bestP = f, pf[f]
		}
	}
	return best
}

// exploreDraw returns a uniform number in [0, 1) determined by seed and
// the send id alone (a PCG stream keyed on both), so the same send is
// explored in every run with the same seed, whatever the batch boundaries.
func exploreDraw(seed uint64, sendID string) float64 {
	h := fnv.New64a()
	h.Write([]byte(sendID))
	src := rand.NewPCG(seed, h.Sum64())
	return float64(src.Uint64()>>11) / (1 << 53)
}
