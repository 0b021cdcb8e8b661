package pipeline

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func samplePlan() []PlannedSend {
	at := time.Date(2026, 11, 27, 12, 0, 0, 123456000, time.UTC).UnixMicro()
	return []PlannedSend{
		{SendID: "s1", CampaignID: "bf", WABAID: "880011223344556", PhoneNumberID: "301122334455667", Recipient: "h:00112233aabbccdd",
			Country: "BR", Template: "bf_promo_v3", Language: "pt_BR", Category: "marketing", MessageType: "template",
			MediaBytes: NoMediaBytes, ScheduledAt: at, CampaignRateMPS: 80},
		{SendID: "s2", CampaignID: "bf", Recipient: "h:ffeeddccbbaa9988", Category: "utility", MessageType: "image",
			MediaBytes: 7340032, ScheduledAt: at + 1, CampaignRateMPS: 0.5},
		{SendID: "s3", Recipient: "h:0000000000000001", Category: "service", MessageType: "text",
			MediaBytes: 0, ScheduledAt: at + 2},
	}
}

// readPlanAll reads a plan and collects rows and bad-row errors.
func readPlanAll(path string) ([]PlannedSend, []RowError, error) {
	var rows []PlannedSend
	var bad []RowError
	err := ReadPlan(context.Background(), path,
		func(e RowError) error { bad = append(bad, e); return nil },
		func(b []PlannedSend) error { rows = append(rows, b...); return nil })
	return rows, bad, err
}

func TestPlanRoundTrip(t *testing.T) {
	for _, ext := range []string{".csv", ".parquet"} {
		t.Run(ext, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "plan"+ext)
			want := samplePlan()
			if err := WritePlan(path, want); err != nil {
				t.Fatal(err)
			}
			got, bad, err := readPlanAll(path)
			if err != nil || len(bad) > 0 {
				t.Fatalf("err %v, bad rows %v", err, bad)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestReadPlanCSVBadRows(t *testing.T) {
	const csvText = "\ufeffrecipient,send_id,scheduled_at,category,message_type,media_bytes,campaign_rate_mps,extra\n" +
		"h:1,a,2026-11-27T12:00:00Z,marketing,template,,80,x\n" + // row 2 ok
		"h:2,,2026-11-27T12:00:00Z,marketing,template,,80,x\n" + // row 3 missing send id
		"h:3,c,tomorrow,marketing,template,,80,x\n" + // row 4 bad time
		"h:4,d,1790000000,promo,template,,80,x\n" + // row 5 bad category
		"h:5,e,1790000000000,utility,fax,,80,x\n" + // row 6 bad message type
		"h:6,f,1790000000000000,utility,image,big,80,x\n" + // row 7 bad media
		"h:7,g,1790000000,utility,image,10,fast,x\n" + // row 8 bad rate
		",h,1790000000,utility,image,10,1,x\n" + // row 9 empty recipient
		"h:9,i,1790000000\n" + // row 10 short
		"h:10,j,1790000000.5,Utility,IMAGE,10,1,x\n" // row 11 ok
	path := filepath.Join(t.TempDir(), "plan.csv")
	if err := os.WriteFile(path, []byte(csvText), 0o644); err != nil {
		t.Fatal(err)
	}
	got, bad, err := readPlanAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].SendID != "a" || got[1].SendID != "j" {
		t.Fatalf("valid rows %+v, want a and j", got)
	}
	if got[1].ScheduledAt != 1790000000500000 || got[1].Category != "utility" || got[1].MessageType != "image" {
		t.Fatalf("row j parsed as %+v", got[1])
	}
	if want := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC).UnixMicro(); got[0].ScheduledAt != want || got[0].MediaBytes != NoMediaBytes {
		t.Fatalf("row a parsed as %+v", got[0])
	}
	wantBad := []struct {
		row    int
		column string
	}{{3, ColSendID}, {4, ColScheduledAt}, {5, ColCategory}, {6, ColMessageType}, {7, ColMediaBytes},
		{8, ColCampaignRateMPS}, {9, ColRecipient}, {10, ""}}
	if len(bad) != len(wantBad) {
		t.Fatalf("bad rows %v, want %d", bad, len(wantBad))
	}
	for i, w := range wantBad {
		if bad[i].Row != w.row || bad[i].Column != w.column || bad[i].File != path {
			t.Errorf("bad row %d = %v, want row %d column %q", i, bad[i], w.row, w.column)
		}
	}
	if msg := bad[1].Error(); msg != path+`: row 4: column scheduled_at: timestamp "tomorrow" is neither RFC 3339 nor Unix seconds or milliseconds` {
		t.Errorf("message %q", msg)
	}

	// A failing onBadRow stops the read with its error.
	stop := errors.New("stop")
	calls := 0
	err = ReadPlan(context.Background(), path, func(RowError) error { calls++; return stop }, func([]PlannedSend) error { return nil })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("err %v after %d calls, want stop after 1", err, calls)
	}
	// A nil onBadRow stops at the first bad row with the RowError.
	err = ReadPlan(context.Background(), path, nil, func([]PlannedSend) error { return nil })
	var re RowError
	if !errors.As(err, &re) || re.Row != 3 {
		t.Fatalf("err %v, want RowError at row 3", err)
	}
}

func TestReadPlanErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	tests := []struct {
		name string
		path string
		want string
	}{
		{"missing column", write("a.csv", "send_id,recipient,category,message_type\n"), `missing: scheduled_at (want a column "scheduled_at" or --map scheduled_at=COLUMN)`},
		{"empty", write("b.csv", ""), "empty file"},
		{"bad quote", write("c.csv", "send_id,recipient,scheduled_at,category,message_type\na,\"b,c\n"), "c.csv"},
		{"unknown extension", write("d.txt", "x"), "unknown file format"},
		{"not parquet", write("e.parquet", "send_id,recipient\n"), "e.parquet: not a readable Parquet file"},
		{"missing file", filepath.Join(dir, "none.csv"), "none.csv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readPlanAll(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestWritePlanAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.csv")
	if err := WritePlan(path, samplePlan()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	// Writing to a path whose directory is a file fails and leaves nothing.
	if err := WritePlan(filepath.Join(path, "x.csv"), samplePlan()); err == nil {
		t.Fatal("write below a file succeeded")
	}
	after, _ := os.ReadFile(path)
	if !slices.Equal(before, after) {
		t.Fatal("earlier plan changed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%d entries in dir, want 1", len(entries))
	}
}

func TestOutcomesRoundTrip(t *testing.T) {
	want := []PlanOutcome{
		{SendID: "s1", Failed: false, ErrorCode: NoErrorCode},
		{SendID: "s2", Failed: true, ErrorCode: 131026},
		{SendID: "s3", Failed: true, ErrorCode: 0},
	}
	for _, ext := range []string{".csv", ".parquet"} {
		t.Run(ext, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "outcomes"+ext)
			if err := WriteOutcomes(path, want); err != nil {
				t.Fatal(err)
			}
			got, err := ReadOutcomes(path)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "o.csv")
	if err := WriteOutcomes(path, want); err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(path)
	if string(text) != "send_id,failed,error_code,error_family\ns1,false,,none\ns2,true,131026,recipient\ns3,true,0,auth\n" {
		t.Fatalf("outcome CSV:\n%s", text)
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("send_id,failed,error_code\ns1,false,\ns2,maybe,1\n"), 0o644)
	_, err := ReadOutcomes(bad)
	var re RowError
	if !errors.As(err, &re) || re.Row != 3 || re.Column != ColFailed {
		t.Fatalf("err = %v, want RowError row 3 column failed", err)
	}
}

func FuzzReadPlanCSV(f *testing.F) {
	f.Add("send_id,recipient,scheduled_at,category,message_type\na,h:1,2026-11-27T12:00:00Z,marketing,text\n")
	f.Add("\ufeffsend_id,recipient,scheduled_at,category,message_type,media_bytes,campaign_rate_mps\na,h:1,1790000000,utility,image,10,1.5\nb,,x,y,z,-1,NaN\n")
	f.Add("send_id,recipient,scheduled_at,category,message_type\n\"a\nb\",h:1,1790000000123,service,document\n\n")
	f.Add("send_id,send_id\n")
	f.Add("a,\"b\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		path := filepath.Join(dir, "fuzz.csv")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		var rows []PlannedSend
		var bad []RowError
		err := ReadPlan(context.Background(), path,
			func(e RowError) error { bad = append(bad, e); return nil },
			func(b []PlannedSend) error { rows = append(rows, b...); return nil })
		for _, p := range rows {
			if p.SendID == "" || p.Recipient == "" || !slices.Contains(Categories, p.Category) ||
				!slices.Contains(MessageTypes, p.MessageType) || p.CampaignRateMPS < 0 || (p.MediaBytes < 0 && p.MediaBytes != NoMediaBytes) {
				t.Fatalf("invalid row accepted: %+v", p)
			}
		}
		for _, e := range bad {
			if e.Row < 2 || e.File != path || e.Err == nil {
				t.Fatalf("bad RowError %+v", e)
			}
		}
		if err != nil && len(rows) > 0 && strings.Contains(err.Error(), "header") {
			t.Fatalf("rows read despite a header error: %v", err)
		}
		// Valid rows survive a write/read round trip.
		if len(rows) > 0 {
			out := filepath.Join(dir, "out.csv")
			if err := WritePlan(out, rows); err != nil {
				t.Fatal(err)
			}
			again, bad2, err := readPlanAll(out)
			if err != nil || len(bad2) > 0 {
				t.Fatalf("re-read: %v %v", err, bad2)
			}
			for i := range again {
				if again[i] != rows[i] {
					t.Fatalf("round trip row %d: %+v != %+v", i, again[i], rows[i])
				}
			}
		}
	})
}

func TestReadPlanParquetForeign(t *testing.T) {
	// A plan as pandas might write it: nanosecond times, float media sizes
	// with NaN, an int rate, optional strings, an extra column.
	type pandasPlan struct {
		SendID      *string  `parquet:"send_id,optional"`
		Recipient   *string  `parquet:"recipient,optional"`
		ScheduledAt int64    `parquet:"scheduled_at,timestamp(nanosecond)"`
		Category    string   `parquet:"category,dict"`
		MessageType string   `parquet:"message_type,dict"`
		MediaBytes  *float64 `parquet:"media_bytes,optional"`
		Rate        int64    `parquet:"campaign_rate_mps"`
		Note        string   `parquet:"note"`
	}
	str := func(s string) *string { return &s }
	num := func(f float64) *float64 { return &f }
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	rows := []pandasPlan{
		{str("a"), str("h:1"), at.UnixNano(), "marketing", "template", num(math.NaN()), 80, "x"},
		{nil, str("h:2"), at.UnixNano(), "marketing", "template", nil, 80, "x"},      // row 2: no send id
		{str("c"), str("h:3"), at.UnixNano(), "promo", "template", nil, 80, "x"},     // row 3: bad category
		{str("d"), str("h:4"), at.UnixNano(), "utility", "image", num(2.5), 80, "x"}, // row 4: fractional media
		{str("e"), nil, at.UnixNano(), "utility", "image", nil, 80, "x"},             // row 5: no recipient
		{str("f"), str("h:6"), at.UnixNano() + 1000, "utility", "image", num(1024), 0, "x"},
	}
	path := filepath.Join(t.TempDir(), "plan.parquet")
	writeRecords(t, path, rows)
	got, bad, err := readPlanAll(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []PlannedSend{
		{SendID: "a", Recipient: "h:1", Category: "marketing", MessageType: "template", MediaBytes: NoMediaBytes, ScheduledAt: at.UnixMicro(), CampaignRateMPS: 80},
		{SendID: "f", Recipient: "h:6", Category: "utility", MessageType: "image", MediaBytes: 1024, ScheduledAt: at.UnixMicro() + 1},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	wantBad := []struct {
		row    int
		column string
	}{{2, ColSendID}, {3, ColCategory}, {4, ColMediaBytes}, {5, ColRecipient}}
	if len(bad) != len(wantBad) {
		t.Fatalf("bad rows %v", bad)
	}
	for i, w := range wantBad {
		if bad[i].Row != w.row || bad[i].Column != w.column {
			t.Errorf("bad row %v, want row %d column %s", bad[i], w.row, w.column)
		}
	}

	// A plan without required columns is refused, naming all of them.
	type noTime struct {
		SendID string `parquet:"send_id"`
	}
	path = filepath.Join(t.TempDir(), "plan.parquet")
	writeRecords(t, path, []noTime{{"a"}})
	_, _, err = readPlanAll(path)
	var ce *PlanColumnsError
	if !errors.As(err, &ce) || len(ce.Missing) != 4 {
		t.Fatalf("err = %v, want a PlanColumnsError naming 4 columns", err)
	}
}

func TestParseMediaBytes(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"", NoMediaBytes, false},
		{" 7340032 ", 7340032, false},
		{"7340032.0", 7340032, false}, // pandas writes an integer column with gaps as floats
		{"0", 0, false},
		{"1.5", 0, true},
		{"-1", 0, true},
		{"big", 0, true},
		{"NaN", 0, true},
	}
	for _, tc := range tests {
		got, err := parseMediaBytes(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("parseMediaBytes(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
