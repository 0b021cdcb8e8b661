package scoring_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/failcast/failcast/exitcode"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring"
)

// A send to a recipient who already got three marketing messages today:
// the model says 62% fail, mostly with a recipient error; the features
// show why, and the policy defers the send.
func ExampleScorer() {
	asOf := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	sc, err := scoring.NewScorer(scoring.ScorerConfig{
		Thresholds:   scoring.Thresholds{High: 0.5, Medium: 0.2},
		ModelVersion: "20261101T020000Z-abc123",
		AsOf:         asOf.UnixMicro(),
	})
	if err != nil {
		panic(err)
	}
	send := pipeline.PlannedSend{
		SendID: "s-1", CampaignID: "black-friday", PhoneNumberID: "pn-1", Recipient: "h:0123456789abcdef",
		Template: "promo", Category: pipeline.CategoryMarketing, MessageType: "template",
		MediaBytes: pipeline.NoMediaBytes, ScheduledAt: asOf.Add(9 * time.Hour).UnixMicro(),
	}
	pFamily := make([]float64, pipeline.NumFamilies)
	pFamily[pipeline.FamilyRecipient] = 0.58
	pFamily[pipeline.FamilyTransient] = 0.04
	preds, err := sc.Score(nil, scoring.Batch{
		Sends:    []pipeline.PlannedSend{send},
		Features: scoring.Features{Names: []string{"recipient_marketing_24h"}, X: []float32{3}},
		PFail:    []float64{0.62},
		PFamily:  [][]float64{pFamily},
	})
	if err != nil {
		panic(err)
	}
	p := preds[0]
	fmt.Println(p.Risk, p.Family, p.Code, p.Action)
	fmt.Println(p.Warning)

	w, _ := scoring.NewPredictionWriter(os.Stdout, "20261101T020000Z-abc123")
	w.Write(preds)
	w.Flush()
	// Output:
	// high recipient 131049 defer 24h
	// recipient received 3 marketing messages in 24 h; per-user marketing limit (131049) likely
	// send_id,campaign_id,phone_number_id,recipient,scheduled_at,p_fail,risk,likely_family,likely_code,p_auth,p_integrity,p_throttle,p_quality,p_recipient,p_payload,p_media,p_template_state,p_transient,p_account,warning,action,exploration,stale_features,model_version,reasons
	// s-1,black-friday,pn-1,h:0123456789abcdef,2026-11-01T09:00:00.000Z,0.6200,high,recipient,131049,0.0000,0.0000,0.0000,0.0000,0.5800,0.0000,0.0000,0.0000,0.0400,0.0000,recipient received 3 marketing messages in 24 h; per-user marketing limit (131049) likely,defer 24h,false,false,20261101T020000Z-abc123,
}

// A scheduled job scores tomorrow's plan against the history and the
// registry's current model, and exits with the code of the error's class.
func ExampleRun() {
	cfg := scoring.DefaultConfig()
	cfg.Plans = []string{"plans/2026-11-02.parquet"}
	cfg.History = "history/"
	cfg.Registry = "registry/"
	cfg.AsOf = time.Date(2026, 11, 1, 22, 0, 0, 0, time.UTC)
	cfg.Out = "scored/2026-11-02"
	cfg.HashKey, cfg.HashKeyFrom = []byte(os.Getenv("FAILCAST_HASH_KEY")), "$FAILCAST_HASH_KEY"
	cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	res, err := scoring.Run(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(exitcode.Of(err)) // 3 for a bad plan, history or model
	}
	res.WriteSummary(os.Stdout, 5)
}
