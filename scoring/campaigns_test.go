package scoring

import (
	"bytes"
	"encoding/csv"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/failcast/failcast/pipeline"

	"github.com/failcast/failcast/scoring/predictions"
)

// campaignOf scores n sends of campaign id spaced 1/rate seconds apart,
// each with P(fail) p of family fam and the given features, and returns the
// finished aggregate.
func campaignOf(t *testing.T, id string, n int, spacingUS int64, planRate, p float64, fam pipeline.Family, feats map[string]float32) *Campaign {
	t.Helper()
	sc, err := NewScorer(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	cs := NewCampaigns(0, 0)
	var f Features
	for k := range feats {
		f.Names = append(f.Names, k)
	}
	slices.Sort(f.Names)
	for i := 0; i < n; i++ {
		s := testSend(id + "-" + string(rune('a'+i%26)))
		s.CampaignID = id
		s.ScheduledAt += int64(i) * spacingUS
		s.CampaignRateMPS = planRate
		b := oneRow(s, p, fam, nil)
		b.Features = Features{Names: f.Names}
		for _, k := range f.Names {
			b.Features.X = append(b.Features.X, feats[k])
		}
		ps, err := sc.Score(nil, b)
		if err != nil {
			t.Fatal(err)
		}
		cs.Add(ps)
	}
	list := cs.List()
	if len(list) != 1 {
		t.Fatalf("%d campaigns, want 1", len(list))
	}
	return list[0]
}

func TestCampaignFindings(t *testing.T) {
	name := func(k int) string { return featureNames[k] }
	tests := []struct {
		name        string
		c           *Campaign
		rate        float64
		above       bool
		recommended float64
		tier        bool
		paused      bool
		token       bool
		findings    []string
	}{
		{"rate from plan above throughput", campaignOf(t, "fast", 50, 5000, 200, 0.05, pipeline.FamilyThrottle, nil),
			200, true, 72, false, false, false, []string{"planned rate 200.0 mps is above the number's throughput of 80.0 mps", "60% of sends would fail with 130429", "throttle to 72.0 mps"}},
		{"rate from timestamps above throughput", campaignOf(t, "burst", 300, 6667, 0, 0.05, pipeline.FamilyThrottle, nil),
			150, true, 72, false, false, false, []string{"planned rate 150.0 mps"}},
		{"rate within throughput", campaignOf(t, "calm", 200, 20000, 0, 0.01, pipeline.FamilyRecipient, nil),
			50, false, 0, false, false, false, nil},
		{"overlapping campaigns on the number", campaignOf(t, "overlap", 100, 20000, 50, 0.01, pipeline.FamilyRecipient, map[string]float32{name(fPhoneSends1s): 99}),
			50, false, 36, false, false, false, []string{"peak at 100.0 mps", "throttle this campaign to 36.0 mps"}},
		{"tier limit", campaignOf(t, "tier", 10, 1e6, 10, 0.3, pipeline.FamilyQuality, map[string]float32{name(fPhoneUnique24h): 2500, name(fPhoneTierLimit): 2000}),
			10, false, 0, true, false, false, []string{"2500 unique recipients in 24 h against its tier limit of 2000"}},
		{"unlimited tier", campaignOf(t, "tier-unlimited", 10, 1e6, 10, 0.01, pipeline.FamilyQuality, map[string]float32{name(fPhoneUnique24h): 2e5, name(fPhoneTierLimit): 1e7}),
			10, false, 0, false, false, false, nil},
		{"within tier", campaignOf(t, "tier-ok", 10, 1e6, 10, 0.01, pipeline.FamilyQuality, map[string]float32{name(fPhoneUnique24h): 1500, name(fPhoneTierLimit): 2000}),
			10, false, 0, false, false, false, nil},
		{"template paused", campaignOf(t, "paused", 10, 1e6, 10, 0.3, pipeline.FamilyTemplateState, map[string]float32{name(fTemplateHoursSincePause): 30}),
			10, false, 0, false, true, false, []string{`template "promo_nov" was paused (132015) 30 h before the campaign's first send`}},
		{"template paused long ago", campaignOf(t, "paused-old", 10, 1e6, 10, 0.01, pipeline.FamilyTemplateState, map[string]float32{name(fTemplateHoursSincePause): 1000}),
			10, false, 0, false, false, false, nil},
		{"template parameter errors", campaignOf(t, "params", 10, 1e6, 10, 0.05, pipeline.FamilyPayload, map[string]float32{name(fTemplateParamRate): 0.82}),
			10, false, 0, false, false, false, []string{`template "promo_nov" failed with parameter errors (132000/132012) in 82% of its recent sends`}},
		{"template parameter errors below 2%", campaignOf(t, "params-ok", 10, 1e6, 10, 0.05, pipeline.FamilyPayload, map[string]float32{name(fTemplateParamRate): 0.01}),
			10, false, 0, false, false, false, nil},
		{"token from history", campaignOf(t, "token", 10, 1e6, 10, 0.1, pipeline.FamilyAuth, map[string]float32{name(fPhoneAuthErrors24h): 40}),
			10, false, 0, false, false, true, []string{"access token may be expired", "about 40 auth errors (190)"}},
		{"token from the model", campaignOf(t, "token-model", 10, 1e6, 10, 0.3, pipeline.FamilyAuth, nil),
			10, false, 0, false, false, true, []string{"3.0 sends expected to fail with auth errors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			if math.Abs(c.PlannedRateMPS-tt.rate) > 1 {
				t.Errorf("planned rate %v, want %v", c.PlannedRateMPS, tt.rate)
			}
			if c.RateAboveThroughput() != tt.above || math.Abs(c.RecommendedMPS-tt.recommended) > 1e-9 {
				t.Errorf("above throughput %v recommended %v, want %v %v", c.RateAboveThroughput(), c.RecommendedMPS, tt.above, tt.recommended)
			}
			if c.AboveTierLimit() != tt.tier || c.TemplatePausedRecently() != tt.paused || c.TokenRisk() != tt.token {
				t.Errorf("tier %v paused %v token %v, want %v %v %v", c.AboveTierLimit(), c.TemplatePausedRecently(), c.TokenRisk(), tt.tier, tt.paused, tt.token)
			}
			all := strings.Join(c.Findings, "; ")
			if tt.findings == nil && all != "" {
				t.Errorf("findings %q, want none", all)
			}
			for _, s := range tt.findings {
				if !strings.Contains(all, s) {
					t.Errorf("findings %q do not contain %q", all, s)
				}
			}
		})
	}
}

func TestCampaignWindowClosed(t *testing.T) {
	sc, err := NewScorer(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	cs := NewCampaigns(0, 0)
	for i, h := range []float32{2, 30, 1e6, 20} {
		s := testSend("w" + strconv.Itoa(i))
		s.CampaignID, s.Category, s.MessageType, s.Template = "service", pipeline.CategoryService, "text", ""
		ps, err := sc.Score(nil, oneRow(s, 0.01, pipeline.FamilyRecipient, map[string]float32{featureNames[fRcptHoursSinceInbound]: h}))
		if err != nil {
			t.Fatal(err)
		}
		cs.Add(ps)
	}
	// A template send never counts, whatever its recipient's window.
	ps, _ := sc.Score(nil, oneRow(testSend("tpl"), 0.01, pipeline.FamilyRecipient, map[string]float32{featureNames[fRcptHoursSinceInbound]: 1e6}))
	ps[0].Send.CampaignID = "service"
	cs.Add(ps)
	c := cs.List()[0]
	if c.FreeFormSends != 4 || c.WindowClosedSends != 2 {
		t.Errorf("free-form %d, window closed %d, want 4 and 2", c.FreeFormSends, c.WindowClosedSends)
	}
	if want := "2 of 4 free-form sends go to recipients whose 24-hour service window is closed (131047)"; !strings.Contains(strings.Join(c.Findings, "; "), want) {
		t.Errorf("findings %q lack %q", c.Findings, want)
	}
}

func TestCampaignsCSV(t *testing.T) {
	sc, err := NewScorer(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	cs := NewCampaigns(80, 0.9)
	mk24 := featureNames[fRcptMarketing24h]
	add := func(campaign string, n int, p float64, fam pipeline.Family, mk float32) {
		for i := 0; i < n; i++ {
			s := testSend(campaign + strings.Repeat("x", i))
			s.CampaignID = campaign
			b := oneRow(s, p, fam, map[string]float32{mk24: mk})
			ps, err := sc.Score(nil, b)
			if err != nil {
				t.Fatal(err)
			}
			cs.Add(ps)
		}
	}
	add("=cmd|' /C calc'!A0", 4, 0.6, pipeline.FamilyRecipient, 3) // high risk, marketing limit
	add("=cmd|' /C calc'!A0", 2, 0.3, pipeline.FamilyRecipient, 0) // medium, model-only warning
	add("quiet", 10, 0.01, pipeline.FamilyRecipient, 0)

	var buf bytes.Buffer
	if err := WriteCampaigns(&buf, cs.List(), "v1"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], predictions.CampaignColumns()) || len(recs) != 3 {
		t.Fatalf("header %v, %d records", recs[0], len(recs))
	}
	col := func(r []string, name string) string {
		i := slices.Index(recs[0], name)
		if i < 0 {
			t.Fatalf("no column %q", name)
		}
		return r[i]
	}
	r := recs[1] // most expected failures first
	checks := []struct{ got, want string }{
		{col(r, "campaign_id"), "'=cmd|' /C calc'!A0"},
		{col(r, "planned_sends"), "6"},
		{col(r, "expected_failures"), "3.00"},
		{col(r, "expected_recipient"), "3.00"},
		{col(r, "high_risk_sends"), "4"},
		{col(r, "medium_risk_sends"), "2"},
		{col(r, "share_high_risk"), "0.6667"},
		{col(r, "sends_defer_24h"), "6"},
		{col(r, "top_warning_1"), "recipients who already got marketing messages in the last 24 h (131049)"},
		{col(r, "top_warning_1_sends"), "4"},
		{col(r, "top_warning_2_sends"), "2"},
		{col(r, "top_warning_3"), ""},
		{col(r, "recommended_rate_mps"), ""},
		{col(recs[2], "campaign_id"), "quiet"},
		{col(recs[2], "expected_failures"), "0.10"},
		{col(recs[2], "sends_send_as_planned"), "10"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	tot := cs.Totals()
	if tot.Sends != 16 || tot.ByAction[ActionDefer24h] != 6 || tot.ByRisk[RiskHigh] != 4 || tot.TopWarnings[0].Kind != "marketing_limit" {
		t.Errorf("totals %+v", tot)
	}
}

// TestRateTextSlowCampaign: the rate of a slow campaign overlapping a busy
// number is written as a positive number (it read 0.0, which replay and
// other readers refuse as a recommended rate).
func TestRateTextSlowCampaign(t *testing.T) {
	for v, want := range map[float64]string{0.018: "0.018", 0.5: "0.5", 0.94: "0.94", 1: "1.0", 72: "72.0", 0: "0.0"} {
		if got := rateText(v); got != want {
			t.Errorf("rateText(%v) = %q, want %q", v, got, want)
		}
	}
}
