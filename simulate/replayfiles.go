package simulate

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/pipeline"
)

// ReplayFiles name the files ReplayFromFiles reads.
type ReplayFiles struct {
	Plan        string // the plan the world wrote (.parquet or .csv)
	Predictions string // predictions CSV with columns send_id and action
	Campaigns   string // campaigns CSV with campaign_id and recommended_rate_mps; "" for none
}

// ReplayFromFiles reads a plan and a scoring run's recommendations from
// files and replays the plan in the world of cfg (which must be the world
// that wrote the plan) with the recommendations applied. Predictions that
// name sends not in the plan are ignored, with a warning in log. A file
// that cannot be read or understood is bad input (exitcode.Input).
func ReplayFromFiles(ctx context.Context, cfg Config, files ReplayFiles, log *slog.Logger) (*ReplayReport, error) {
	var plan []pipeline.PlannedSend
	err := pipeline.ReadPlan(ctx, files.Plan, nil, func(batch []pipeline.PlannedSend) error {
		plan = append(plan, batch...)
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, exitcode.AsInput(fmt.Errorf("read plan: %w", err))
	}
	var actions Actions
	if actions.Send, err = readFile(files.Predictions, ReadSendActions); err != nil {
		return nil, exitcode.AsInput(err)
	}
	if files.Campaigns != "" {
		if actions.CampaignRate, err = readFile(files.Campaigns, ReadCampaignRates); err != nil {
			return nil, exitcode.AsInput(err)
		}
	}
	known := make(map[string]bool, len(plan))
	for _, p := range plan {
		known[p.SendID] = true
	}
	unknown := 0
	for id := range actions.Send {
		if !known[id] {
			unknown++
		}
	}
	if unknown > 0 {
		log.Warn("predictions name sends that are not in the plan; they are ignored", "sends", unknown)
	}
	log.Info("replaying", "plan", files.Plan, "sends", len(plan), "predictions", files.Predictions, "campaign_rates", len(actions.CampaignRate))
	return Replay(ctx, cfg, plan, actions)
}

// readFile opens path and reads it with read.
func readFile[T any](path string, read func(name string, r io.Reader) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return read(path, f)
}
