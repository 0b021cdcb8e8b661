package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/failcast/failcast/pipeline"
	"github.com/parquet-go/parquet-go"
)

// Exporting the same account webhooks again, into a single file or a
// partitioned dataset, adds nothing, and neither does exporting them again
// with the status webhooks (see also TestAccountDisplayNumberUnresolved:
// ids do not depend on resolving display numbers).
func TestFaultAccountReexportIdempotent(t *testing.T) {
	accounts, err := filepath.Abs("testdata/webhook-account-events.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	statuses, _ := filepath.Abs("testdata/webhook-statuses.ndjson")
	for _, partitioned := range []bool{false, true} {
		dir := t.TempDir()
		out := filepath.Join(dir, "history.parquet")
		if partitioned {
			out = filepath.Join(dir, "history")
		}
		first, err := Export(context.Background(), testConfig(out, partitioned, nil, []string{accounts}))
		if err != nil {
			t.Fatal(err)
		}
		if first.AccountEventCount() != 18 || first.Events != 18 {
			t.Fatalf("first export: %+v", first.Summary)
		}
		before := readAll(t, out)
		again, err := Export(context.Background(), testConfig(out, partitioned, nil, []string{accounts}))
		if err != nil {
			t.Fatal(err)
		}
		after := readAll(t, out)
		if again.AlreadyPresent != again.Events || len(after) != len(before) {
			t.Errorf("partitioned %v: re-export added rows: %d already present of %d, %d rows before, %d after",
				partitioned, again.AlreadyPresent, again.Events, len(before), len(after))
		}
		for i := range min(len(before), len(after)) {
			if before[i] != after[i] {
				t.Fatalf("partitioned %v: row %d changed:\n%+v\n%+v", partitioned, i, before[i], after[i])
			}
		}
		withStatuses, err := Export(context.Background(), testConfig(out, partitioned, nil, []string{accounts, statuses}))
		if err != nil {
			t.Fatal(err)
		}
		final := readAll(t, out)
		acct := 0
		for _, e := range final {
			if e.Status.IsAccountEvent() {
				acct++
			}
		}
		if acct != 18 || withStatuses.AlreadyPresent != 18 {
			t.Errorf("partitioned %v: %d account rows after the export with statuses (%d already present), want 18",
				partitioned, acct, withStatuses.AlreadyPresent)
		}
	}
}

// An export into a history written before the account columns merges:
// the old rows are kept as they were, the account events are added.
func TestFaultExportIntoOldSchemaHistory(t *testing.T) {
	dir := t.TempDir()
	sendLog, hooks := writeBatch(t, dir, "b", 0, 20)
	out := filepath.Join(dir, "history.parquet")
	if _, err := Export(context.Background(), testConfig(out, false, []string{sendLog}, []string{hooks})); err != nil {
		t.Fatal(err)
	}
	old := readAll(t, out)
	// Rewrite the history without the account columns, as the previous
	// build wrote it.
	oldSchema := filepath.Join(dir, "old.parquet")
	writeWithoutAccountColumns(t, oldSchema, old)
	if err := os.Rename(oldSchema, out); err != nil {
		t.Fatal(err)
	}
	accounts, _ := filepath.Abs("testdata/webhook-account-events.ndjson")
	sum, err := Export(context.Background(), testConfig(out, false, nil, []string{accounts}))
	if err != nil {
		t.Fatalf("export into an old-schema history: %v", err)
	}
	got := readAll(t, out)
	if sum.Existing != int64(len(old)) || len(got) != len(old)+18 {
		t.Errorf("%d existing kept, %d rows, want %d + 18", sum.Existing, len(got), len(old))
	}
	i := 0
	for _, e := range got {
		if !e.Status.IsAccountEvent() {
			if e != old[i] {
				t.Fatalf("old row %d changed:\n%+v\n%+v", i, e, old[i])
			}
			i++
		}
	}
}

// writeWithoutAccountColumns writes message events with the history schema
// of the build before the account columns.
func writeWithoutAccountColumns(t *testing.T, path string, events []pipeline.Event) {
	t.Helper()
	type v1 struct {
		EventID       string  `parquet:"event_id"`
		MessageID     string  `parquet:"message_id"`
		Timestamp     int64   `parquet:"timestamp,timestamp(microsecond:utc)"`
		WABAID        string  `parquet:"waba_id"`
		PhoneNumberID string  `parquet:"phone_number_id"`
		Recipient     string  `parquet:"recipient"`
		Country       string  `parquet:"country"`
		CampaignID    string  `parquet:"campaign_id"`
		Template      string  `parquet:"template_name"`
		Language      string  `parquet:"template_language"`
		Category      string  `parquet:"category"`
		MessageType   string  `parquet:"message_type"`
		MediaBytes    *int64  `parquet:"media_bytes,optional"`
		Status        string  `parquet:"status"`
		ErrorCode     *int32  `parquet:"error_code,optional"`
		ErrorTitle    *string `parquet:"error_title,optional"`
		ErrorDetails  *string `parquet:"error_details,optional"`
		Exploration   bool    `parquet:"exploration"`
	}
	rows := make([]v1, len(events))
	for i, e := range events {
		r := v1{e.EventID, e.MessageID, e.Timestamp, e.WABAID, e.PhoneNumberID, e.Recipient, e.Country, e.CampaignID,
			e.Template, e.Language, e.Category, e.MessageType, nil, e.Status.String(), nil, nil, nil, e.Exploration}
		if e.MediaBytes != pipeline.NoMediaBytes {
			r.MediaBytes = &e.MediaBytes
		}
		if e.ErrorCode != pipeline.NoErrorCode {
			r.ErrorCode = &e.ErrorCode
		}
		if e.ErrorTitle != "" {
			r.ErrorTitle = &e.ErrorTitle
		}
		if e.ErrorDetails != "" {
			r.ErrorDetails = &e.ErrorDetails
		}
		rows[i] = r
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := parquet.NewGenericWriter[v1](f)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
