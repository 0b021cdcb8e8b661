package scoring

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

// TestScoreOutcomesFromHistory: --outcomes naming a history directory
// derives the plan's outcomes from it (scoring/outcomes) and evaluates
// against them; sends the history does not hold get no outcome.
func TestScoreOutcomesFromHistory(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.csv")
	sends := demoPlan()
	writePlanCSV(t, plan, sends)
	var events []pipeline.Event
	failed := 0
	for i, s := range sends[:600] { // the last 200 sends never went out
		msg := fmt.Sprintf("wamid.%d", i)
		add := func(st pipeline.Status, at int64, code int32) {
			events = append(events, pipeline.Event{EventID: pipeline.MakeEventID(msg, st, at), MessageID: msg, Timestamp: at,
				WABAID: s.WABAID, PhoneNumberID: s.PhoneNumberID, Recipient: s.Recipient, CampaignID: s.CampaignID,
				Category: s.Category, MessageType: s.MessageType, MediaBytes: pipeline.NoMediaBytes, Status: st, ErrorCode: code,
				AccountNumber: pipeline.NoAccountNumber})
		}
		add(pipeline.StatusAccepted, s.ScheduledAt, pipeline.NoErrorCode)
		if i%3 == 0 {
			add(pipeline.StatusFailed, s.ScheduledAt+2e6, 131049)
			failed++
		} else {
			add(pipeline.StatusDelivered, s.ScheduledAt+3e6, pipeline.NoErrorCode)
		}
	}
	sortEvents(events)
	after := filepath.Join(dir, "after")
	if err := os.MkdirAll(after, 0o755); err != nil {
		t.Fatal(err)
	}
	hw, err := pipeline.NewHistoryWriter(filepath.Join(after, "history.parquet"), pipeline.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := hw.Write(events); err != nil {
		t.Fatal(err)
	}
	if err := hw.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := scoreConfig(w, filepath.Join(dir, "score"), plan)
	cfg.Outcomes = after
	res, _, _ := mustRun(t, cfg)
	ev := res.Evaluation
	if ev == nil || ev.WithOutcome != 600 || ev.MissingOutcome != 200 || ev.Failures != failed {
		t.Fatalf("evaluation %+v, want 600 sends with an outcome (%d failed), 200 without", ev, failed)
	}
}

func sortEvents(e []pipeline.Event) {
	slices.SortFunc(e, func(a, b pipeline.Event) int {
		if c := cmp.Compare(a.Timestamp, b.Timestamp); c != 0 {
			return c
		}
		return strings.Compare(a.EventID, b.EventID)
	})
}
