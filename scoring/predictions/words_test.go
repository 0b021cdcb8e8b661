package predictions_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/predictions"
)

func TestParseAction(t *testing.T) {
	tests := []struct {
		in   string
		want predictions.Action
		ok   bool
	}{
		{"suppress", predictions.ActionSuppress, true},
		{"defer 24h", predictions.ActionDefer24h, true},
		{"throttle", predictions.ActionThrottle, true},
		{"fix template", predictions.ActionFixTemplate, true},
		{"renew token", predictions.ActionRenewToken, true},
		{"send as planned", predictions.ActionSendAsPlanned, true},
		{"send as planned (exploration)", predictions.ActionExploration, true},
		{" Suppress ", predictions.ActionSuppress, true},
		{"", predictions.ActionSendAsPlanned, true},
		{"delete", predictions.ActionSendAsPlanned, false},
		{"suppress;", predictions.ActionSendAsPlanned, false},
	}
	for _, tt := range tests {
		got, err := predictions.ParseAction(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseAction(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	for _, a := range predictions.Actions {
		if back, err := predictions.ParseAction(string(a)); err != nil || back != a {
			t.Errorf("%q does not round-trip through its word: %q, %v", a, back, err)
		}
	}
}

// TestActionColumns: every action has its own sends_<action> column of
// campaigns.csv, in the order of Actions.
func TestActionColumns(t *testing.T) {
	cols := predictions.CampaignColumns()
	first := slices.Index(cols, predictions.Actions[0].Column())
	if first < 0 {
		t.Fatalf("campaigns.csv has no column %q", predictions.Actions[0].Column())
	}
	for i, a := range predictions.Actions {
		if a.Index() != i {
			t.Errorf("%q.Index() = %d, want %d", a, a.Index(), i)
		}
		c := a.Column()
		if !strings.HasPrefix(c, "sends_") || cols[first+i] != c {
			t.Errorf("action %q: column %q, campaigns.csv has %q at its place", a, c, cols[first+i])
		}
	}
	if got := predictions.Action("launch").Column(); got != "" {
		t.Errorf("column of an unknown action: %q", got)
	}
}

func TestParseRisk(t *testing.T) {
	for r := predictions.RiskLow; int(r) < predictions.NumRisks; r++ {
		got, err := predictions.ParseRisk(" " + strings.ToUpper(r.String()) + " ")
		if err != nil || got != r {
			t.Errorf("ParseRisk(%q) = %v, %v", r.String(), got, err)
		}
	}
	if _, err := predictions.ParseRisk("severe"); err == nil || !strings.Contains(err.Error(), "severe") {
		t.Errorf("ParseRisk(severe) = %v, want an error naming it", err)
	}
}

func TestColumns(t *testing.T) {
	want := []string{"send_id", "campaign_id", "phone_number_id", "recipient", "scheduled_at", "p_fail", "risk",
		"likely_family", "likely_code", "p_auth", "p_integrity", "p_throttle", "p_quality", "p_recipient", "p_payload",
		"p_media", "p_template_state", "p_transient", "p_account", "warning", "action", "exploration", "stale_features", "model_version", "reasons"}
	if got := predictions.Columns(); !slices.Equal(got, want) {
		t.Errorf("columns\n got %v\nwant %v", got, want)
	}
	camps := predictions.CampaignColumns()
	for _, c := range []string{predictions.ColCampaignID, predictions.ColRecommendedRateMPS, predictions.ExpectedColumn(pipeline.FamilyThrottle), predictions.ColModelVersion} {
		if !slices.Contains(camps, c) {
			t.Errorf("campaigns.csv has no column %q", c)
		}
	}
	for _, cols := range [][]string{predictions.Columns(), camps, predictions.RejectedColumns()} {
		seen := map[string]bool{}
		for _, c := range cols {
			if seen[c] {
				t.Errorf("column %q twice in %v", c, cols)
			}
			seen[c] = true
		}
	}
}
