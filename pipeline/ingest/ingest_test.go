package ingest_test

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/pipeline/ingest"
)

const testKey = "test-key"

var hasher = pipeline.NewRecipientHasher([]byte(testKey))

// Message ids of the reference examples (testdata copies of
// shared/reference/examples).
const (
	wamidBR  = "wamid.HBgLNTUxMTk4NzY1NDMyFQIAERgSQjA3RDFBMjM0NTY3ODlBQkMA"
	wamidID  = "wamid.HBgLNjI4MTIzNDU2Nzg5FQIAERgSRkYwMTIzNDU2Nzg5QUJDREVGAA=="
	wamidIN  = "wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSMTIzNDU2Nzg5MEFCQ0RFRgA="
	wamidMX  = "wamid.HBgMNTIxNTU1MTIzNDU2FQIAERgSQUJDREVGMDEyMzQ1Njc4OQA="
	wamidGB  = "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgSOTk4ODc3NjY1NTQ0MzMyMgA="
	refWABA  = "880011223344556"
	refPhone = "301122334455667"
)

func newExporter(t testing.TB, opts ingest.Options) *ingest.Exporter {
	t.Helper()
	if len(opts.HashKey) == 0 && !opts.NoHash {
		opts.HashKey = []byte(testKey)
	}
	x, err := ingest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type input struct {
	kind string // "ndjson", "csv", "webhooks"
	name string
	data string
}

// export runs one export over the inputs and checks the invariants every
// export must hold.
func export(t testing.TB, opts ingest.Options, inputs ...input) ([]pipeline.Event, ingest.Summary, []ingest.Reject) {
	t.Helper()
	x := newExporter(t, opts)
	ctx := context.Background()
	for _, in := range inputs {
		var err error
		r := strings.NewReader(in.data)
		switch in.kind {
		case "ndjson":
			err = x.AddSendLogNDJSON(ctx, in.name, r)
		case "csv":
			err = x.AddSendLogCSV(ctx, in.name, r)
		case "webhooks":
			err = x.AddWebhooks(ctx, in.name, r)
		default:
			t.Fatalf("unknown input kind %q", in.kind)
		}
		if err != nil {
			t.Fatalf("add %s: %v", in.name, err)
		}
	}
	events, sum := x.Events()
	checkWellFormed(t, events, !opts.NoHash)
	if sum.Events != int64(len(events)) {
		t.Errorf("summary says %d events, got %d", sum.Events, len(events))
	}
	var byKind int64
	for _, n := range sum.RejectsByKind {
		byKind += n
	}
	if byKind != sum.Rejects {
		t.Errorf("rejects by kind sum to %d, summary says %d", byKind, sum.Rejects)
	}
	return events, sum, x.Rejects()
}

// checkWellFormed asserts what every exported event must satisfy.
func checkWellFormed(t testing.TB, events []pipeline.Event, hashed bool) {
	t.Helper()
	seen := map[string]bool{}
	for i, e := range events {
		if e.Status.IsAccountEvent() {
			checkAccountEvent(t, i, e, hashed)
			if seen[e.EventID] {
				t.Errorf("event %d: duplicate event id %s", i, e.EventID)
			}
			seen[e.EventID] = true
			continue
		}
		if e.EventID != pipeline.MakeEventID(e.MessageID, e.Status, e.Timestamp) {
			t.Errorf("event %d: id %s is not MakeEventID of (%q, %s, %d)", i, e.EventID, e.MessageID, e.Status, e.Timestamp)
		}
		if seen[e.EventID] {
			t.Errorf("event %d: duplicate event id %s", i, e.EventID)
		}
		seen[e.EventID] = true
		if i > 0 {
			p := events[i-1]
			if p.Timestamp > e.Timestamp || p.Timestamp == e.Timestamp && p.EventID > e.EventID {
				t.Errorf("event %d: not ordered by (timestamp, event id) after event %d", i, i-1)
			}
		}
		if e.MessageID == "" || e.Status == pipeline.StatusUnknown || e.Status > pipeline.StatusInbound {
			t.Errorf("event %d: incomplete: message id %q, status %s", i, e.MessageID, e.Status)
		}
		if e.Recipient == "" || hashed && !strings.HasPrefix(e.Recipient, pipeline.HashedPrefix) {
			t.Errorf("event %d: recipient %q not hashed", i, e.Recipient)
		}
		if e.Time().Year() < 2000 || e.Time().Year() >= 2100 {
			t.Errorf("event %d: timestamp %d out of range", i, e.Timestamp)
		}
		if e.Category != "" && !slices.Contains(pipeline.Categories, e.Category) {
			t.Errorf("event %d: category %q not in the contract", i, e.Category)
		}
		if e.MessageType != "" && !slices.Contains(pipeline.MessageTypes, e.MessageType) {
			t.Errorf("event %d: message type %q not in the contract", i, e.MessageType)
		}
		if (e.Status == pipeline.StatusFailed) != (e.ErrorCode != pipeline.NoErrorCode) {
			t.Errorf("event %d: status %s with error code %d", i, e.Status, e.ErrorCode)
		}
		if e.ErrorCode != pipeline.NoErrorCode && (e.ErrorCode < 0 || e.ErrorTitle == "") {
			t.Errorf("event %d: error code %d with title %q", i, e.ErrorCode, e.ErrorTitle)
		}
		if e.MediaBytes < pipeline.NoMediaBytes {
			t.Errorf("event %d: media bytes %d", i, e.MediaBytes)
		}
	}
}

func find(events []pipeline.Event, messageID string, status pipeline.Status) *pipeline.Event {
	for i := range events {
		if events[i].MessageID == messageID && events[i].Status == status {
			return &events[i]
		}
	}
	return nil
}

func referenceInputs(t testing.TB) []input {
	return []input{
		{"webhooks", "webhook-statuses.ndjson", string(readTestdata(t, "webhook-statuses.ndjson"))},
		{"ndjson", "send-log.ndjson", string(readTestdata(t, "send-log.ndjson"))},
	}
}

func TestReferenceExamples(t *testing.T) {
	events, sum, rejects := export(t, ingest.Options{}, referenceInputs(t)...)
	if len(rejects) != 0 {
		t.Fatalf("rejects: %+v", rejects)
	}
	// 3 send-log records (1 accepted, 2 refused) and 6 webhook statuses.
	if len(events) != 9 || sum.Accepted != 1 || sum.Refused != 2 || sum.Statuses != 6 {
		t.Fatalf("got %d events, summary %+v", len(events), sum)
	}
	if sum.OrphanStatuses != 4 || sum.Duplicates != 0 {
		t.Errorf("orphans %d duplicates %d, want 4 and 0", sum.OrphanStatuses, sum.Duplicates)
	}
	us := func(sec int64) int64 { return sec * 1_000_000 }
	tests := []struct {
		name string
		msg  string
		st   pipeline.Status
		want pipeline.Event
	}{
		{"accepted send", wamidBR, pipeline.StatusAccepted, pipeline.Event{
			Timestamp: us(1789997600) + 120_000, WABAID: refWABA, PhoneNumberID: refPhone,
			Recipient: hasher.Hash("5511987654321"), Country: "BR", CampaignID: "black-friday-2026",
			Template: "bf_promo_v3", Language: "pt_BR", Category: "marketing", MessageType: "template",
			MediaBytes: -1, ErrorCode: -1,
		}},
		{"sent status joined", wamidBR, pipeline.StatusSent, pipeline.Event{
			Timestamp: us(1790000000), WABAID: refWABA, PhoneNumberID: refPhone,
			Recipient: hasher.Hash("5511987654321"), Country: "BR", CampaignID: "black-friday-2026",
			Template: "bf_promo_v3", Language: "pt_BR", Category: "marketing", MessageType: "template",
			MediaBytes: -1, ErrorCode: -1,
		}},
		{"delivered status joined", wamidBR, pipeline.StatusDelivered, pipeline.Event{
			Timestamp: us(1790000004), WABAID: refWABA, PhoneNumberID: refPhone,
			Recipient: hasher.Hash("5511987654321"), Country: "BR", CampaignID: "black-friday-2026",
			Template: "bf_promo_v3", Language: "pt_BR", Category: "marketing", MessageType: "template",
			MediaBytes: -1, ErrorCode: -1,
		}},
		{"refused send", "r-0002", pipeline.StatusFailed, pipeline.Event{
			Timestamp: us(1789997600) + 131_000, WABAID: refWABA, PhoneNumberID: refPhone,
			Recipient: hasher.Hash("5511912345678"), Country: "BR", CampaignID: "black-friday-2026",
			Template: "bf_promo_v3", Language: "pt_BR", MessageType: "template", MediaBytes: -1,
			ErrorCode: 132000, ErrorTitle: "Number of template parameters does not match",
			ErrorDetails: "body: number of localizable_params (0) does not match the expected number of params (1)",
		}},
		{"refused media send", "r-0003", pipeline.StatusFailed, pipeline.Event{
			Timestamp: us(1789997600) + 140_000, WABAID: refWABA, PhoneNumberID: refPhone,
			Recipient: hasher.Hash("5511900000001"), Country: "BR", CampaignID: "black-friday-2026",
			Category: "service", MessageType: "image", MediaBytes: 7340032,
			ErrorCode: 130429, ErrorTitle: "Cloud API message throughput reached",
			ErrorDetails: "Cloud API message throughput has been reached.",
		}},
		{"orphan read (batched, out of order)", wamidID, pipeline.StatusRead, pipeline.Event{
			Timestamp: us(1790000003), WABAID: refWABA, PhoneNumberID: refPhone,
			Recipient: hasher.Hash("628123456789"), Country: "ID", MediaBytes: -1, ErrorCode: -1,
		}},
		{"orphan failed with webhook title", wamidIN, pipeline.StatusFailed, pipeline.Event{
			Timestamp: us(1790000120), WABAID: refWABA, PhoneNumberID: refPhone,
			Recipient: hasher.Hash("919876543210"), Country: "IN", MediaBytes: -1, ErrorCode: 131049,
			ErrorTitle:   "This message was not delivered to maintain healthy ecosystem engagement.",
			ErrorDetails: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
		}},
		{"orphan failed, second phone number", wamidGB, pipeline.StatusFailed, pipeline.Event{
			Timestamp: us(1790000201), WABAID: refWABA, PhoneNumberID: "301122334455668",
			Recipient: hasher.Hash("447700900123"), Country: "GB", MediaBytes: -1, ErrorCode: 131050,
			ErrorTitle:   "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business",
			ErrorDetails: "Unable to deliver the message.",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := find(events, tt.msg, tt.st)
			if got == nil {
				t.Fatalf("no %s event of %s", tt.st, tt.msg)
			}
			want := tt.want
			want.MessageID, want.Status = tt.msg, tt.st
			want.EventID = pipeline.MakeEventID(tt.msg, tt.st, want.Timestamp)
			if *got != want {
				t.Errorf("got  %+v\nwant %+v", *got, want)
			}
		})
	}
	if find(events, wamidMX, pipeline.StatusFailed) == nil {
		t.Error("second status of a batched line missing")
	}
}

// The same send log as CSV with other column names, read through a
// mapping, must give exactly the events of the NDJSON form.
func TestSendLogCSVWithMapping(t *testing.T) {
	webhooks := input{"webhooks", "webhook-statuses.ndjson", string(readTestdata(t, "webhook-statuses.ndjson"))}
	want, _, _ := export(t, ingest.Options{}, referenceInputs(t)...)
	mapping, err := ingest.ParseMapping("request_id=id,sent_at=created,phone_number_id=sender,recipient=to_number,campaign=campaign," +
		"template=tpl,language=lang,category=kind,message_type=msg_type,media_bytes=media,message_id=wamid," +
		"error_code=err_code,error_message=err_message,error_details=err_details,exploration=explore")
	if err != nil {
		t.Fatal(err)
	}
	got, sum, rejects := export(t, ingest.Options{Mapping: mapping}, webhooks,
		input{"csv", "send-log.csv", string(readTestdata(t, "send-log.csv"))})
	if len(rejects) != 0 {
		t.Fatalf("rejects: %+v", rejects)
	}
	if sum.SendLogLines != 3 || sum.Accepted != 1 || sum.Refused != 2 {
		t.Errorf("summary %+v", sum)
	}
	if !slices.Equal(got, want) {
		for i := range max(len(got), len(want)) {
			if i >= len(got) || i >= len(want) || got[i] != want[i] {
				t.Errorf("event %d differs:\ncsv    %+v\nndjson %+v", i, at(got, i), at(want, i))
			}
		}
	}
}

func at(events []pipeline.Event, i int) any {
	if i < len(events) {
		return events[i]
	}
	return "(none)"
}

// A CSV whose headers are the field names needs no mapping.
func TestSendLogCSVDefaultHeaders(t *testing.T) {
	csv := "request_id,sent_at,waba_id,phone_number_id,recipient,campaign_id,template_name,template_language,category,message_type,media_bytes,exploration,message_id,error_code,error_message,error_details\n" +
		"r1,2026-10-01T10:00:00.5Z,880,301,5511987654321,c1,promo,pt_BR,MARKETING,template,,true,wamid.X,,,\n" +
		"r2,1790000000,880,301,5511987654321,c1,promo,pt_BR,marketing,template,,,,131005,,token lacks permission\n"
	events, _, rejects := export(t, ingest.Options{}, input{"csv", "log.csv", csv})
	if len(rejects) != 0 || len(events) != 2 {
		t.Fatalf("events %+v rejects %+v", events, rejects)
	}
	acc := find(events, "wamid.X", pipeline.StatusAccepted)
	if acc == nil || !acc.Exploration || acc.Category != "marketing" || acc.WABAID != "880" || acc.Timestamp != 1790848800_500_000 {
		t.Errorf("accepted event %+v", acc)
	}
	ref := find(events, "r2", pipeline.StatusFailed)
	if ref == nil || ref.ErrorCode != 131005 || ref.ErrorTitle != "Access denied" || ref.ErrorDetails != "token lacks permission" || ref.Exploration {
		t.Errorf("refused event %+v", ref)
	}
}

func TestSendLogCSVMissingColumns(t *testing.T) {
	tests := []struct {
		name, mapping, csv, want string
	}{
		{"no recipient column", "", "request_id,sent_at,message_id\n", "required field recipient"},
		{"no answer columns", "", "request_id,sent_at,to\n", "message_id nor error_code"},
		{"mapped header absent", "recipient=phone_number", "request_id,sent_at,to,message_id\n", `no column "phone_number"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ingest.ParseMapping(tt.mapping)
			if err != nil {
				t.Fatal(err)
			}
			x := newExporter(t, ingest.Options{Mapping: m})
			err = x.AddSendLogCSV(context.Background(), "log.csv", strings.NewReader(tt.csv))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "log.csv") {
				t.Errorf("error %v, want one naming log.csv and containing %q", err, tt.want)
			}
		})
	}
}

// status is a webhook body with one status, for reject tests.
func status(fields string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"880","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"301"},"statuses":[{` + fields + `}]}}]}]}`
}

const goodStatus = `"id":"wamid.G","status":"delivered","timestamp":"1790000010","recipient_id":"5511987654321"`

func TestWebhookRejects(t *testing.T) {
	tests := []struct {
		name, line, kind, reason string
	}{
		{"null line", `null`, ingest.KindNull, "null"},
		{"bad json", `{"entry":[`, ingest.KindBadJSON, "cannot parse"},
		{"trailing garbage", `{"entry":[]} x`, ingest.KindBadJSON, "tail"},
		{"array", `[1,2]`, ingest.KindNotObject, "array"},
		{"string", `"hello"`, ingest.KindNotObject, "string"},
		{"no entry", `{"object":"whatsapp_business_account"}`, ingest.KindMissingField, "entry"},
		{"entry not array", `{"entry":{}}`, ingest.KindWrongType, "entry"},
		{"status not a string", status(`"id":"wamid.G","status":3,"timestamp":"1790000010","recipient_id":"55119"`), ingest.KindWrongType, "status is a number"},
		{"unknown status", status(`"id":"wamid.G","status":"deleted","timestamp":"1790000010","recipient_id":"55119"`), ingest.KindUnknownStatus, `"deleted"`},
		{"accepted is not a webhook status", status(`"id":"wamid.G","status":"accepted","timestamp":"1790000010","recipient_id":"55119"`), ingest.KindUnknownStatus, `"accepted"`},
		{"missing id", status(`"status":"sent","timestamp":"1790000010","recipient_id":"55119"`), ingest.KindMissingField, "statuses[0]: no id"},
		{"empty id", status(`"id":"","status":"sent","timestamp":"1790000010","recipient_id":"55119"`), ingest.KindMissingField, "id is empty"},
		{"id not a string", status(`"id":7,"status":"sent","timestamp":"1790000010","recipient_id":"55119"`), ingest.KindWrongType, "id is a number"},
		{"timestamp not numeric", status(`"id":"wamid.G","status":"sent","timestamp":"yesterday","recipient_id":"55119"`), ingest.KindBadTimestamp, "yesterday"},
		{"timestamp a bool", status(`"id":"wamid.G","status":"sent","timestamp":true,"recipient_id":"55119"`), ingest.KindWrongType, "timestamp is a boolean"},
		{"timestamp zero", status(`"id":"wamid.G","status":"sent","timestamp":"0","recipient_id":"55119"`), ingest.KindBadTimestamp, "out of range"},
		{"no recipient", status(`"id":"wamid.G","status":"sent","timestamp":"1790000010"`), ingest.KindMissingField, "recipient_id"},
		{"recipient without digits", status(`"id":"wamid.G","status":"sent","timestamp":"1790000010","recipient_id":"someone"`), ingest.KindBadValue, "not a phone number"},
		{"failed without errors", status(`"id":"wamid.G","status":"failed","timestamp":"1790000010","recipient_id":"55119"`), ingest.KindMissingField, "without errors"},
		{"error code not a number", status(`"id":"wamid.G","status":"failed","timestamp":"1790000010","recipient_id":"55119","errors":[{"code":"abc"}]`), ingest.KindBadValue, "not an error code"},
		{"error title not a string", status(`"id":"wamid.G","status":"failed","timestamp":"1790000010","recipient_id":"55119","errors":[{"code":131026,"title":5}]`), ingest.KindWrongType, "title is a number"},
		{"one bad status rejects the whole batch", status(goodStatus + `},{"id":"wamid.H","status":"sent"`), ingest.KindMissingField, "statuses[1]: no timestamp"},
		{"inbound without from", `{"entry":[{"id":"880","changes":[{"field":"messages","value":{"messages":[{"id":"wamid.I","timestamp":"1790000010","type":"text"}]}}]}]}`, ingest.KindMissingField, "messages[0]: no from"},
		{"invalid utf-8", status(goodStatus + `,"biz_opaque_callback_data":"campaign=` + "\xff\xfe" + `"`), ingest.KindInvalidUTF8, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The bad line sits between two good lines: it is rejected
			// with its line number, and the good lines still export.
			data := status(goodStatus) + "\n" + tt.line + "\n\n" + status(strings.Replace(goodStatus, "delivered", "read", 1)) + "\n"
			events, sum, rejects := export(t, ingest.Options{}, input{"webhooks", "hooks.ndjson", data})
			if len(rejects) != 1 {
				t.Fatalf("got %d rejects %+v, want 1", len(rejects), rejects)
			}
			r := rejects[0]
			if r.Source != "hooks.ndjson" || r.Line != 2 || r.Kind != tt.kind || !strings.Contains(r.Reason, tt.reason) || r.Raw != tt.line {
				t.Errorf("reject %+v\nwant line 2, kind %q, reason containing %q", r, tt.kind, tt.reason)
			}
			if len(events) != 2 || sum.WebhookLines != 3 || sum.BlankLines != 1 || sum.Rejects != 1 || sum.RejectsByKind[tt.kind] != 1 {
				t.Errorf("events %d, summary %+v", len(events), sum)
			}
		})
	}
}

func sendLine(fields string) string {
	return `{"request_id":"r-9","sent_at":"2026-10-01T10:00:00Z","phone_number_id":"301","request":{"to":"5511987654321","type":"template","template":{"name":"t1","language":{"code":"en"}}},` + fields + `}`
}

const goodAnswer = `"response":{"messages":[{"id":"wamid.S"}]}`

func TestSendLogRejects(t *testing.T) {
	tests := []struct {
		name, line, kind, reason string
	}{
		{"null line", `null`, ingest.KindNull, "null"},
		{"bad json", `{"request_id":`, ingest.KindBadJSON, "cannot parse"},
		{"number", `42`, ingest.KindNotObject, "number"},
		{"missing request id", `{"sent_at":"2026-10-01T10:00:00Z","request":{"to":"55119"},` + goodAnswer + `}`, ingest.KindMissingField, "no request_id"},
		{"missing sent_at", `{"request_id":"r","request":{"to":"55119"},` + goodAnswer + `}`, ingest.KindMissingField, "no sent_at"},
		{"bad sent_at", `{"request_id":"r","sent_at":"10/01/2026","request":{"to":"55119"},` + goodAnswer + `}`, ingest.KindBadTimestamp, "10/01/2026"},
		{"sent_at an object", `{"request_id":"r","sent_at":{},"request":{"to":"55119"},` + goodAnswer + `}`, ingest.KindWrongType, "sent_at is an object"},
		{"missing recipient", `{"request_id":"r","sent_at":"2026-10-01T10:00:00Z",` + goodAnswer + `}`, ingest.KindMissingField, "recipient (request.to)"},
		{"neither wamid nor error", sendLine(`"response":{}`), ingest.KindMissingField, "neither a message id"},
		{"both wamid and error", sendLine(`"response":{"messages":[{"id":"wamid.S"}],"error":{"code":100}}`), ingest.KindBadValue, "both"},
		{"unknown category", sendLine(`"category":"promo",` + goodAnswer), ingest.KindBadValue, `"promo"`},
		{"unknown message type", `{"request_id":"r","sent_at":"2026-10-01T10:00:00Z","request":{"to":"55119","type":"fax"},` + goodAnswer + `}`, ingest.KindBadValue, `"fax"`},
		{"negative media bytes", sendLine(`"media_bytes":-5,` + goodAnswer), ingest.KindBadValue, "byte count"},
		{"media bytes a string of letters", sendLine(`"media_bytes":"big",` + goodAnswer), ingest.KindBadValue, "byte count"},
		{"exploration an object", sendLine(`"exploration":{},` + goodAnswer), ingest.KindWrongType, "exploration is an object"},
		{"template a number", `{"request_id":"r","sent_at":"2026-10-01T10:00:00Z","request":{"to":"55119","template":{"name":5}},` + goodAnswer + `}`, ingest.KindWrongType, "template (request.template.name) is a number"},
		{"error code too large", sendLine(`"response":{"error":{"code":99999999999}}`), ingest.KindBadValue, "not an error code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := sendLine(goodAnswer) + "\n" + tt.line + "\n" + strings.Replace(sendLine(goodAnswer), "wamid.S", "wamid.T", 1)
			events, sum, rejects := export(t, ingest.Options{}, input{"ndjson", "log.ndjson", data})
			if len(rejects) != 1 {
				t.Fatalf("got %d rejects %+v, want 1", len(rejects), rejects)
			}
			r := rejects[0]
			if r.Source != "log.ndjson" || r.Line != 2 || r.Kind != tt.kind || !strings.Contains(r.Reason, tt.reason) || r.Raw != tt.line {
				t.Errorf("reject %+v\nwant line 2, kind %q, reason containing %q", r, tt.kind, tt.reason)
			}
			if len(events) != 2 || sum.SendLogLines != 3 || sum.Rejects != 1 {
				t.Errorf("events %d, summary %+v", len(events), sum)
			}
		})
	}
}

func TestSendLogCSVRejects(t *testing.T) {
	csv := "request_id,sent_at,recipient,message_id,error_code\n" +
		"r1,1790000000,5511987654321,wamid.A,\n" +
		"r2,1790000001,5511987654321\n" + // too few fields
		"r3,1790000002,\"55 11\" 9,wamid.C,\n" + // bare quote after a quoted field
		"r4,\"1790000003\",\"multi\nline 5511\",wamid.D,\n" + // a quoted line break is fine
		"r5,later,5511987654321,wamid.E,\n" +
		"r6,1790000005,5511987654321,wamid.F,\n"
	events, sum, rejects := export(t, ingest.Options{}, input{"csv", "log.csv", csv})
	want := []struct {
		line int
		kind string
		raw  string
	}{
		{3, ingest.KindBadCSV, "r2,1790000001,5511987654321"},
		{4, ingest.KindBadCSV, `r3,1790000002,"55 11" 9,wamid.C,`},
		{7, ingest.KindBadTimestamp, "r5,later,5511987654321,wamid.E,"},
	}
	if len(rejects) != len(want) {
		t.Fatalf("rejects %+v", rejects)
	}
	for i, w := range want {
		if r := rejects[i]; r.Line != w.line || r.Kind != w.kind || r.Raw != w.raw {
			t.Errorf("reject %d: %+v, want line %d kind %q raw %q", i, r, w.line, w.kind, w.raw)
		}
	}
	if len(events) != 3 || sum.SendLogLines != 7 { // physical lines: r4 spans two
		t.Errorf("events %+v summary %+v", events, sum)
	}
	if find(events, "wamid.D", pipeline.StatusAccepted) == nil {
		t.Error("record with a quoted line break lost")
	}
}

func TestDuplicatesDropped(t *testing.T) {
	ref := referenceInputs(t)
	once, _, _ := export(t, ingest.Options{}, ref...)
	// Webhooks redelivered and a send log exported twice.
	twice, sum, _ := export(t, ingest.Options{}, ref[0], ref[1], ref[0], ref[1])
	if !slices.Equal(once, twice) {
		t.Errorf("duplicated inputs changed the events: %d vs %d", len(twice), len(once))
	}
	if sum.Duplicates != int64(len(once)) || sum.Events != int64(len(once)) {
		t.Errorf("duplicates %d events %d, want %d each", sum.Duplicates, sum.Events, len(once))
	}
	if sum.OrphanStatuses != 4 {
		t.Errorf("orphans counted %d times, want 4", sum.OrphanStatuses)
	}
}

// Input order must not change the output.
func TestInputOrderIrrelevant(t *testing.T) {
	ref := referenceInputs(t)
	a, _, _ := export(t, ingest.Options{}, ref[0], ref[1])
	b, _, _ := export(t, ingest.Options{}, ref[1], ref[0])
	lines := strings.Split(strings.TrimSpace(ref[0].data), "\n")
	slices.Reverse(lines)
	c, _, _ := export(t, ingest.Options{}, ref[1], input{"webhooks", "reversed", strings.Join(lines, "\n")})
	if !slices.Equal(a, b) || !slices.Equal(a, c) {
		t.Error("events depend on input order")
	}
}

func TestOrphanKeepsCampaignFromCallback(t *testing.T) {
	line := status(`"id":"wamid.O","status":"sent","timestamp":"1790000010","recipient_id":"+52 1 55 5123 4567","biz_opaque_callback_data":"src=crm;campaign=cmp-7&x=1","pricing":{"category":"utility"}`)
	events, sum, _ := export(t, ingest.Options{}, input{"webhooks", "w", line})
	if len(events) != 1 || sum.OrphanStatuses != 1 {
		t.Fatalf("events %+v summary %+v", events, sum)
	}
	e := events[0]
	if e.CampaignID != "cmp-7" || e.Category != "utility" || e.Country != "MX" || e.WABAID != "880" || e.PhoneNumberID != "301" || e.Template != "" {
		t.Errorf("orphan %+v", e)
	}
	if e.Recipient != hasher.Hash("5215551234567") {
		t.Errorf("recipient %s, want the hash of the normalised number", e.Recipient)
	}
}

func TestInboundMessages(t *testing.T) {
	line := `{"object":"whatsapp_business_account","entry":[{"id":"880","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15551230001","phone_number_id":"301"},` +
		`"contacts":[{"profile":{"name":"Ana"},"wa_id":"5511987654321"}],"messages":[` +
		`{"from":"5511987654321","id":"wamid.IN1","timestamp":"1790000100","type":"text","text":{"body":"oi"}},` +
		`{"from":"5511987654321","id":"wamid.IN2","timestamp":"1790000050","type":"button","button":{"text":"Stop"}},` +
		`{"from":"5511987654321","id":"wamid.IN3","timestamp":"1790000060","type":"order"}]}}]}]}`
	events, sum, _ := export(t, ingest.Options{}, input{"webhooks", "w", line})
	if len(events) != 3 || sum.Inbound != 3 || sum.OrphanStatuses != 0 {
		t.Fatalf("events %+v summary %+v", events, sum)
	}
	wantTypes := map[string]string{"wamid.IN1": "text", "wamid.IN2": "interactive", "wamid.IN3": "text"}
	for _, e := range events {
		want := pipeline.Event{
			EventID: pipeline.MakeEventID(e.MessageID, pipeline.StatusInbound, e.Timestamp), MessageID: e.MessageID,
			Timestamp: e.Timestamp, WABAID: "880", PhoneNumberID: "301", Recipient: hasher.Hash("5511987654321"),
			Country: "BR", Category: "service", MessageType: wantTypes[e.MessageID], MediaBytes: -1,
			Status: pipeline.StatusInbound, ErrorCode: -1,
		}
		if e != want {
			t.Errorf("got  %+v\nwant %+v", e, want)
		}
	}
	if events[0].MessageID != "wamid.IN2" {
		t.Errorf("inbound messages not in time order: first %s", events[0].MessageID)
	}
}

// A "messages" change that carries neither statuses nor messages
// (value.errors) is skipped and counted; account fields are not skipped
// (see account_test.go).
func TestSkippedChanges(t *testing.T) {
	data := `{"entry":[{"id":"880","changes":[{"field":"messages","value":{"errors":[{"code":131000}]}}]}]}` + "\n"
	events, sum, rejects := export(t, ingest.Options{}, input{"webhooks", "w", data})
	if len(events) != 0 || len(rejects) != 0 || sum.SkippedChanges != 1 || sum.EmptyWebhooks != 0 {
		t.Errorf("events %d rejects %d summary %+v", len(events), len(rejects), sum)
	}
}

func TestHashing(t *testing.T) {
	line := sendLine(goodAnswer)
	tests := []struct {
		name string
		opts ingest.Options
		want string
	}{
		{"hashed with the key", ingest.Options{HashKey: []byte("k1")}, pipeline.NewRecipientHasher([]byte("k1")).Hash("5511987654321")},
		{"another key, another pseudonym", ingest.Options{HashKey: []byte("k2")}, pipeline.NewRecipientHasher([]byte("k2")).Hash("5511987654321")},
		{"no hash keeps the number", ingest.Options{NoHash: true}, "5511987654321"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, _, _ := export(t, tt.opts, input{"ndjson", "l", line})
			if len(events) != 1 || events[0].Recipient != tt.want || events[0].Country != "BR" {
				t.Errorf("events %+v, want recipient %s", events, tt.want)
			}
		})
	}
	// An already pseudonymised recipient passes through unchanged.
	pre := strings.Replace(line, `"to":"5511987654321"`, `"to":"h:0123456789abcdef"`, 1)
	events, _, _ := export(t, ingest.Options{}, input{"ndjson", "l", pre})
	if len(events) != 1 || events[0].Recipient != "h:0123456789abcdef" || events[0].Country != "" {
		t.Errorf("pre-hashed recipient: %+v", events)
	}
	if _, err := ingest.New(ingest.Options{}); err == nil {
		t.Error("New without a hash key and without NoHash: no error")
	}
}

func TestAddAfterEvents(t *testing.T) {
	x := newExporter(t, ingest.Options{})
	x.Events()
	if err := x.AddWebhooks(context.Background(), "w", strings.NewReader(status(goodStatus))); err == nil {
		t.Error("adding input after Events: no error")
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	x := newExporter(t, ingest.Options{})
	data := strings.Repeat(status(goodStatus)+"\n", 3000)
	if err := x.AddWebhooks(ctx, "w", strings.NewReader(data)); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestOnRejectStreams(t *testing.T) {
	var buf bytes.Buffer
	rw := ingest.NewRejectWriter(&buf)
	x := newExporter(t, ingest.Options{OnReject: rw.Write})
	if err := x.AddWebhooks(context.Background(), "w.ndjson", strings.NewReader("null\n"+status(goodStatus)+"\n{\n")); err != nil {
		t.Fatal(err)
	}
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `{"source":"w.ndjson","line":1,"kind":"null line","reason":"line is JSON null, want a webhook body object","raw":"null"}` + "\n"
	lines := strings.SplitAfter(buf.String(), "\n")
	if rw.Count() != 2 || len(lines) != 3 || lines[0] != want || !strings.HasPrefix(lines[1], `{"source":"w.ndjson","line":3,"kind":"bad json"`) {
		t.Errorf("reject file:\n%s", buf.String())
	}
	if len(x.Rejects()) != 0 {
		t.Error("rejects kept although OnReject streams them")
	}
}

func TestWriteEventsBatches(t *testing.T) {
	x := newExporter(t, ingest.Options{})
	ctx := context.Background()
	for _, in := range referenceInputs(t) {
		var err error
		if in.kind == "ndjson" {
			err = x.AddSendLogNDJSON(ctx, in.name, strings.NewReader(in.data))
		} else {
			err = x.AddWebhooks(ctx, in.name, strings.NewReader(in.data))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var got []pipeline.Event
	var sizes []int
	sum, err := x.WriteEvents(ctx, 4, func(b []pipeline.Event) error {
		sizes = append(sizes, len(b))
		got = append(got, b...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := x.Events()
	if !slices.Equal(got, want) || !slices.Equal(sizes, []int{4, 4, 1}) || sum.Events != 9 {
		t.Errorf("batches %v, %d events, summary %+v", sizes, len(got), sum)
	}
}

// A byte order mark and CRLF line ends, as Windows tools write them, are
// not part of the data.
func TestBOMAndCRLF(t *testing.T) {
	data := "\ufeff" + status(goodStatus) + "\r\n" + status(strings.Replace(goodStatus, "delivered", "read", 1)) + "\r\n"
	events, _, rejects := export(t, ingest.Options{}, input{"webhooks", "w", data})
	if len(events) != 2 || len(rejects) != 0 {
		t.Errorf("events %d, rejects %+v", len(events), rejects)
	}
	log := "\ufeff" + sendLine(goodAnswer) + "\r\n"
	events, _, rejects = export(t, ingest.Options{}, input{"ndjson", "l", log})
	if len(events) != 1 || len(rejects) != 0 {
		t.Errorf("send log: events %d, rejects %+v", len(events), rejects)
	}
	csv := "\ufeffrequest_id,sent_at,recipient,message_id\r\nr1,1790000000,5511987654321,wamid.A\r\n"
	events, _, rejects = export(t, ingest.Options{}, input{"csv", "c", csv})
	if len(events) != 1 || len(rejects) != 0 || events[0].MessageID != "wamid.A" {
		t.Errorf("csv: events %+v, rejects %+v", events, rejects)
	}
}
