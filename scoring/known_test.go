package scoring

import (
	"fmt"
	"strings"
	"testing"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/features/mechanism"
	"github.com/failcast/failcast/pipeline"
)

// TestKnownFailures: sends the announced account state or Meta's policy
// fails are scored as failing with the rule's code whatever the model
// says; others are the model's.
func TestKnownFailures(t *testing.T) {
	mkt := testSend("s") // marketing template, BR, at testAsOf + 6 h
	us := mkt
	us.Country = "US"
	usUtility := us
	usUtility.Category = pipeline.CategoryUtility
	ca := mkt
	ca.Country = "CA"
	utility := mkt
	utility.Category = pipeline.CategoryUtility
	before := us
	before.ScheduledAt = mechanism.USMarketingCutoff - 1
	tests := []struct {
		name   string
		send   pipeline.PlannedSend
		feats  map[string]float32
		code   int32 // 0: the model's verdict stands
		action Action
		want   []string // in the warning
	}{
		{"paused template", mkt, map[string]float32{features.NameTemplatePausedAtSend: 1, features.NameTemplatePauseHoursLeft: 2.5}, 132015, ActionFixTemplate,
			[]string{`template "promo_nov" is paused until 2026-11-01 08:30 UTC`, "132015"}},
		{"pause over", mkt, map[string]float32{features.NameTemplatePausedAtSend: 0, features.NameTemplatePauseHoursLeft: 0}, 0, "", nil},
		{"disabled template", mkt, map[string]float32{features.NameTemplateDisabledAnnounced: 1, features.NameTemplatePausedAtSend: 1}, 132016, ActionFixTemplate, []string{"DISABLED", "132016"}},
		{"restricted", mkt, map[string]float32{features.NameAccountRestrictedAtSend: 1, features.NameAccountRestrictionHoursLeft: 30}, 368, ActionSuppress,
			[]string{"business-initiated messaging of number pn1 is restricted until 2026-11-02 12:00 UTC", "368"}},
		{"restricted without expiry", mkt, map[string]float32{features.NameAccountRestrictedAtSend: 1, features.NameAccountRestrictionHoursLeft: features.NeverHours}, 368, ActionSuppress, []string{"no end announced"}},
		{"locked", mkt, map[string]float32{features.NameAccountRestrictedAtSend: 1, features.NameAccountLocked: 1}, 131031, ActionSuppress, []string{"locked", "131031"}},
		{"stopped marketing", mkt, map[string]float32{features.NameRecipientMarketingStopped: 1, features.NameRecipientHoursSincePref: 30}, 131050, ActionSuppress, []string{"stopped marketing", "30 h before"}},
		{"stopped, utility send", utility, map[string]float32{features.NameRecipientMarketingStopped: 1}, 0, "", nil},
		{"US marketing", us, nil, 131049, ActionSuppress, []string{"US phone number", "2025-04-01"}},
		{"US utility", usUtility, nil, 0, "", nil},
		{"Canadian marketing", ca, nil, 0, "", nil},
		{"US marketing before 2025-04-01", before, nil, 0, "", nil},
		{"the account before the template", us, map[string]float32{features.NameAccountRestrictedAtSend: 1, features.NameTemplatePausedAtSend: 1}, 368, ActionSuppress, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.AsOf = min(cfg.AsOf, tc.send.ScheduledAt)
			cfg.Explore = 1 // known failures are never explored
			sc, err := NewScorer(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ps, err := sc.Score(nil, oneRow(tc.send, 0.05, pipeline.FamilyTransient, tc.feats))
			if err != nil {
				t.Fatal(err)
			}
			p := ps[0]
			if tc.code == 0 {
				if p.PFail != 0.05 || knownIndex(p.WarningKind) >= 0 {
					t.Fatalf("p_fail %v, warning %q: want the model's verdict", p.PFail, p.WarningKind)
				}
				return
			}
			info, _ := pipeline.LookupCode(tc.code)
			if p.PFail != KnownFailurePFail || p.Risk != RiskHigh || p.Code != tc.code || p.Family != info.Family || p.Action != tc.action || p.Exploration {
				t.Fatalf("p_fail %v risk %v family %v code %d action %q exploration %v; want %v high %v %d %q", p.PFail, p.Risk, p.Family, p.Code, p.Action, p.Exploration,
					KnownFailurePFail, info.Family, tc.code, tc.action)
			}
			if p.PFamily[info.Family] != p.PFail {
				t.Fatalf("p_%v = %v, want %v", info.Family, p.PFamily[info.Family], p.PFail)
			}
			for _, w := range tc.want {
				if !strings.Contains(p.Warning, w) {
					t.Errorf("warning %q lacks %q", p.Warning, w)
				}
			}
		})
	}
}

// TestKnownFindings: campaign findings name the announced causes with
// their counts and end times.
func TestKnownFindings(t *testing.T) {
	sc, err := NewScorer(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	cs := NewCampaigns(0, 0)
	var sends []pipeline.PlannedSend
	for i := range 1203 {
		s := testSend(fmt.Sprintf("p%05d", i))
		s.ScheduledAt += int64(i) * 1000
		sends = append(sends, s)
	}
	for _, s := range sends {
		ps, err := sc.Score(nil, oneRow(s, 0.1, pipeline.FamilyRecipient, map[string]float32{
			features.NameTemplatePausedAtSend: 1, features.NameTemplatePauseHoursLeft: float32(float64(testAsOf+10*3600e6+41*60e6-s.ScheduledAt) / 3600e6),
		}))
		if err != nil {
			t.Fatal(err)
		}
		cs.Add(ps)
	}
	c := cs.List()[0]
	got := strings.Join(c.Findings, "; ")
	for _, w := range []string{`template "promo_nov" is paused until 2026-11-01 10:41 UTC`, "1,203 sends would fail with 132015"} {
		if !strings.Contains(got, w) {
			t.Errorf("findings %q lack %q", got, w)
		}
	}
	if strings.Contains(got, "was paused (132015)") {
		t.Errorf("findings %q repeat the pause from the history", got)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 12: "12", 999: "999", 1000: "1,000", 1203: "1,203", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestKnownFindingsWording: counts of one read in the singular.
func TestKnownFindingsWording(t *testing.T) {
	for _, tc := range []struct {
		kind string
		n    int
		want string
	}{
		{warnMarketingStopped, 1, "1 marketing send goes to a recipient who stopped marketing messages (user_preferences): it fails with 131050; suppress it"},
		{warnMarketingStopped, 1500, "1,500 marketing sends go to recipients who stopped marketing messages (user_preferences): they fail with 131050; suppress them"},
		{warnUSMarketing, 1, "1 marketing send goes to a US number: "},
		{warnAccountRestricted, 2, "the account's messaging is restricted with no end announced (account_update): 2 sends would fail with 368"},
	} {
		c := &Campaign{}
		c.KnownFailures[knownIndex(tc.kind)] = tc.n
		c.knownFindings()
		if len(c.Findings) != 1 || !strings.Contains(c.Findings[0], tc.want) {
			t.Errorf("%s x%d: findings %q, want %q", tc.kind, tc.n, c.Findings, tc.want)
		}
	}
}
