package pipeline

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// accountEvents returns one account event of each kind (as docs/schema.md
// shows them) between message events, in time order.
func accountEvents() []Event {
	const waba, phone = "880011223344556", "301122334455667"
	base := day0 + 3600_000_000
	acct := []Event{
		{Status: StatusTemplateStatus, Template: "bf_promo_v3", Language: "pt_BR", Category: CategoryMarketing, AccountValue: "PAUSED", AccountNumber: 1,
			ErrorDetails: "Your message template has been paused for 3 hours because of low quality."},
		{Status: StatusTemplateStatus, Template: "bf_promo_v3", Language: "pt_BR", Category: CategoryMarketing, AccountValue: "FLAGGED", AccountNumber: NoAccountNumber, AccountUntil: day0 + 9*microsPerDay},
		{Status: StatusTemplateQuality, Template: "bf_promo_v3", Language: "pt_BR", AccountValue: "RED", AccountNumber: NoAccountNumber},
		{Status: StatusTemplateCategory, Template: "cart_reminder", Language: "es", Category: CategoryMarketing, AccountValue: CategoryUtility, AccountNumber: NoAccountNumber},
		{Status: StatusPhoneQuality, PhoneNumberID: phone, AccountValue: "UPGRADE", AccountNumber: 10_000},
		{Status: StatusPhoneQuality, PhoneNumberID: phone, AccountValue: "UPGRADE", AccountNumber: NoLimit},
		{Status: StatusBusinessCapability, AccountNumber: 0}, // a limit of 0 is a value, not an absence
		{Status: StatusAccountUpdate, PhoneNumberID: phone, AccountValue: "ACCOUNT_RESTRICTION:RESTRICTED_BIZ_INITIATED_MESSAGING", AccountNumber: NoAccountNumber, AccountUntil: day0 + 3*microsPerDay},
		{Status: StatusAccountAlert, AccountValue: "INCREASED_CAPABILITIES_ELIGIBILITY_DEFERRED", AccountNumber: NoAccountNumber, ErrorTitle: "WARNING ACTIVE", ErrorDetails: "Your business is not yet eligible for a higher messaging limit."},
		{Status: StatusUserPreference, PhoneNumberID: phone, Recipient: "h:3fa1c09b77d2e045", Country: "BR", Category: CategoryMarketing, AccountValue: "stop", AccountNumber: NoAccountNumber},
	}
	msgs := genEvents(len(acct)*3, 7, base, 1_000_000, 10)
	var out []Event
	for i, a := range acct {
		out = append(out, msgs[3*i:3*i+3]...)
		a.WABAID, a.MediaBytes, a.ErrorCode = waba, NoMediaBytes, NoErrorCode
		a.Timestamp = out[len(out)-1].Timestamp
		a.EventID = MakeAccountEventID(&a, "")
		out = append(out, a)
	}
	return out
}

// Account events round-trip through a history file, whole and projected.
func TestAccountEventsRoundTrip(t *testing.T) {
	events := accountEvents()
	path := filepath.Join(t.TempDir(), "h.parquet")
	writeHistory(t, path, events, WriteOptions{RowGroupRows: 7})
	got, err := scanAll(t, path, ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	diffEvents(t, got, events)

	// account_number alone: the status is read to tell an absent number
	// (NoAccountNumber) from a message event's zero, but not returned.
	got, err = scanAll(t, path, ScanOptions{Columns: []string{ColEventID, ColAccountNumber, ColAccountUntil}})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range got {
		w := events[i]
		if e.Status != StatusUnknown || e.AccountNumber != w.AccountNumber || e.AccountUntil != w.AccountUntil || e.EventID != w.EventID {
			t.Fatalf("row %d: got %+v, want number %d until %d", i, e, w.AccountNumber, w.AccountUntil)
		}
	}
}

// historyRecordV1 is the history schema of the build before the account
// columns.
type historyRecordV1 struct {
	EventID       string  `parquet:"event_id,plain"`
	MessageID     string  `parquet:"message_id,plain"`
	Timestamp     int64   `parquet:"timestamp,timestamp(microsecond:utc),delta"`
	WABAID        string  `parquet:"waba_id,dict"`
	PhoneNumberID string  `parquet:"phone_number_id,dict"`
	Recipient     string  `parquet:"recipient,plain"`
	Country       string  `parquet:"country,dict"`
	CampaignID    string  `parquet:"campaign_id,dict"`
	Template      string  `parquet:"template_name,dict"`
	Language      string  `parquet:"template_language,dict"`
	Category      string  `parquet:"category,dict"`
	MessageType   string  `parquet:"message_type,dict"`
	MediaBytes    *int64  `parquet:"media_bytes,optional"`
	Status        string  `parquet:"status,dict"`
	ErrorCode     *int32  `parquet:"error_code,optional"`
	ErrorTitle    *string `parquet:"error_title,optional,dict"`
	ErrorDetails  *string `parquet:"error_details,optional,plain"`
	Exploration   bool    `parquet:"exploration"`
}

func toV1(e Event) historyRecordV1 {
	r := historyRecordV1{
		EventID: e.EventID, MessageID: e.MessageID, Timestamp: e.Timestamp, WABAID: e.WABAID, PhoneNumberID: e.PhoneNumberID,
		Recipient: e.Recipient, Country: e.Country, CampaignID: e.CampaignID, Template: e.Template, Language: e.Language,
		Category: e.Category, MessageType: e.MessageType, Status: e.Status.String(), ErrorTitle: optString(e.ErrorTitle),
		ErrorDetails: optString(e.ErrorDetails), Exploration: e.Exploration,
	}
	if e.MediaBytes != NoMediaBytes {
		r.MediaBytes = &e.MediaBytes
	}
	if e.ErrorCode != NoErrorCode {
		r.ErrorCode = &e.ErrorCode
	}
	return r
}

// A history written by the previous build (without the account columns)
// still reads: its rows are message events with zero account fields, in
// full and projected scans, and beside a file of the new schema.
func TestFaultOldSchemaHistoryReads(t *testing.T) {
	dir := t.TempDir()
	old := genEvents(2000, 3, day0, 1000, 50)
	rows := make([]historyRecordV1, len(old))
	for i, e := range old {
		rows[i] = toV1(e)
	}
	oldPath := filepath.Join(dir, "old.parquet")
	writeRecords(t, oldPath, rows, parquet.MaxRowsPerRowGroup(300), parquet.KeyValueMetadata(sortedByKey, ColTimestamp))
	got, err := scanAll(t, oldPath, ScanOptions{})
	if err != nil {
		t.Fatalf("old-schema history does not read: %v", err)
	}
	diffEvents(t, got, old)
	got, err = scanAll(t, oldPath, ScanOptions{Columns: []string{ColTimestamp, ColAccountValue, ColAccountNumber, ColAccountUntil}})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range got {
		if e.AccountValue != "" || e.AccountNumber != 0 || e.AccountUntil != 0 || e.Timestamp != old[i].Timestamp {
			t.Fatalf("row %d: %+v", i, e)
		}
	}
	// Old and new files in one dataset: merged in time order.
	acct := accountEvents()
	writeHistory(t, filepath.Join(dir, "new.parquet"), acct, WriteOptions{})
	got, err = scanAll(t, dir, ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(old), acct...)
	slices.SortStableFunc(want, func(a, b Event) int { return int(a.Timestamp - b.Timestamp) })
	slices.SortStableFunc(got, func(a, b Event) int { return int(a.Timestamp - b.Timestamp) })
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	n := 0
	for _, e := range got {
		if e.Status.IsAccountEvent() {
			n++
		}
	}
	if n != 10 {
		t.Errorf("%d account events read back, want 10", n)
	}
}

// An account column of the wrong type is a schema error naming the file
// and the column.
func TestScanAccountColumnSchemaErrors(t *testing.T) {
	dir := t.TempDir()
	type stringNumber struct {
		Timestamp     int64  `parquet:"timestamp,timestamp(microsecond)"`
		Status        string `parquet:"status"`
		AccountNumber string `parquet:"account_number"`
	}
	type plainUntil struct {
		Timestamp    int64  `parquet:"timestamp,timestamp(microsecond)"`
		Status       string `parquet:"status"`
		AccountUntil int64  `parquet:"account_until"`
	}
	p1 := filepath.Join(dir, "n.parquet")
	writeRecords(t, p1, []stringNumber{{day0, "phone_quality", "10K"}})
	p2 := filepath.Join(dir, "u.parquet")
	writeRecords(t, p2, []plainUntil{{day0, "account_update", 1}})
	for _, tc := range []struct{ path, column string }{{p1, ColAccountNumber}, {p2, ColAccountUntil}} {
		_, err := scanAll(t, tc.path, ScanOptions{Columns: []string{ColTimestamp, tc.column}})
		var se *SchemaError
		if !errors.As(err, &se) || se.File != tc.path || se.Column != tc.column || !strings.Contains(err.Error(), "want ") {
			t.Errorf("%s: err = %v, want a SchemaError naming the file and %s", tc.path, err, tc.column)
		}
	}
}

// The writer refuses account fields on a message event rather than drop
// them.
func TestHistoryWriterAccountFieldsOnMessageEvent(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(e *Event)
		col  string
	}{
		{"value", func(e *Event) { e.AccountValue = "PAUSED" }, ColAccountValue},
		{"number", func(e *Event) { e.AccountNumber = 5 }, ColAccountNumber},
		{"until", func(e *Event) { e.AccountUntil = day0 }, ColAccountUntil},
	} {
		e := genEvents(1, 1, day0, 1, 1)
		tc.set(&e[0])
		w, err := NewHistoryWriter(filepath.Join(t.TempDir(), "h.parquet"), WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		err = w.Write(e)
		w.Abort()
		if err == nil || !strings.Contains(err.Error(), "column "+tc.col) {
			t.Errorf("%s: err = %v, want an error naming column %s", tc.name, err, tc.col)
		}
	}
}

func TestCountryOf(t *testing.T) {
	tests := []struct{ number, want string }{
		{"+14165550123", "CA"},     // Toronto
		{"16135550123", "CA"},      // Ottawa, wa_id form
		{"+1 212 555 0123", "US"},  // New York, formatted
		{"+12122345678", "US"},     //
		{"+18765550123", "JM"},     // Jamaica shares +1
		{"+12120345678", "US"},     // exchange 0: not valid, but area code 212 is New York's
		{"+14160345678", "CA"},     // exchange 0 in Toronto's area code
		{"+15551230001", ""},       // 555 is no area code
		{"5511987654321", "BR"},    //
		{"+447700900123", "GB"},    // Ofcom's drama range: GB, the main region left
		{"+447797123456", "JE"},    // Jersey mobile
		{"+77012345678", "KZ"},     // Kazakhstan shares +7
		{"+79161234567", "RU"},     //
		{"+80012345678", ""},       // international freephone: no country
		{"+999123456", ""},         // no such calling code
		{"12", ""},                 // too short
		{"h:3fa1c09b77d2e045", ""}, // a hashed recipient
		{"", ""},
	}
	for _, tc := range tests {
		if got := CountryOf(tc.number); got != tc.want {
			t.Errorf("CountryOf(%q) = %q, want %q", tc.number, got, tc.want)
		}
		if got := CountryOf(tc.number); got != tc.want { // cached
			t.Errorf("CountryOf(%q) second call = %q, want %q", tc.number, got, tc.want)
		}
	}
}

func ExampleCountryOf() {
	fmt.Println(CountryOf("+1 416 555 0123"), CountryOf("+1 212 555 0123"), CountryOf("5511987654321"))
	// Output: CA US BR
}
