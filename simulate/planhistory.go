package simulate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/failcast/failcast/internal/atomicfile"

	"github.com/failcast/failcast/pipeline"
)

// PlanHistory plays the plan forward from AsOf like Outcomes and streams
// the history rows the plan's period produces to sink: what a history
// export made after the plan ran would hold (the plan's sends with their
// statuses, and the recipients' inbound messages), up to one hour after
// the last planned send. It returns the same outcomes as Outcomes.
// Refused sends carry their request id as message id, accepted ones their
// wamid, as in the history; neither is the plan's send_id, so a consumer
// joins them to the plan by what the send carries (see failcast outcomes).
func (w *World) PlanHistory(ctx context.Context, plan []pipeline.PlannedSend, sink Sink) ([]pipeline.PlanOutcome, error) {
	e := w.eng.clone()
	sends, err := e.resolve(plan)
	if err != nil {
		return nil, err
	}
	last := e.asOf
	for i := range sends {
		last = max(last, sends[i].at)
	}
	end := last + usHour
	e.out = &emitter{eng: e, sink: sink, asOf: end, buckets: map[int64][]pendingEvent{}, next: e.asOf / usHour, stats: &e.stats}
	codes, err := e.playPlan(ctx, sends)
	if err != nil {
		return nil, err
	}
	if err := e.out.flush(end/usHour + 1); err != nil {
		return nil, fmt.Errorf("simulate plan history: %w", err)
	}
	out := make([]pipeline.PlanOutcome, len(plan))
	for i := range plan {
		out[i] = pipeline.PlanOutcome{SendID: plan[i].SendID, Failed: codes[i] != pipeline.NoErrorCode, ErrorCode: codes[i]}
	}
	return out, nil
}

// writePlanRaw writes the raw forms of the plan period's history
// (PlanHistory) to dir: send-log.ndjson and webhooks.ndjson, the files a
// sender would export a week later to check the plan's predictions.
func writePlanRaw(ctx context.Context, world *World, plan []pipeline.PlannedSend, dir string) ([]pipeline.PlanOutcome, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create plan raw directory: %w", err)
	}
	var files []*os.File
	for _, name := range []string{"send-log.ndjson", "webhooks.ndjson"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("create plan raw file: %w", err)
		}
		defer f.Close()
		if err := f.Chmod(atomicfile.Mode); err != nil {
			return nil, fmt.Errorf("create plan raw file: %w", err)
		}
		files = append(files, f)
	}
	rw, err := NewRawWriter(world.Config(), files[0], files[1])
	if err != nil {
		return nil, err
	}
	outcomes, err := world.PlanHistory(ctx, plan, rw)
	if err != nil {
		return nil, err
	}
	if err := rw.Close(); err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.Name(), err)
		}
	}
	return outcomes, nil
}
