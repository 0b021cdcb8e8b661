package predictions

import (
	"strconv"

	"github.com/failcast/failcast/pipeline"
)

// TimeLayout is the layout of times in the CSVs: RFC 3339 in UTC with
// milliseconds, the same number of characters in every row.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Columns of predictions.csv that readers look up by name. The p_<family>
// columns are named by FamilyColumn.
const (
	ColSendID        = "send_id"
	ColCampaignID    = "campaign_id"
	ColPhoneNumberID = "phone_number_id"
	ColRecipient     = "recipient"
	ColScheduledAt   = "scheduled_at"
	ColPFail         = "p_fail"
	ColRisk          = "risk"
	ColLikelyFamily  = "likely_family"
	ColLikelyCode    = "likely_code"
	ColWarning       = "warning"
	ColReasons       = "reasons"
	ColAction        = "action"
	ColExploration   = "exploration"
	ColStaleFeatures = "stale_features"
	ColModelVersion  = "model_version"
)

// ColRecommendedRateMPS is the campaigns.csv column with the rate a
// throttled campaign is recommended to send at (empty: no throttling).
const ColRecommendedRateMPS = "recommended_rate_mps"

// ReportedFamilies are the failure families with a p_<family> column in
// predictions.csv and an expected_<family> column in campaigns.csv, in
// pipeline class order (none and unknown are left out).
var ReportedFamilies = func() []pipeline.Family {
	var fs []pipeline.Family
	for f := pipeline.FamilyNone + 1; f < pipeline.FamilyUnknown; f++ {
		fs = append(fs, f)
	}
	return fs
}()

// FamilyColumn is the predictions.csv column with the probability of
// failing with an error of family f ("p_throttle").
func FamilyColumn(f pipeline.Family) string { return "p_" + f.String() }

// ExpectedColumn is the campaigns.csv column with the campaign's expected
// failures of family f ("expected_throttle").
func ExpectedColumn(f pipeline.Family) string { return "expected_" + f.String() }

// Columns returns the columns of predictions.csv, in order.
func Columns() []string { return append([]string(nil), predictionColumns...) }

var predictionColumns = func() []string {
	c := []string{ColSendID, ColCampaignID, ColPhoneNumberID, ColRecipient, ColScheduledAt, ColPFail, ColRisk, ColLikelyFamily, ColLikelyCode}
	for _, f := range ReportedFamilies {
		c = append(c, FamilyColumn(f))
	}
	// reasons came last, after model_version: readers that take columns
	// by position keep working.
	return append(c, ColWarning, ColAction, ColExploration, ColStaleFeatures, ColModelVersion, ColReasons)
}()

// CampaignColumns returns the columns of campaigns.csv, in order.
func CampaignColumns() []string { return append([]string(nil), campaignColumns...) }

var campaignColumns = func() []string {
	c := []string{ColCampaignID, ColPhoneNumberID, "template_name", "category", "first_scheduled_at", "last_scheduled_at",
		"planned_sends", "expected_failures"}
	for _, f := range ReportedFamilies {
		c = append(c, ExpectedColumn(f))
	}
	c = append(c, "high_risk_sends", "medium_risk_sends", "share_high_risk")
	c = append(c, actionColumns[:]...)
	c = append(c, "stale_sends",
		"planned_rate_mps", "throughput_mps", "rate_above_throughput", ColRecommendedRateMPS,
		"peak_unique_recipients_24h", "tier_limit", "above_tier_limit",
		"template_paused_recently", "template_param_error_rate", "window_closed_sends", "token_risk", "token_expires_at")
	for i := 1; i <= 3; i++ {
		n := strconv.Itoa(i)
		c = append(c, "top_warning_"+n, "top_warning_"+n+"_sends")
	}
	return append(c, "findings", ColModelVersion)
}()

// RejectedColumns returns the columns of rejected_rows.csv, in order.
func RejectedColumns() []string { return []string{"file", "row", "column", "reason"} }
