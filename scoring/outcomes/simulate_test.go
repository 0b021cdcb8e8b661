package outcomes

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/pipeline/ingest"
	"github.com/failcast/failcast/simulate"
)

// TestDeriveFromSimulatedExport: a simulated world written with its raw
// forms (simulate --raw writes raw/plan/, the send log and webhooks of the
// plan's period), exported like a sender's logs (failcast export), gives
// back the simulator's own outcomes for every planned send. There are no
// documented differences on the simulator: every send is joined by send
// (its request ids are not the plan's send ids), and every message's
// failure arrives within seconds.
func TestDeriveFromSimulatedExport(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a world and exports its plan period (~10 s)")
	}
	ctx := context.Background()
	dir := t.TempDir()
	cfg := simulate.DefaultConfig()
	cfg.Seed, cfg.Days, cfg.Recipients, cfg.CampaignsPerDay = 3, 5, 4000, 6
	log := slog.New(slog.DiscardHandler)
	if _, err := simulate.WriteOutputs(ctx, cfg, dir, true, log); err != nil {
		t.Fatal(err)
	}
	ec := ingest.DefaultExportConfig()
	ec.SendLogs = []string{filepath.Join(dir, "raw", "plan", "send-log.ndjson")}
	ec.Webhooks = []string{filepath.Join(dir, "raw", "plan", "webhooks.ndjson")}
	ec.Out = filepath.Join(dir, "after")
	ec.HashKey = []byte(cfg.HashKey)
	ec.Logger = log
	if _, err := ingest.Export(ctx, ec); err != nil {
		t.Fatal(err)
	}
	var plan []pipeline.PlannedSend
	err := pipeline.ReadPlan(ctx, filepath.Join(dir, "plan.parquet"), nil, func(b []pipeline.PlannedSend) error {
		plan = append(plan, b...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := pipeline.OpenDataset(ec.Out)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Derive(ctx, plan, ds, DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pipeline.ReadOutcomes(filepath.Join(dir, "outcomes.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Outcomes) != len(want) || res.Unmatched != 0 || res.Unsettled != 0 {
		t.Fatalf("%d outcomes (unmatched %d, unsettled %d), the simulator has %d", len(res.Outcomes), res.Unmatched, res.Unsettled, len(want))
	}
	failed, diff := 0, 0
	for i, o := range res.Outcomes {
		if o != want[i] {
			if diff++; diff <= 5 {
				t.Errorf("send %s: derived %+v, simulator %+v", o.SendID, o, want[i])
			}
		}
		if o.Failed {
			failed++
		}
	}
	if diff > 0 || failed == 0 {
		t.Errorf("%d of %d outcomes differ; %d failures", diff, len(want), failed)
	}
}
