package pipeline

import (
	"cmp"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
)

// Fixtures that imitate files written by other tools, made with
// parquet-go's generic writer and alternative schemas.

// pandasRecord imitates pandas/pyarrow: nanosecond timestamps without UTC
// adjustment, optional (nullable) strings, float64 columns with NaN for
// missing integers, int32 media sizes, dictionary encoding and an extra
// index column.
type pandasRecord struct {
	Index        int64    `parquet:"__index_level_0__"`
	EventID      *string  `parquet:"event_id,optional,dict"`
	MessageID    *string  `parquet:"message_id,optional,dict"`
	Timestamp    int64    `parquet:"timestamp,timestamp(nanosecond:local)"`
	WABAID       *string  `parquet:"waba_id,optional,dict"`
	Phone        *string  `parquet:"phone_number_id,optional,dict"`
	Recipient    *string  `parquet:"recipient,optional,dict"`
	Country      *string  `parquet:"country,optional,dict"`
	CampaignID   *string  `parquet:"campaign_id,optional,dict"`
	Template     *string  `parquet:"template_name,optional,dict"`
	Language     *string  `parquet:"template_language,optional,dict"`
	Category     *string  `parquet:"category,optional,dict"`
	MessageType  *string  `parquet:"message_type,optional,dict"`
	MediaBytes   *int32   `parquet:"media_bytes,optional,dict"`
	Status       *string  `parquet:"status,optional,dict"`
	ErrorCode    *float64 `parquet:"error_code,optional"`
	ErrorTitle   *string  `parquet:"error_title,optional,dict"`
	ErrorDetails *string  `parquet:"error_details,optional"`
	Exploration  *bool    `parquet:"exploration,optional"`
}

// sparkRecord imitates Spark: INT96 timestamps, strings as BYTE_ARRAY
// without the STRING annotation, int32 error codes, int64 media sizes.
type sparkRecord struct {
	EventID      []byte           `parquet:"event_id"`
	MessageID    []byte           `parquet:"message_id"`
	Timestamp    deprecated.Int96 `parquet:"timestamp"`
	WABAID       []byte           `parquet:"waba_id"`
	Phone        []byte           `parquet:"phone_number_id"`
	Recipient    []byte           `parquet:"recipient"`
	Country      []byte           `parquet:"country"`
	CampaignID   []byte           `parquet:"campaign_id"`
	Template     []byte           `parquet:"template_name"`
	Language     []byte           `parquet:"template_language"`
	Category     []byte           `parquet:"category"`
	MessageType  []byte           `parquet:"message_type"`
	MediaBytes   *int64           `parquet:"media_bytes,optional"`
	Status       []byte           `parquet:"status"`
	ErrorCode    *int32           `parquet:"error_code,optional"`
	ErrorTitle   []byte           `parquet:"error_title"`
	ErrorDetails []byte           `parquet:"error_details"`
	Exploration  bool             `parquet:"exploration"`
}

// duckRecord imitates DuckDB: required columns, millisecond timestamps,
// int64 error codes, plain encoding, a different column order.
type duckRecord struct {
	Status       string `parquet:"status"`
	Timestamp    int64  `parquet:"timestamp,timestamp(millisecond)"`
	EventID      string `parquet:"event_id"`
	MessageID    string `parquet:"message_id"`
	WABAID       string `parquet:"waba_id"`
	Phone        string `parquet:"phone_number_id"`
	Recipient    string `parquet:"recipient"`
	Country      string `parquet:"country"`
	CampaignID   string `parquet:"campaign_id"`
	Template     string `parquet:"template_name"`
	Language     string `parquet:"template_language"`
	Category     string `parquet:"category"`
	MessageType  string `parquet:"message_type"`
	MediaBytes   int64  `parquet:"media_bytes"`
	ErrorCode    int64  `parquet:"error_code"`
	ErrorTitle   string `parquet:"error_title"`
	ErrorDetails string `parquet:"error_details"`
	Exploration  bool   `parquet:"exploration"`
	Extra        string `parquet:"ingested_by"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toPandas(i int, e Event) pandasRecord {
	r := pandasRecord{
		Index: int64(i), EventID: &e.EventID, MessageID: &e.MessageID, Timestamp: e.Timestamp * 1000,
		WABAID: optString(e.WABAID), Phone: optString(e.PhoneNumberID), Recipient: &e.Recipient,
		Country: optString(e.Country), CampaignID: optString(e.CampaignID), Template: optString(e.Template),
		Language: optString(e.Language), Category: &e.Category, MessageType: &e.MessageType,
		Status: optString(e.Status.String()), ErrorTitle: optString(e.ErrorTitle), ErrorDetails: optString(e.ErrorDetails),
	}
	nan := math.NaN()
	r.ErrorCode = &nan
	if e.ErrorCode != NoErrorCode {
		c := float64(e.ErrorCode)
		r.ErrorCode = &c
	}
	if e.MediaBytes != NoMediaBytes {
		m := int32(e.MediaBytes)
		r.MediaBytes = &m
	}
	if e.Exploration {
		r.Exploration = &e.Exploration
	}
	return r
}

func toInt96(us int64) deprecated.Int96 {
	days := us / microsPerDay
	nanos := uint64(us%microsPerDay) * 1000
	return deprecated.Int96{uint32(nanos), uint32(nanos >> 32), uint32(days + 2440588)}
}

func toSpark(e Event) sparkRecord {
	r := sparkRecord{
		EventID: []byte(e.EventID), MessageID: []byte(e.MessageID), Timestamp: toInt96(e.Timestamp),
		WABAID: []byte(e.WABAID), Phone: []byte(e.PhoneNumberID), Recipient: []byte(e.Recipient),
		Country: []byte(e.Country), CampaignID: []byte(e.CampaignID), Template: []byte(e.Template),
		Language: []byte(e.Language), Category: []byte(e.Category), MessageType: []byte(e.MessageType),
		Status: []byte(e.Status.String()), ErrorTitle: []byte(e.ErrorTitle), ErrorDetails: []byte(e.ErrorDetails),
		Exploration: e.Exploration,
	}
	if e.MediaBytes != NoMediaBytes {
		r.MediaBytes = &e.MediaBytes
	}
	if e.ErrorCode != NoErrorCode {
		r.ErrorCode = &e.ErrorCode
	}
	return r
}

func toDuck(e Event) duckRecord {
	return duckRecord{
		Status: e.Status.String(), Timestamp: e.Timestamp / 1000, EventID: e.EventID, MessageID: e.MessageID,
		WABAID: e.WABAID, Phone: e.PhoneNumberID, Recipient: e.Recipient, Country: e.Country, CampaignID: e.CampaignID,
		Template: e.Template, Language: e.Language, Category: e.Category, MessageType: e.MessageType,
		MediaBytes: e.MediaBytes, ErrorCode: int64(e.ErrorCode), ErrorTitle: e.ErrorTitle, ErrorDetails: e.ErrorDetails,
		Exploration: e.Exploration, Extra: "duckdb",
	}
}

// writeRecords writes rows with parquet-go's generic writer.
func writeRecords[T any](t testing.TB, path string, rows []T, opts ...parquet.WriterOption) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := parquet.NewGenericWriter[T](f, opts...)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// distinctTimestamps makes timestamps strictly increasing so the expected
// order of a sorted scan is unique.
func distinctTimestamps(events []Event) {
	for i := 1; i < len(events); i++ {
		if events[i].Timestamp <= events[i-1].Timestamp {
			events[i].Timestamp = events[i-1].Timestamp + 1
		}
	}
}

func TestScanForeignFiles(t *testing.T) {
	events := genEvents(3000, 21, day0, 1_000_000, 200)
	distinctTimestamps(events)
	// Millisecond files can only hold whole milliseconds.
	msEvents := slices.Clone(events)
	for i := range msEvents {
		msEvents[i].Timestamp = day0 + int64(i)*1000
	}
	shuffled := func(ev []Event) []Event {
		s := slices.Clone(ev)
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		return s
	}
	dir := t.TempDir()
	tests := []struct {
		name  string
		write func(path string)
		want  []Event
	}{
		{"pandas, unsorted, 2 row groups", func(path string) {
			var rows []pandasRecord
			for i, e := range shuffled(events) {
				rows = append(rows, toPandas(i, e))
			}
			writeRecords(t, path, rows, parquet.MaxRowsPerRowGroup(1500))
		}, events},
		{"spark int96", func(path string) {
			var rows []sparkRecord
			for _, e := range events {
				rows = append(rows, toSpark(e))
			}
			writeRecords(t, path, rows, parquet.MaxRowsPerRowGroup(1000), parquet.Compression(&parquet.Snappy), parquet.DataPageVersion(1), parquet.PageBufferSize(4096))
		}, events},
		{"duckdb millis", func(path string) {
			var rows []duckRecord
			for _, e := range msEvents {
				rows = append(rows, toDuck(e))
			}
			writeRecords(t, path, rows, parquet.DataPageVersion(1))
		}, msEvents},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name[:3]+string(rune('a'+i))+".parquet")
			tc.write(path)
			got, err := scanAll(t, path, ScanOptions{BatchSize: 777})
			if err != nil {
				t.Fatal(err)
			}
			diffEvents(t, got, tc.want)
			// Projection and a time range on the same file.
			from, to := tc.want[1000].Timestamp, tc.want[2000].Timestamp
			got, err = scanAll(t, path, ScanOptions{Columns: []string{ColTimestamp, ColErrorCode, ColMediaBytes}, From: from, To: to})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1000 {
				t.Fatalf("range scan: %d rows, want 1000", len(got))
			}
			for j, e := range got {
				w := tc.want[1000+j]
				if e.Timestamp != w.Timestamp || e.ErrorCode != w.ErrorCode || e.MediaBytes != w.MediaBytes || e.Recipient != "" {
					t.Fatalf("row %d: got %+v, want ts %d code %d media %d", j, e, w.Timestamp, w.ErrorCode, w.MediaBytes)
				}
			}
		})
	}
	// All three in one dataset: overlapping in time, merged in order.
	got, err := scanAll(t, filepath.Join(dir, "*.parquet"), ScanOptions{Columns: []string{ColTimestamp, ColEventID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3*len(events) {
		t.Fatalf("%d rows, want %d", len(got), 3*len(events))
	}
	if !slices.IsSortedFunc(got, func(a, b Event) int { return cmp.Compare(a.Timestamp, b.Timestamp) }) {
		t.Fatal("merged scan is not in timestamp order")
	}
}

func TestScanOverlappingFiles(t *testing.T) {
	events := genEvents(6000, 22, day0, 1_000_000, 300)
	dir := t.TempDir()
	// a and b interleave (alternate rows); c overlaps the end of both; d is
	// later than everything.
	var a, b, c, d []Event
	for i, e := range events[:4000] {
		if i%2 == 0 {
			a = append(a, e)
		} else {
			b = append(b, e)
		}
	}
	c = events[3500:4000]
	a = slices.DeleteFunc(a, func(e Event) bool { return e.Timestamp >= c[0].Timestamp })
	b = slices.DeleteFunc(b, func(e Event) bool { return e.Timestamp >= c[0].Timestamp })
	d = events[4000:]
	writeHistory(t, filepath.Join(dir, "a.parquet"), a, WriteOptions{RowGroupRows: 300})
	writeHistory(t, filepath.Join(dir, "b.parquet"), b, WriteOptions{RowGroupRows: 400})
	writeHistory(t, filepath.Join(dir, "c.parquet"), c, WriteOptions{RowGroupRows: 100})
	writeHistory(t, filepath.Join(dir, "d.parquet"), d, WriteOptions{RowGroupRows: 1000})
	want := slices.Concat(a, b, c, d)
	byKey := func(x, y Event) int {
		return cmp.Or(cmp.Compare(x.Timestamp, y.Timestamp), cmp.Compare(x.EventID, y.EventID))
	}
	slices.SortFunc(want, byKey)
	for _, batch := range []int{1, 100, 0} {
		got, err := scanAll(t, dir, ScanOptions{BatchSize: batch})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSortedFunc(got, func(x, y Event) int { return cmp.Compare(x.Timestamp, y.Timestamp) }) {
			t.Fatalf("batch %d: scan not in timestamp order", batch)
		}
		slices.SortStableFunc(got, byKey)
		diffEvents(t, got, want)
	}
}

func TestScanSchemaErrors(t *testing.T) {
	dir := t.TempDir()
	type noStatus struct {
		Timestamp int64  `parquet:"timestamp,timestamp(microsecond)"`
		Recipient string `parquet:"recipient"`
	}
	type intStatus struct {
		Timestamp int64  `parquet:"timestamp,timestamp(microsecond)"`
		Recipient string `parquet:"recipient"`
		Status    int64  `parquet:"status"`
	}
	type plainTime struct {
		Timestamp int64  `parquet:"timestamp"`
		Status    string `parquet:"status"`
	}
	type listRecipient struct {
		Timestamp int64    `parquet:"timestamp,timestamp(microsecond)"`
		Recipient []string `parquet:"recipient,list"`
		Status    string   `parquet:"status"`
	}
	p1 := filepath.Join(dir, "nostatus.parquet")
	writeRecords(t, p1, []noStatus{{Timestamp: day0, Recipient: "h:1"}})
	p2 := filepath.Join(dir, "intstatus.parquet")
	writeRecords(t, p2, []intStatus{{Timestamp: day0, Recipient: "h:1", Status: 2}})
	p3 := filepath.Join(dir, "plaintime.parquet")
	writeRecords(t, p3, []plainTime{{Timestamp: day0, Status: "sent"}})
	p4 := filepath.Join(dir, "list.parquet")
	writeRecords(t, p4, []listRecipient{{Timestamp: day0, Recipient: []string{"h:1"}, Status: "sent"}})
	cols := []string{ColTimestamp, ColRecipient, ColStatus}
	tests := []struct {
		name, path, column, got string
		columns                 []string
	}{
		{"missing column", p1, ColStatus, "missing", cols},
		{"wrong type", p2, ColStatus, "INT64", cols},
		{"timestamp without logical type", p3, ColTimestamp, "INT64", []string{ColTimestamp, ColStatus}},
		{"nested column", p4, ColRecipient, "", cols},
		{"missing from default projection", p1, "", "missing", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scanAll(t, tc.path, ScanOptions{Columns: tc.columns})
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *SchemaError", err)
			}
			if se.File != tc.path || (tc.column != "" && se.Column != tc.column) || !strings.Contains(se.Got, tc.got) || se.Want == "" {
				t.Fatalf("SchemaError %+v, want file %s column %s got %q", se, tc.path, tc.column, tc.got)
			}
			if !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), "want ") {
				t.Fatalf("message %q does not name file and expected type", err)
			}
		})
	}
	// A projection that avoids the missing column works.
	got, err := scanAll(t, p1, ScanOptions{Columns: []string{ColTimestamp, ColRecipient}})
	if err != nil || len(got) != 1 || got[0].Recipient != "h:1" {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestScanUnknownStatus(t *testing.T) {
	events := genEvents(500, 23, day0, 1000, 20)
	var rows []duckRecord
	for _, e := range events {
		rows = append(rows, toDuck(e))
	}
	rows[321].Status = "bounced"
	for _, dict := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "h.parquet")
		if dict {
			type dictStatus struct {
				Timestamp int64  `parquet:"timestamp,timestamp(millisecond)"`
				Status    string `parquet:"status,dict"`
			}
			var ds []dictStatus
			for _, r := range rows {
				ds = append(ds, dictStatus{r.Timestamp, r.Status})
			}
			writeRecords(t, path, ds, parquet.MaxRowsPerRowGroup(200))
		} else {
			writeRecords(t, path, rows, parquet.MaxRowsPerRowGroup(200))
		}
		_, err := scanAll(t, path, ScanOptions{Columns: []string{ColTimestamp, ColStatus}})
		if err == nil {
			t.Fatal("unknown status accepted")
		}
		want := path + ": row group 1, row 121: column status: unknown status \"bounced\""
		if !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("dict %v: err = %q, want prefix %q", dict, err, want)
		}
	}
}

func TestScanCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.parquet")
	events := genEvents(20000, 24, day0, 1000, 500)
	writeHistory(t, good, events, WriteOptions{RowGroupRows: 5000})
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	flipped := slices.Clone(data)
	for i := 100; i < len(flipped)/2; i += 997 {
		flipped[i] ^= 0x5a
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"random bytes", random},
		{"truncated footer", data[:len(data)-100]},
		{"truncated to half", data[:len(data)/2]},
		{"magic only", []byte("PAR1PAR1")},
		{"corrupt pages", flipped},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.parquet")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := scanAll(t, path, ScanOptions{})
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want an error naming %s", err, path)
			}
			d, _ := OpenDataset(path)
			if _, _, _, err := d.TimeRange(context.Background()); tc.name != "corrupt pages" && (err == nil || !strings.Contains(err.Error(), path)) {
				t.Fatalf("TimeRange err = %v, want an error naming %s", err, path)
			}
		})
	}
}
