package scoring

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

// TestKnownTokenExpiry: a send at or after its WABA's known token expiry
// is refused with 190 whatever the model says; other sends are the
// model's.
func TestKnownTokenExpiry(t *testing.T) {
	send := testSend("s") // WABA w1, at testAsOf + 6 h
	at := send.ScheduledAt
	tests := []struct {
		name    string
		expiry  map[string]int64
		pFail   float64
		fam     pipeline.Family
		expired bool
		want    []string // in the warning
	}{
		{"expires 2 h before the send", map[string]int64{"w1": at - 2*3600e6}, 0.05, pipeline.FamilyRecipient, true,
			[]string{"WABA w1 expires at", "2 h before the send", "refused with 190"}},
		{"expires at the send", map[string]int64{"w1": at}, 0.999, pipeline.FamilyThrottle, true, []string{"at the send"}},
		{"expires after the send", map[string]int64{"w1": at + 1}, 0.05, pipeline.FamilyRecipient, false, nil},
		{"never expires", map[string]int64{"w1": pipeline.TokenNeverExpires}, 0.05, pipeline.FamilyRecipient, false, nil},
		{"another WABA's token", map[string]int64{"w2": at - 3600e6}, 0.05, pipeline.FamilyRecipient, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.TokenExpiry = tc.expiry
			sc, err := NewScorer(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ps, err := sc.Score(nil, oneRow(send, tc.pFail, tc.fam, nil))
			if err != nil {
				t.Fatal(err)
			}
			p := ps[0]
			if !tc.expired {
				if p.PFail != tc.pFail || p.WarningKind == warnTokenExpiry || p.Action == ActionRenewToken {
					t.Fatalf("p_fail %v, warning %q, action %q: want the model's verdict", p.PFail, p.WarningKind, p.Action)
				}
				return
			}
			wantP := max(tc.pFail, TokenExpiredPFail)
			if p.PFail != wantP || p.Risk != RiskHigh || p.Family != pipeline.FamilyAuth || p.Code != 190 || p.Action != ActionRenewToken {
				t.Fatalf("p_fail %v risk %v family %v code %d action %q; want %v high auth 190 renew token", p.PFail, p.Risk, p.Family, p.Code, p.Action, wantP)
			}
			for f, v := range p.PFamily {
				if want := map[bool]float64{true: wantP, false: 0}[pipeline.Family(f) == pipeline.FamilyAuth]; v != want {
					t.Fatalf("p_%v = %v, want %v", pipeline.Family(f), v, want)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(p.Warning, w) {
					t.Errorf("warning %q does not contain %q", p.Warning, w)
				}
			}
		})
	}
}

// TestCampaignKnownTokenExpiry: a campaign whose later sends fall after
// the known expiry gets the finding, token_risk and token_expires_at.
func TestCampaignKnownTokenExpiry(t *testing.T) {
	cfg := testConfig()
	first := testSend("x").ScheduledAt
	expiry := first + 5*60e6 // 5 min after the first send
	cfg.TokenExpiry = map[string]int64{"w1": expiry}
	sc, err := NewScorer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cs := NewCampaigns(0, 0)
	for i := range 10 {
		s := testSend("x" + string(rune('a'+i)))
		s.ScheduledAt = first + int64(i)*60e6 // a send a minute
		ps, err := sc.Score(nil, oneRow(s, 0.01, pipeline.FamilyRecipient, nil))
		if err != nil {
			t.Fatal(err)
		}
		cs.Add(ps)
	}
	c := cs.List()[0]
	if c.SendsAfterTokenExpiry != 5 || c.TokenExpiresAt != expiry || c.TokenWABA != "w1" || !c.TokenRisk() {
		t.Fatalf("after expiry %d, expiry %d, WABA %q, risk %v; want 5 sends, %d, w1, true", c.SendsAfterTokenExpiry, c.TokenExpiresAt, c.TokenWABA, c.TokenRisk(), expiry)
	}
	if top := c.TopWarnings(1); len(top) != 1 || !strings.Contains(top[0].Summary, "token expires (token inventory; 190)") {
		t.Errorf("top warnings %v, want the known token expiry described", top)
	}
	findings := strings.Join(c.Findings, "; ")
	for _, w := range []string{"WABA w1 expires at " + FormatTime(expiry), "before 5 of the campaign's 10 sends", "renew it before " + FormatTime(expiry)} {
		if !strings.Contains(findings, w) {
			t.Errorf("findings %q do not contain %q", findings, w)
		}
	}
	var buf bytes.Buffer
	if err := WriteCampaigns(&buf, []*Campaign{c}, "v1"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("campaigns.csv: %d records, %v", len(recs), err)
	}
	col := slices.Index(recs[0], "token_expires_at")
	if col < 0 {
		t.Fatal("campaigns.csv has no token_expires_at column")
	}
	if got := recs[1][col]; got != FormatTime(expiry) {
		t.Errorf("token_expires_at %q, want %q", got, FormatTime(expiry))
	}
}
