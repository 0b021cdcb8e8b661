package scoring

import (
	"math"
	"testing"

	"github.com/failcast/failcast/pipeline"

	"github.com/failcast/failcast/scoring/predictions"
)

func TestActionFor(t *testing.T) {
	tests := []struct {
		name string
		risk Risk
		fam  pipeline.Family
		code int32
		want Action
	}{
		{"opted out", RiskHigh, pipeline.FamilyRecipient, 131050, ActionSuppress},
		{"undeliverable", RiskMedium, pipeline.FamilyRecipient, 131026, ActionSuppress},
		{"blocked by business", RiskHigh, pipeline.FamilyRecipient, 130403, ActionSuppress},
		{"marketing limit", RiskHigh, pipeline.FamilyRecipient, 131049, ActionDefer24h},
		{"window closed", RiskHigh, pipeline.FamilyRecipient, 131047, ActionFixTemplate},
		{"throughput", RiskHigh, pipeline.FamilyThrottle, 130429, ActionThrottle},
		{"pair rate", RiskMedium, pipeline.FamilyThrottle, 131056, ActionThrottle},
		{"enforcement limit", RiskHigh, pipeline.FamilyThrottle, 131064, ActionDefer24h},
		{"tier limit", RiskHigh, pipeline.FamilyQuality, 131048, ActionDefer24h},
		{"param count", RiskHigh, pipeline.FamilyPayload, 132000, ActionFixTemplate},
		{"param format", RiskHigh, pipeline.FamilyPayload, 132012, ActionFixTemplate},
		{"recipient is sender", RiskHigh, pipeline.FamilyPayload, 131021, ActionSuppress},
		{"template paused", RiskHigh, pipeline.FamilyTemplateState, 132015, ActionFixTemplate},
		{"template disabled", RiskMedium, pipeline.FamilyTemplateState, 132016, ActionFixTemplate},
		{"media too large", RiskHigh, pipeline.FamilyMedia, 131053, ActionFixTemplate},
		{"token expired", RiskHigh, pipeline.FamilyAuth, 190, ActionRenewToken},
		{"auth exception", RiskMedium, pipeline.FamilyAuth, 0, ActionRenewToken},
		{"policy block", RiskHigh, pipeline.FamilyIntegrity, 368, ActionSuppress},
		{"account", RiskHigh, pipeline.FamilyAccount, 131042, ActionSuppress},
		{"transient", RiskHigh, pipeline.FamilyTransient, 131000, ActionSendAsPlanned},
		{"5xx", RiskHigh, pipeline.FamilyTransient, 503, ActionSendAsPlanned},
		{"unknown family", RiskHigh, pipeline.FamilyUnknown, 999999, ActionSendAsPlanned},
		{"no family", RiskHigh, pipeline.FamilyNone, pipeline.NoErrorCode, ActionSendAsPlanned},
		{"low risk opted out", RiskLow, pipeline.FamilyRecipient, 131050, ActionSendAsPlanned},
		{"low risk token", RiskLow, pipeline.FamilyAuth, 190, ActionSendAsPlanned},
		{"family without code", RiskHigh, pipeline.FamilyRecipient, pipeline.NoErrorCode, ActionSuppress},
		{"code overrides family", RiskHigh, pipeline.FamilyTransient, 131049, ActionDefer24h},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ActionFor(tt.risk, tt.fam, tt.code); got != tt.want {
				t.Errorf("ActionFor(%v, %v, %d) = %q, want %q", tt.risk, tt.fam, tt.code, got, tt.want)
			}
		})
	}
}

func TestRiskOf(t *testing.T) {
	th := Thresholds{High: 0.5, Medium: 0.2}
	tests := []struct {
		p    float64
		want Risk
	}{{0, RiskLow}, {0.1999, RiskLow}, {0.2, RiskMedium}, {0.4999, RiskMedium}, {0.5, RiskHigh}, {1, RiskHigh}}
	for _, tt := range tests {
		if got := th.RiskOf(tt.p); got != tt.want {
			t.Errorf("RiskOf(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	unreached := Thresholds{High: math.Inf(1), Medium: 0.2}
	if got := unreached.RiskOf(1); got != RiskMedium {
		t.Errorf("with an unreached high threshold RiskOf(1) = %v, want medium", got)
	}
}

func TestThresholdsValidate(t *testing.T) {
	tests := []struct {
		th Thresholds
		ok bool
	}{
		{Thresholds{High: 0.5, Medium: 0.2}, true},
		{Thresholds{High: 0.3, Medium: 0.3}, true},
		{Thresholds{High: math.Inf(1), Medium: 0.2}, true},
		{Thresholds{High: 0.2, Medium: 0.5}, true},
		{Thresholds{High: 0.5, Medium: 0}, false},
		{Thresholds{High: math.NaN(), Medium: 0.2}, false},
		{Thresholds{High: 0.5, Medium: -1}, false},
	}
	for _, tt := range tests {
		if err := tt.th.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v.Validate() = %v, want ok %v", tt.th, err, tt.ok)
		}
	}
}

func TestActionsListed(t *testing.T) {
	if len(predictions.Actions) != numActions {
		t.Fatalf("%d actions, numActions %d", len(predictions.Actions), numActions)
	}
	for i, a := range predictions.Actions {
		if actionIndex(a) != i {
			t.Errorf("actionIndex(%q) = %d, want %d", a, actionIndex(a), i)
		}
	}
}
