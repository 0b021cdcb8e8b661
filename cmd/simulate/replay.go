package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/simulate"
)

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	world := addWorldFlags(fs)
	planPath := fs.String("plan", "", "plan file written by simulate (.parquet or .csv)")
	predictions := fs.String("predictions", "", "predictions CSV with columns send_id and action")
	campaigns := fs.String("campaigns", "", "campaigns CSV with columns campaign_id and recommended_rate_mps (optional)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: simulate replay --plan FILE --predictions FILE [--campaigns FILE] [--json] [world flags]\n\nThe world flags must be those of the run that wrote the plan.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *planPath == "" || *predictions == "" {
		return usagef("replay needs --plan and --predictions")
	}
	cfg, err := world.config()
	if err != nil {
		return err
	}
	log, err := newLogger(world.logFormat, stderr)
	if err != nil {
		return err
	}
	var plan []pipeline.PlannedSend
	err = pipeline.ReadPlan(ctx, *planPath, nil, func(batch []pipeline.PlannedSend) error {
		plan = append(plan, batch...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read plan: %w", err)
	}
	var actions simulate.Actions
	if actions.Send, err = readFile(*predictions, simulate.ReadSendActions); err != nil {
		return err
	}
	if *campaigns != "" {
		if actions.CampaignRate, err = readFile(*campaigns, simulate.ReadCampaignRates); err != nil {
			return err
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
	log.Info("replaying", "plan", *planPath, "sends", len(plan), "predictions", *predictions, "campaign_rates", len(actions.CampaignRate))
	rep, err := simulate.Replay(ctx, cfg, plan, actions)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteTable(stdout)
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
