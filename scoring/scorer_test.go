package scoring

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/pipeline"
)

var testAsOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

func testConfig() ScorerConfig {
	return ScorerConfig{
		Thresholds:   Thresholds{High: 0.5, Medium: 0.2},
		LikelyCodes:  map[pipeline.Family]int32{pipeline.FamilyRecipient: 131049, pipeline.FamilyPayload: 132012},
		ModelVersion: "20261101T020000Z-abc123",
		AsOf:         testAsOf,
	}
}

func testSend(id string) pipeline.PlannedSend {
	return pipeline.PlannedSend{
		SendID: id, CampaignID: "c1", WABAID: "w1", PhoneNumberID: "pn1", Recipient: "h:0123456789abcdef",
		Country: "BR", Template: "promo_nov", Language: "pt_BR", Category: pipeline.CategoryMarketing,
		MessageType: "template", MediaBytes: pipeline.NoMediaBytes, ScheduledAt: testAsOf + 6*3600e6,
	}
}

// familyProbs returns P(fail with family) with all mass pFail on f.
func familyProbs(f pipeline.Family, pFail float64) []float64 {
	p := make([]float64, pipeline.NumFamilies)
	p[f] = pFail
	return p
}

// oneRow is a single-send batch with the named feature values.
func oneRow(s pipeline.PlannedSend, pFail float64, fam pipeline.Family, feats map[string]float32) Batch {
	var f Features
	for n, v := range feats {
		f.Names = append(f.Names, n)
		f.X = append(f.X, v)
	}
	return Batch{Sends: []pipeline.PlannedSend{s}, Features: f, PFail: []float64{pFail}, PFamily: [][]float64{familyProbs(fam, pFail)}}
}

func TestScoreWarnings(t *testing.T) {
	name := func(k int) string { return featureNames[k] }
	service := testSend("s")
	service.Category, service.MessageType, service.Template = pipeline.CategoryService, "text", ""
	image := testSend("s")
	image.MessageType, image.MediaBytes, image.Template = "image", 6<<20, "" // free-form
	headerMedia := testSend("s")                                             // a marketing template with an image header
	headerMedia.MediaBytes = 6 << 20
	fast := testSend("s")
	fast.CampaignRateMPS = 150
	tests := []struct {
		name     string
		send     pipeline.PlannedSend
		p        float64
		fam      pipeline.Family
		feats    map[string]float32
		code     int32
		kind     string
		action   Action
		contains []string
	}{
		{"marketing limit", testSend("s"), 0.6, pipeline.FamilyRecipient, map[string]float32{name(fRcptMarketing24h): 3},
			131049, "marketing_limit", ActionDefer24h, []string{"recipient received 3 marketing messages in 24 h; per-user marketing limit (131049) likely"}},
		{"opted out wins over marketing load", testSend("s"), 0.9, pipeline.FamilyRecipient, map[string]float32{name(fRcptMarketing24h): 3, name(fRcptHoursSinceOptOut): 200},
			131050, "opted_out", ActionSuppress, []string{"stopped marketing messages", "(131050 8 d before the send)"}},
		{"undeliverable", testSend("s"), 0.7, pipeline.FamilyRecipient, map[string]float32{name(fRcptHoursSinceInvalid): 30, name(fRcptInvalid30d): 4},
			131026, "undeliverable", ActionSuppress, []string{"undeliverable about 4 times in 30 d, last 30 h before the send", "(131026)"}},
		{"window closed", service, 0.7, pipeline.FamilyRecipient, map[string]float32{name(fRcptHoursSinceInbound): 40},
			131047, "window_closed", ActionFixTemplate, []string{"free-form text message", "last wrote 40 h before the send", "(131047)"}},
		{"window never opened", service, 0.7, pipeline.FamilyRecipient, map[string]float32{name(fRcptHoursSinceInbound): 1e6},
			131047, "window_closed", ActionFixTemplate, []string{"never wrote"}},
		{"recipient without visible cause", testSend("s"), 0.3, pipeline.FamilyRecipient, nil,
			131049, "model_recipient", ActionDefer24h, []string{"recipient failure likely (p_fail 0.3000)", "(131049)"}},
		{"integrity by the model alone defers", testSend("s"), 0.8, pipeline.FamilyIntegrity, nil,
			368, "model_integrity", ActionDefer24h, []string{"integrity failure likely (p_fail 0.8000)"}},
		{"pair rate", testSend("s"), 0.4, pipeline.FamilyThrottle, map[string]float32{name(fPairHoursSincePrev): 2.5 / 3600},
			131056, "pair_rate", ActionThrottle, []string{"only 2.5 s earlier", "(131056)"}},
		{"throughput from plan rate", fast, 0.4, pipeline.FamilyThrottle, nil,
			130429, "throughput", ActionThrottle, []string{"150.0 mps", "throughput of 80.0 mps", "(130429)"}},
		{"tier", testSend("s"), 0.5, pipeline.FamilyQuality, map[string]float32{name(fPhoneUnique24h): 2400, name(fPhoneTierLimit): 2000},
			131048, "tier_limit", ActionDefer24h, []string{"2400 unique recipients", "tier limit of 2000"}},
		{"template params", testSend("s"), 0.8, pipeline.FamilyPayload, map[string]float32{name(fTemplateParamRate): 0.37},
			132000, "template_params", ActionFixTemplate, []string{`template "promo_nov" failed with parameter errors in 37% of its recent sends`}},
		{"features overrule a family head that shows no cause", testSend("s"), 0.8, pipeline.FamilyRecipient, map[string]float32{name(fTemplateParamRate): 0.37},
			132000, "template_params", ActionFixTemplate, []string{`parameter errors in 37% of its recent sends`}},
		{"media too large", image, 0.8, pipeline.FamilyMedia, nil,
			131053, "media_too_large", ActionFixTemplate, []string{"image is 6.0 MB, above the 5.0 MB limit for images"}},
		{"template media header too large, the recipient's cause visible too", headerMedia, 0.9, pipeline.FamilyMedia, map[string]float32{name(fRcptMarketing24h): 2},
			131053, "media_too_large", ActionFixTemplate, []string{"template media header is 6.0 MB, above the 5.0 MB limit for image headers (the header is taken for an image)"}},
		{"template paused", testSend("s"), 0.8, pipeline.FamilyTemplateState, map[string]float32{name(fTemplateHoursSincePause): 5},
			132015, "template_paused", ActionFixTemplate, []string{"paused 5 h before the send"}},
		{"template disabled", testSend("s"), 0.8, pipeline.FamilyTemplateState, map[string]float32{name(fTemplateDisabled): 1, name(fTemplateHoursSincePause): 5},
			132016, "template_disabled", ActionFixTemplate, []string{"permanently disabled (132016 in history)"}},
		{"token", testSend("s"), 0.8, pipeline.FamilyAuth, map[string]float32{name(fPhoneAuthErrors24h): 12},
			190, "token_expired", ActionRenewToken, []string{"about 12 auth errors on this number in the last day"}},
		{"outage", testSend("s"), 0.3, pipeline.FamilyTransient, map[string]float32{name(fPhoneTransient24h): 9, name(fPhoneHoursSinceTransient): 4.5},
			131000, "outage", ActionSendAsPlanned, []string{"about 9 transient platform errors on this number in the last day, the last 4.5 h before the send"}},
		{"low risk gets no warning", testSend("s"), 0.1, pipeline.FamilyRecipient, map[string]float32{name(fRcptMarketing24h): 3},
			131049, "", ActionSendAsPlanned, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := NewScorer(testConfig())
			if err != nil {
				t.Fatal(err)
			}
			ps, err := sc.Score(nil, oneRow(tt.send, tt.p, tt.fam, tt.feats))
			if err != nil {
				t.Fatal(err)
			}
			p := ps[0]
			if p.Code != tt.code || p.WarningKind != tt.kind || p.Action != tt.action {
				t.Errorf("code %d kind %q action %q, want %d %q %q (warning %q)", p.Code, p.WarningKind, p.Action, tt.code, tt.kind, tt.action, p.Warning)
			}
			if tt.contains == nil && p.Warning != "" {
				t.Errorf("warning %q, want none", p.Warning)
			}
			for _, s := range tt.contains {
				if !strings.Contains(p.Warning, s) {
					t.Errorf("warning %q does not contain %q", p.Warning, s)
				}
			}
		})
	}
}

func TestScoreWithoutFamilyHead(t *testing.T) {
	sc, err := NewScorer(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	b := oneRow(testSend("s"), 0.7, pipeline.FamilyNone, map[string]float32{featureNames[fRcptHoursSinceOptOut]: 100})
	b.PFamily = nil
	ps, err := sc.Score(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if p := ps[0]; p.Family != pipeline.FamilyRecipient || p.Code != 131050 || p.Action != ActionSuppress {
		t.Errorf("got family %v code %d action %q, want the features' cause (recipient 131050 suppress)", p.Family, p.Code, p.Action)
	}
}

func TestSuppressNeedsEvidence(t *testing.T) {
	cfg := testConfig()
	cfg.LikelyCodes = map[pipeline.Family]int32{pipeline.FamilyRecipient: 131026}
	sc, err := NewScorer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		feats  map[string]float32
		action Action
	}{
		{"model alone", nil, ActionDefer24h},
		{"undeliverable in history", map[string]float32{featureNames[fRcptHoursSinceInvalid]: 50}, ActionSuppress},
	}
	for _, tt := range tests {
		ps, err := sc.Score(nil, oneRow(testSend("s"), 0.8, pipeline.FamilyRecipient, tt.feats))
		if err != nil {
			t.Fatal(err)
		}
		if p := ps[0]; p.Code != 131026 || p.Action != tt.action {
			t.Errorf("%s: code %d action %q, want 131026 %q", tt.name, p.Code, p.Action, tt.action)
		}
	}
}

func TestScoreStale(t *testing.T) {
	sc, err := NewScorer(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	hi := oneRow(testSend("a"), 0.6, pipeline.FamilyRecipient, map[string]float32{featureNames[fRcptMarketing24h]: 2})
	lo := oneRow(testSend("b"), 0.01, pipeline.FamilyRecipient, nil)
	hi.Stale, lo.Stale = []bool{true}, []bool{true}
	ps, err := sc.Score(nil, hi)
	if err == nil {
		ps, err = sc.Score(ps, lo)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !ps[0].Stale || !strings.HasPrefix(ps[0].Warning, "recipient received 2") || !strings.Contains(ps[0].Warning, "stale features: computed as of 2026-11-01T00:00:00Z") {
		t.Errorf("high-risk stale send: stale %v warning %q", ps[0].Stale, ps[0].Warning)
	}
	if !ps[1].Stale || !strings.HasPrefix(ps[1].Warning, "stale features") {
		t.Errorf("low-risk stale send: stale %v warning %q", ps[1].Stale, ps[1].Warning)
	}
}

func TestScoreRejectsBadInput(t *testing.T) {
	sc, err := NewScorer(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	good := oneRow(testSend("s"), 0.1, pipeline.FamilyRecipient, map[string]float32{"x": 1})
	tests := []struct {
		name   string
		mutate func(b *Batch)
	}{
		{"NaN probability", func(b *Batch) { b.PFail = []float64{math.NaN()} }},
		{"probability above 1", func(b *Batch) { b.PFail = []float64{1.5} }},
		{"missing probabilities", func(b *Batch) { b.PFail = nil }},
		{"long family row", func(b *Batch) { b.PFamily = [][]float64{make([]float64, pipeline.NumFamilies+1)} }},
		{"NaN family probability", func(b *Batch) { b.PFamily = [][]float64{{0.9, math.NaN()}} }},
		{"feature matrix shape", func(b *Batch) { b.Features.X = append(b.Features.X, 2) }},
		{"stale length", func(b *Batch) { b.Stale = []bool{true, false} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := good
			b.Features.X = append([]float32(nil), good.Features.X...)
			tt.mutate(&b)
			if _, err := sc.Score(nil, b); err == nil {
				t.Error("Score accepted a bad batch")
			}
		})
	}
	if _, err := NewScorer(ScorerConfig{Thresholds: Thresholds{High: 0.5, Medium: 0.2}, Explore: 1.5}); err == nil {
		t.Error("NewScorer accepted an exploration share of 1.5")
	}
}

func TestExplorationDeterministic(t *testing.T) {
	const n = 4000
	sends := make([]pipeline.PlannedSend, n)
	pf := make([]float64, n)
	pfam := make([][]float64, n)
	for i := range sends {
		sends[i] = testSend("send-" + strconv.Itoa(i))
		pf[i] = 0.9
		fam := pipeline.FamilyRecipient // suppress or defer: explorable
		if i%4 == 3 {
			fam = pipeline.FamilyAuth // renew token: never explored
		}
		pfam[i] = familyProbs(fam, 0.9)
	}
	run := func(seed uint64, explore float64, batch int) []bool {
		cfg := testConfig()
		cfg.Seed, cfg.Explore = seed, explore
		sc, err := NewScorer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var out []bool
		var ps []Prediction
		for lo := 0; lo < n; lo += batch {
			hi := min(lo+batch, n)
			ps, err = sc.Score(ps[:0], Batch{Sends: sends[lo:hi], PFail: pf[lo:hi], PFamily: pfam[lo:hi]})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if p.Exploration != (p.Action == ActionExploration) {
					t.Fatalf("send %s: exploration %v with action %q", p.Send.SendID, p.Exploration, p.Action)
				}
				if p.Exploration && p.Family == pipeline.FamilyAuth {
					t.Fatalf("send %s: renew-token send explored", p.Send.SendID)
				}
				out = append(out, p.Exploration)
			}
		}
		return out
	}
	countTrue := func(bs []bool) int {
		c := 0
		for _, b := range bs {
			if b {
				c++
			}
		}
		return c
	}
	a, b := run(7, 0.1, n), run(7, 0.1, 333)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("send %d: exploration differs between batch sizes with the same seed", i)
		}
	}
	explorable := n * 3 / 4
	if got := countTrue(a); got < explorable*7/100 || got > explorable*13/100 {
		t.Errorf("explored %d of %d explorable sends, want about 10%%", got, explorable)
	}
	c := run(8, 0.1, n)
	diff := 0
	for i := range a {
		if a[i] != c[i] {
			diff++
		}
	}
	if diff == 0 {
		t.Error("another seed explores exactly the same sends")
	}
	if got := countTrue(run(7, 0, n)); got != 0 {
		t.Errorf("explore 0 explored %d sends", got)
	}
}
