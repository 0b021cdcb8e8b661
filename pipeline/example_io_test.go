package pipeline_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// Write a hive-partitioned history dataset and scan part of it back.
func ExampleOpenDataset() {
	dir, err := os.MkdirTemp("", "history")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	start := time.Date(2026, 9, 21, 23, 59, 58, 0, time.UTC)
	var events []pipeline.Event
	for i, st := range []pipeline.Status{pipeline.StatusAccepted, pipeline.StatusSent, pipeline.StatusDelivered, pipeline.StatusRead} {
		ts := start.Add(time.Duration(i) * time.Second).UnixMicro()
		events = append(events, pipeline.Event{
			EventID: pipeline.MakeEventID("wamid.1", st, ts), MessageID: "wamid.1", Timestamp: ts,
			Recipient: "h:00112233aabbccdd", Category: pipeline.CategoryMarketing, MessageType: "template",
			Status: st, ErrorCode: pipeline.NoErrorCode, MediaBytes: pipeline.NoMediaBytes,
		})
	}
	w, err := pipeline.NewPartitionedHistoryWriter(dir, pipeline.WriteOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Write(events); err != nil {
		w.Abort()
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	d, err := pipeline.OpenDataset(dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range d.Files() {
		rel, _ := filepath.Rel(dir, f)
		fmt.Println(filepath.ToSlash(rel))
	}
	// Events of 22 September only, two columns.
	from := time.Date(2026, 9, 22, 0, 0, 0, 0, time.UTC).UnixMicro()
	err = d.Scan(context.Background(), pipeline.ScanOptions{Columns: []string{pipeline.ColTimestamp, pipeline.ColStatus}, From: from},
		func(batch []pipeline.Event) error {
			for _, e := range batch {
				fmt.Println(e.Time().Format(time.RFC3339), e.Status, e.Recipient == "")
			}
			return nil
		})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// dt=2026-09-21/part-0.parquet
	// dt=2026-09-22/part-0.parquet
	// 2026-09-22T00:00:00Z delivered true
	// 2026-09-22T00:00:01Z read true
}

// Read a plan CSV, reporting invalid rows and keeping the valid ones.
func ExampleReadPlan() {
	dir, err := os.MkdirTemp("", "plan")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "plan.csv")
	os.WriteFile(path, []byte(
		"send_id,recipient,scheduled_at,category,message_type,media_bytes\n"+
			"s1,h:00112233aabbccdd,2026-11-27T12:00:00Z,marketing,template,\n"+
			"s2,h:ffeeddccbbaa9988,tomorrow,marketing,template,\n"+
			"s3,h:0123456789abcdef,1795780800,utility,image,7340032\n"), 0o644)

	err = pipeline.ReadPlan(context.Background(), path,
		func(bad pipeline.RowError) error {
			fmt.Println("skipped:", filepath.Base(bad.File), "row", bad.Row, bad.Column)
			return nil
		},
		func(batch []pipeline.PlannedSend) error {
			for _, p := range batch {
				fmt.Println(p.SendID, time.UnixMicro(p.ScheduledAt).UTC().Format(time.RFC3339), p.MediaBytes)
			}
			return nil
		})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// skipped: plan.csv row 3 scheduled_at
	// s1 2026-11-27T12:00:00Z -1
	// s3 2026-11-27T12:00:00Z 7340032
}
