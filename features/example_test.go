package features_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/pipeline"
)

// events is a tiny in-memory history source.
type events []pipeline.Event

func (ev events) Scan(ctx context.Context, opts pipeline.ScanOptions, fn func([]pipeline.Event) error) error {
	var batch []pipeline.Event
	for _, e := range ev {
		if opts.To == 0 || e.Timestamp < opts.To {
			batch = append(batch, e)
		}
	}
	return fn(batch)
}

func at(day, hour int) int64 {
	return time.Date(2025, 3, day, hour, 0, 0, 0, time.UTC).UnixMicro()
}

func event(msg string, ts int64, st pipeline.Status, code int32) pipeline.Event {
	return pipeline.Event{MessageID: msg, Timestamp: ts, Status: st, ErrorCode: code,
		Recipient: "h:00000000000000aa", PhoneNumberID: "p1", WABAID: "w1", CampaignID: "spring",
		Template: "promo", Language: "en", Category: "marketing", MessageType: "template", MediaBytes: pipeline.NoMediaBytes}
}

var history = events{
	event("m1", at(1, 9), pipeline.StatusAccepted, pipeline.NoErrorCode),
	event("m1", at(1, 9)+5e6, pipeline.StatusFailed, 131049),
	event("m2", at(2, 9), pipeline.StatusAccepted, pipeline.NoErrorCode),
	event("m2", at(2, 9)+5e6, pipeline.StatusDelivered, pipeline.NoErrorCode),
	event("m3", at(3, 9), pipeline.StatusAccepted, pipeline.NoErrorCode),
	event("m3", at(3, 9)+5e6, pipeline.StatusFailed, 131049),
	event("in1", at(3, 20), pipeline.StatusInbound, pipeline.NoErrorCode),
}

func ExampleBuildTraining() {
	cfg := features.DefaultConfig()
	cfg.Refresh = 24 * time.Hour // outcomes refreshed daily: cutoffs at midnight
	tab, err := features.BuildTraining(context.Background(), history, cfg, 0, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range tab.Rows {
		// Each send sees the outcomes before midnight of its day (09:00 -
		// 4 h, down to the daily grid): m3 sees m1's failure and m2's
		// delivery, but not its own.
		fmt.Printf("%s failed=%v code=%d horizon=%.0fh 131049s=%.2f delivered_7d=%.2f\n", tab.ID[i], tab.Failed[i], tab.Code[i],
			tab.At(i, "horizon_hours"), tab.At(i, "recipient_code_131049_30d"), tab.At(i, "recipient_delivered_7d"))
	}
	// Output:
	// m1 failed=true code=131049 horizon=9h 131049s=0.00 delivered_7d=0.00
	// m2 failed=false code=-1 horizon=9h 131049s=0.98 delivered_7d=0.00
	// m3 failed=true code=131049 horizon=9h 131049s=0.95 delivered_7d=0.91
}

func ExampleScorer() {
	asOf := at(4, 0)
	sc, err := features.NewScorer(context.Background(), history, features.DefaultConfig(), asOf)
	if err != nil {
		fmt.Println(err)
		return
	}
	send := pipeline.PlannedSend{SendID: "s1", Recipient: "h:00000000000000aa", PhoneNumberID: "p1", WABAID: "w1",
		CampaignID: "summer", Template: "promo", Language: "en", Category: "marketing", MessageType: "template",
		MediaBytes: pipeline.NoMediaBytes, ScheduledAt: at(4, 8)}
	later := send
	later.SendID, later.ScheduledAt = "s2", at(6, 10)
	tab, err := sc.Next([]pipeline.PlannedSend{send, later})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range tab.Rows {
		fmt.Printf("%s horizon=%.0fh stale=%v marketing_24h=%.0f hours_since_131049=%.0f\n", tab.ID[i],
			tab.At(i, "horizon_hours"), tab.Stale[i], tab.At(i, "recipient_marketing_24h"), tab.At(i, "recipient_hours_since_code_131049"))
	}
	// Output:
	// s1 horizon=8h stale=false marketing_24h=1 hours_since_131049=23
	// s2 horizon=58h stale=true marketing_24h=0 hours_since_131049=73
}

func ExampleReadScorer() {
	cfg := features.DefaultConfig()
	sc, err := features.NewScorer(context.Background(), history, cfg, at(4, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	// Save the folded history before scoring anything...
	var saved bytes.Buffer
	if err := sc.WriteState(&saved); err != nil {
		fmt.Println(err)
		return
	}
	// ...and read it back later, as of a later time the history has no
	// event before (here: two hours on).
	restored, err := features.ReadScorer(&saved, cfg, at(4, 2))
	if err != nil {
		fmt.Println(err)
		return
	}
	send := pipeline.PlannedSend{SendID: "s1", Recipient: "h:00000000000000aa", PhoneNumberID: "p1", WABAID: "w1",
		CampaignID: "summer", Template: "promo", Language: "en", Category: "marketing", MessageType: "template",
		MediaBytes: pipeline.NoMediaBytes, ScheduledAt: at(4, 8)}
	tab, err := restored.Next([]pipeline.PlannedSend{send})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s horizon=%.0fh marketing_24h=%.0f\n", tab.ID[0], tab.At(0, "horizon_hours"), tab.At(0, "recipient_marketing_24h"))
	// Output:
	// s1 horizon=6h marketing_24h=1
}

func ExampleBuildTrainingChunks() {
	cfg := features.DefaultConfig()
	cfg.Refresh = 24 * time.Hour
	// Rows come in chunks of at most features.ChunkRows rows, in time
	// order, once their labels are final; here the history is small
	// enough for one.
	err := features.BuildTrainingChunks(context.Background(), history, cfg, 0, 0, func(t *features.Table) error {
		failed := 0
		for i := range t.Rows {
			if t.Failed[i] {
				failed++
			}
		}
		fmt.Printf("chunk of %d rows from %s, %d failed\n", t.Rows, t.ID[0], failed)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// chunk of 3 rows from m1, 2 failed
}

func ExampleParquetWriter() {
	dir, err := os.MkdirTemp("", "features")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "features.parquet")
	w, err := features.NewParquetWriter(path, features.Names())
	if err != nil {
		fmt.Println(err)
		return
	}
	// Each chunk goes to the file as it comes; the file appears on Close.
	err = features.BuildTrainingChunks(context.Background(), history, features.DefaultConfig(), 0, 0, w.Write)
	if err != nil {
		w.Abort()
		fmt.Println(err)
		return
	}
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(w.Rows(), "rows written")
	// Output:
	// 3 rows written
}
