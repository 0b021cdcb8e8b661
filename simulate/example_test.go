package simulate_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/simulate"
)

// A small world: simulate its history, then plan the next day and learn
// what would happen to each planned send.
func ExampleRun() {
	cfg := simulate.DefaultConfig()
	cfg.Days, cfg.PlanDays, cfg.Recipients, cfg.CampaignsPerDay = 3, 1, 3000, 6
	ordered := true
	last := int64(0)
	w, err := simulate.Run(context.Background(), cfg, simulate.SinkFunc(func(batch []pipeline.Event) error {
		for _, e := range batch {
			ordered = ordered && e.Timestamp >= last
			last = e.Timestamp
		}
		return nil
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	plan := w.Plan()
	outcomes, err := w.Outcomes(context.Background(), plan)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("history in time order:", ordered)
	fmt.Println("history ends before as-of:", time.UnixMicro(last).Before(cfg.AsOf))
	fmt.Println("one outcome per planned send:", len(outcomes) == len(plan))
	// Output:
	// history in time order: true
	// history ends before as-of: true
	// one outcome per planned send: true
}

// Replay measures what acting on recommendations prevents: here, throttling
// every campaign planned above the 80 messages per second throughput.
func ExampleWorld_Replay() {
	cfg := simulate.DefaultConfig()
	cfg.Days, cfg.PlanDays, cfg.Recipients, cfg.CampaignsPerDay = 3, 1, 3000, 6
	w, err := simulate.Run(context.Background(), cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	plan := w.Plan()
	acts := simulate.Actions{CampaignRate: map[string]float64{}}
	for _, p := range plan {
		if p.CampaignRateMPS > 80 {
			acts.CampaignRate[p.CampaignID] = 80
		}
	}
	rep, err := w.Replay(context.Background(), plan, acts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("prevented some failures:", rep.Prevented > 0)
	// Output:
	// prevented some failures: true
}

// RawWriter writes the history as a sender's send log and Meta's webhooks.
func ExampleWriteRaw() {
	cfg := simulate.DefaultConfig()
	cfg.Days, cfg.Recipients, cfg.CampaignsPerDay = 1, 1000, 2
	sendLog, err := os.CreateTemp("", "send-log-*.ndjson")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.Remove(sendLog.Name())
	defer sendLog.Close()
	webhooks, err := os.CreateTemp("", "webhooks-*.ndjson")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.Remove(webhooks.Name())
	defer webhooks.Close()
	if _, err := simulate.WriteRaw(context.Background(), cfg, sendLog, webhooks); err != nil {
		fmt.Println(err)
		return
	}
	st, _ := webhooks.Stat()
	fmt.Println("webhooks written:", st.Size() > 0)
	// Output:
	// webhooks written: true
}
