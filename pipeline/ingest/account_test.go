package ingest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/pipeline/ingest"
)

// checkAccountEvent asserts what every exported account event must
// satisfy.
func checkAccountEvent(t testing.TB, i int, e pipeline.Event, hashed bool) {
	t.Helper()
	if e.MessageID != "" || e.MessageType != "" || e.CampaignID != "" || e.ErrorCode != pipeline.NoErrorCode || len(e.EventID) != 16 {
		t.Errorf("event %d: account event with message attributes or a bad id: %+v", i, e)
	}
	if (e.Recipient != "") != (e.Status == pipeline.StatusUserPreference) {
		t.Errorf("event %d: %s with recipient %q", i, e.Status, e.Recipient)
	}
	if hashed && e.Recipient != "" && !strings.HasPrefix(e.Recipient, pipeline.HashedPrefix) {
		t.Errorf("event %d: recipient %q not hashed", i, e.Recipient)
	}
	if e.AccountValue == "" && e.Status != pipeline.StatusBusinessCapability {
		t.Errorf("event %d: %s without an account value", i, e.Status)
	}
	if e.Time().Year() < 2000 || e.Time().Year() >= 2100 {
		t.Errorf("event %d: timestamp %d out of range", i, e.Timestamp)
	}
}

func unix(s int64) int64 { return s * 1_000_000 }

// Every line of Meta's account webhook examples becomes the account event
// the contract says, field by field.
func TestAccountExamples(t *testing.T) {
	accounts := string(readTestdata(t, "webhook-account-events.ndjson"))
	statuses := string(readTestdata(t, "webhook-statuses.ndjson")) // they map display number 15551230001 to its id
	events, sum, rejects := export(t, ingest.Options{HashKey: []byte(testKey)},
		input{"webhooks", "account.ndjson", accounts}, input{"webhooks", "statuses.ndjson", statuses})
	if len(rejects) != 0 {
		t.Fatalf("rejects: %+v", rejects)
	}
	const waba, phone = "880011223344556", "301122334455667"
	ana := hasher.Hash("5511987654321")
	none := pipeline.NoAccountNumber
	type ev = pipeline.Event
	want := []ev{
		{Timestamp: unix(1789981920), Status: pipeline.StatusTemplateQuality, Template: "bf_promo_v3", Language: "pt_BR", AccountValue: "YELLOW", AccountNumber: none},
		{Timestamp: unix(1789994400), Status: pipeline.StatusTemplateQuality, Template: "bf_promo_v3", Language: "pt_BR", AccountValue: "RED", AccountNumber: none},
		{Timestamp: unix(1789998060), Status: pipeline.StatusTemplateStatus, Template: "bf_promo_v3", Language: "pt_BR", Category: "marketing", AccountValue: "PAUSED", AccountNumber: 1,
			ErrorDetails: "Your message template has been paused for 3 hours because of low quality: it will be available again at 2026-09-21 16:41 UTC."},
		{Timestamp: unix(1790008860), Status: pipeline.StatusTemplateStatus, Template: "bf_promo_v3", Language: "pt_BR", Category: "marketing", AccountValue: "APPROVED", AccountNumber: none},
		{Timestamp: unix(1790157900), Status: pipeline.StatusTemplateStatus, Template: "bf_promo_v3", Language: "pt_BR", Category: "marketing", AccountValue: "PAUSED", AccountNumber: 2,
			ErrorDetails: "Your message template has been paused for 6 hours because of low quality."},
		{Timestamp: unix(1790179500), Status: pipeline.StatusTemplateStatus, Template: "bf_promo_v3", Language: "pt_BR", Category: "marketing", AccountValue: "FLAGGED", AccountNumber: none,
			AccountUntil: time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC).UnixMicro()},
		{Timestamp: unix(1790726400), Status: pipeline.StatusTemplateStatus, Template: "bf_promo_v3", Language: "pt_BR", Category: "marketing", AccountValue: "DISABLED", AccountNumber: none, AccountUntil: unix(1790726400)},
		{Timestamp: unix(1790064000), Status: pipeline.StatusTemplateStatus, Template: "order_update_v2", Language: "en_US", Category: "utility", AccountValue: "REJECTED", AccountNumber: none, ErrorTitle: "INCORRECT_CATEGORY"},
		{Timestamp: unix(1790208000), Status: pipeline.StatusTemplateCategory, Template: "cart_reminder", Language: "es", Category: "marketing", AccountValue: "utility", AccountNumber: none},
		{Timestamp: unix(1790042400), Status: pipeline.StatusPhoneQuality, PhoneNumberID: phone, AccountValue: "UPGRADE", AccountNumber: 10_000},
		{Timestamp: unix(1790321400), Status: pipeline.StatusPhoneQuality, PhoneNumberID: phone, AccountValue: "FLAGGED", AccountNumber: 10_000},
		{Timestamp: unix(1790407800), Status: pipeline.StatusPhoneQuality, PhoneNumberID: phone, AccountValue: "THROUGHPUT_UPGRADE", AccountNumber: 10_000},
		{Timestamp: unix(1790042400), Status: pipeline.StatusBusinessCapability, AccountNumber: 10_000},
		{Timestamp: unix(1790413200), Status: pipeline.StatusAccountUpdate, PhoneNumberID: phone, AccountValue: "ACCOUNT_VIOLATION:SCAM", AccountNumber: none},
		{Timestamp: unix(1790413205), Status: pipeline.StatusAccountUpdate, PhoneNumberID: phone, AccountValue: "ACCOUNT_RESTRICTION:RESTRICTED_BIZ_INITIATED_MESSAGING", AccountNumber: none, AccountUntil: unix(1790672400)},
		{Timestamp: unix(1790467200), Status: pipeline.StatusAccountAlert, AccountValue: "INCREASED_CAPABILITIES_ELIGIBILITY_DEFERRED", AccountNumber: none,
			ErrorTitle: "WARNING ACTIVE", ErrorDetails: "Your business is not yet eligible for a higher messaging limit."},
		{Timestamp: unix(1790013731), Status: pipeline.StatusUserPreference, PhoneNumberID: phone, Recipient: ana, Country: "BR", Category: "marketing", AccountValue: "stop", AccountNumber: none},
		{Timestamp: unix(1790928900), Status: pipeline.StatusUserPreference, PhoneNumberID: phone, Recipient: ana, Country: "BR", Category: "marketing", AccountValue: "resume", AccountNumber: none},
	}
	got := map[string]pipeline.Event{}
	key := func(e pipeline.Event) string { return fmt.Sprint(e.Timestamp, e.Status, e.AccountValue) }
	for _, e := range events {
		if e.Status.IsAccountEvent() {
			got[key(e)] = e
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d account events, want %d", len(got), len(want))
	}
	for _, w := range want {
		w.WABAID, w.MediaBytes, w.ErrorCode = waba, pipeline.NoMediaBytes, pipeline.NoErrorCode
		g, ok := got[key(w)]
		if !ok {
			t.Errorf("missing %s %s at %d", w.Status, w.AccountValue, w.Timestamp)
			continue
		}
		w.EventID = g.EventID
		if g != w {
			t.Errorf("%s %s:\n got  %+v\n want %+v", w.Status, w.AccountValue, g, w)
		}
	}
	wantKinds := map[string]int64{"template_quality": 2, "template_status": 6, "template_category": 1, "phone_quality": 3,
		"business_capability": 1, "account_update": 2, "account_alert": 1, "user_preference": 2}
	for k, n := range wantKinds {
		if sum.AccountEvents[k] != n {
			t.Errorf("summary: %d %s events, want %d (%v)", sum.AccountEvents[k], k, n, sum.AccountEvents)
		}
	}
	if sum.WebhookLines != int64(strings.Count(accounts+statuses, "\n")) || sum.EmptyWebhooks != 0 || len(sum.UnknownFields) != 0 || len(sum.UnknownValues) != 0 || sum.UnresolvedDisplayNumbers != 0 {
		t.Errorf("line accounting: %+v", sum)
	}
}

// The display number is resolved to its phone number id only through
// other webhooks; without them the id is empty and counted, and the event
// id does not change.
func TestAccountDisplayNumberUnresolved(t *testing.T) {
	line := `{"object":"whatsapp_business_account","entry":[{"id":"880","time":1790321400,"changes":[{"field":"phone_number_quality_update","value":{"display_phone_number":"15551230001","event":"DOWNGRADE","current_limit":"TIER_1K"}}]}]}`
	alone, sum, _ := export(t, ingest.Options{HashKey: []byte(testKey)}, input{"webhooks", "a", line})
	if len(alone) != 1 || alone[0].PhoneNumberID != "" || sum.UnresolvedDisplayNumbers != 1 || alone[0].AccountNumber != 1000 {
		t.Fatalf("events %+v summary %+v", alone, sum)
	}
	status := `{"entry":[{"id":"880","changes":[{"field":"messages","value":{"metadata":{"display_phone_number":"15551230001","phone_number_id":"301"},"statuses":[{"id":"wamid.1","status":"sent","timestamp":"1790321000","recipient_id":"5511987654321"}]}}]}]}`
	both, sum, _ := export(t, ingest.Options{HashKey: []byte(testKey)}, input{"webhooks", "a", line + "\n" + status})
	var e pipeline.Event
	for _, b := range both {
		if b.Status == pipeline.StatusPhoneQuality {
			e = b
		}
	}
	if e.PhoneNumberID != "301" || sum.UnresolvedDisplayNumbers != 0 {
		t.Fatalf("event %+v summary %+v", e, sum)
	}
	if e.EventID != alone[0].EventID {
		t.Errorf("event id %s resolved, %s unresolved: re-exports would not dedupe", e.EventID, alone[0].EventID)
	}
	if want := pipeline.MakeAccountEventID(&alone[0], "15551230001"); e.EventID != want {
		t.Errorf("event id %s, want MakeAccountEventID %s", e.EventID, want)
	}
}

// Limits in every form Meta writes them.
func TestAccountLimits(t *testing.T) {
	tests := []struct {
		value string
		want  int64
	}{
		{`"current_limit":"TIER_250"`, 250},
		{`"current_limit":"TIER_UNLIMITED"`, pipeline.NoLimit},
		{`"max_daily_conversations_per_business":"TIER_100K"`, 100_000},
		{`"max_daily_conversations_per_business":2000`, 2000},
		{`"max_daily_conversations_per_business":-1`, pipeline.NoLimit},
		{`"max_daily_conversations_per_business":"10000"`, 10_000},
		{`"old_limit":"TIER_2K"`, pipeline.NoAccountNumber}, // no current limit: unknown
	}
	for _, tc := range tests {
		line := `{"entry":[{"id":"880","time":1790321400,"changes":[{"field":"phone_number_quality_update","value":{"display_phone_number":"15551230001","event":"UPGRADE",` + tc.value + `}}]}]}`
		events, _, rejects := export(t, ingest.Options{NoHash: true}, input{"webhooks", "a", line})
		if len(rejects) != 0 || len(events) != 1 || events[0].AccountNumber != tc.want {
			t.Errorf("%s: events %+v rejects %+v, want limit %d", tc.value, events, rejects, tc.want)
		}
	}
}

// An account webhook field or value failcast does not understand is named
// and counted, never dropped silently; the rest of the body is kept.
func TestFaultUnknownWebhookField(t *testing.T) {
	data := strings.Join([]string{
		`{"entry":[{"id":"880","time":1790321400,"changes":[{"field":"security","value":{"display_phone_number":"15551230001","event":"PIN_CHANGED"}}]}]}`,
		`{"entry":[{"id":"880","time":1790321400,"changes":[{"field":"security","value":{}},{"field":"message_template_quality_update","value":{"new_quality_score":"GREEN","message_template_name":"t","message_template_language":"en"}}]}]}`,
		`{"entry":[{"id":"880","time":1790321500,"changes":[{"field":"message_template_status_update","value":{"event":"PAUSED","message_template_name":"t","other_info":{"title":"THIRD_PAUSE"}}}]}]}`,
		`{"entry":[{"id":"880","time":1790321600,"changes":[{"field":"message_echoes","value":{}}]}]}`,
	}, "\n")
	x := newExporter(t, ingest.Options{HashKey: []byte(testKey)})
	if err := x.AddWebhooks(t.Context(), "w", strings.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	events, sum := x.Events()
	if sum.Rejects != 0 || len(events) != 2 || sum.EmptyWebhooks != 0 || sum.WebhookLines != 4 {
		t.Fatalf("events %+v summary %+v", events, sum)
	}
	if sum.UnknownFields["security"] != 2 || sum.UnknownFields["message_echoes"] != 1 || len(sum.UnknownFields) != 2 {
		t.Errorf("unknown fields %v", sum.UnknownFields)
	}
	if k := `message_template_status_update PAUSED other_info.title "THIRD_PAUSE"`; sum.UnknownValues[k] != 1 {
		t.Errorf("unknown values %v, want %s", sum.UnknownValues, k)
	}
	if events[1].AccountValue != "PAUSED" || events[1].AccountNumber != pipeline.NoAccountNumber {
		t.Errorf("a pause of unknown number: %+v", events[1])
	}
	warnings := strings.Join(x.Warnings(), "\n")
	for _, w := range []string{`field "security" is not understood: 2 change(s)`, `field "message_echoes"`, `THIRD_PAUSE`} {
		if !strings.Contains(warnings, w) {
			t.Errorf("warnings do not name %s:\n%s", w, warnings)
		}
	}
}

// A malformed account body is a reject naming the field, and the line
// accounting stays exact.
func TestFaultMalformedAccountBody(t *testing.T) {
	tests := []struct {
		name, line, kind, reason string
	}{
		{"no entry time", `{"entry":[{"id":"880","changes":[{"field":"message_template_quality_update","value":{"new_quality_score":"RED","message_template_name":"t"}}]}]}`,
			ingest.KindMissingField, "message_template_quality_update: entry: no time"},
		{"no template name", `{"entry":[{"id":"880","time":1790321400,"changes":[{"field":"message_template_status_update","value":{"event":"PAUSED"}}]}]}`,
			ingest.KindMissingField, "no message_template_name"},
		{"no event", `{"entry":[{"id":"880","time":1790321400,"changes":[{"field":"message_template_status_update","value":{"message_template_name":"t"}}]}]}`,
			ingest.KindMissingField, "no event"},
		{"value not an object", `{"entry":[{"id":"880","time":1790321400,"changes":[{"field":"account_alerts","value":[1]}]}]}`,
			ingest.KindWrongType, "account_alerts: value is an array"},
		{"bad disable date", `{"entry":[{"id":"880","time":1790321400,"changes":[{"field":"message_template_status_update","value":{"event":"FLAGGED","message_template_name":"t","disable_info":{"disable_date":"next week"}}}]}]}`,
			ingest.KindBadTimestamp, "disable_info.disable_date"},
		{"restriction without info", `{"entry":[{"id":"880","time":1790321400,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_RESTRICTION"}}]}]}`,
			ingest.KindMissingField, "restriction_info"},
		{"restriction expiry not a time", `{"entry":[{"id":"880","time":1790321400,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":"RESTRICTED_BIZ_INITIATED_MESSAGING","expiration":true}]}}]}]}`,
			ingest.KindWrongType, "restriction_info[0].expiration"},
		{"limit not a number", `{"entry":[{"id":"880","time":1790321400,"changes":[{"field":"business_capability_update","value":{"max_daily_conversations_per_business":{"a":1}}}]}]}`,
			ingest.KindWrongType, "max_daily_conversations_per_business is an object"},
		{"preference without wa_id", `{"entry":[{"id":"880","time":1790321400,"changes":[{"field":"user_preferences","value":{"user_preferences":[{"value":"stop","timestamp":1790013731}]}}]}]}`,
			ingest.KindMissingField, "user_preferences[0]: no wa_id"},
		{"preference wa_id not a number", `{"entry":[{"id":"880","time":1790321400,"changes":[{"field":"user_preferences","value":{"user_preferences":[{"wa_id":"ana","value":"stop","timestamp":1790013731}]}}]}]}`,
			ingest.KindBadValue, "wa_id \"ana\" is not a phone number"},
		{"alert without alert_info", `{"entry":[{"id":"880","time":1790321400,"changes":[{"field":"account_alerts","value":{"entity_type":"WABA"}}]}]}`,
			ingest.KindMissingField, "no alert_info"},
		{"phone quality without number", `{"entry":[{"id":"880","time":1790321400,"changes":[{"field":"phone_number_quality_update","value":{"event":"FLAGGED"}}]}]}`,
			ingest.KindMissingField, "no display_phone_number"},
	}
	var all []string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events, sum, rejects := export(t, ingest.Options{HashKey: []byte(testKey)}, input{"webhooks", "w", tc.line})
			if len(events) != 0 || len(rejects) != 1 || sum.RejectedLines != 1 {
				t.Fatalf("events %+v rejects %+v", events, rejects)
			}
			r := rejects[0]
			if r.Kind != tc.kind || !strings.Contains(r.Reason, tc.reason) || r.Line != 1 || r.Raw != tc.line {
				t.Errorf("reject %+v, want kind %q reason containing %q", r, tc.kind, tc.reason)
			}
		})
		all = append(all, tc.line)
	}
	// Together with good lines, the accounting is exact.
	good := string(readTestdata(t, "webhook-account-events.ndjson"))
	_, sum, rejects := export(t, ingest.Options{HashKey: []byte(testKey)}, input{"webhooks", "w", good + strings.Join(all, "\n")})
	goodLines := int64(strings.Count(good, "\n"))
	if sum.WebhookLines != goodLines+int64(len(tests)) || sum.RejectedLines != int64(len(tests)) || len(rejects) != len(tests) || sum.AccountEventCount() != goodLines {
		t.Errorf("accounting: %d lines, %d rejected, %d account events; summary %+v", sum.WebhookLines, sum.RejectedLines, sum.AccountEventCount(), sum)
	}
}

// A send log's own country column is a cross-check: the number's country
// wins, a disagreement is counted and warned about, and the column fills in
// where the number cannot tell.
func TestSendLogCountry(t *testing.T) {
	line := func(id, to, country string) string {
		return fmt.Sprintf(`{"request_id":%q,"sent_at":1790000000,"country":%q,"request":{"to":%q,"type":"text"},"response":{"messages":[{"id":"wamid.%s"}]}}`, id, country, to, id)
	}
	data := strings.Join([]string{
		line("a", "14165550123", "CA"), // agrees
		line("b", "14165550124", "US"), // Toronto: the number wins
		line("c", "15551230001", "CA"), // area code 555: no country from the number, the log's is used
		line("d", "5511987654321", "Brazil"),
	}, "\n")
	x := newExporter(t, ingest.Options{HashKey: []byte(testKey)})
	if err := x.AddSendLogNDJSON(t.Context(), "log.ndjson", strings.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	events, sum := x.Events()
	got := map[string]string{}
	for _, e := range events {
		got[e.MessageID] = e.Country
	}
	want := map[string]string{"wamid.a": "CA", "wamid.b": "CA", "wamid.c": "CA", "wamid.d": "BR"}
	for id, c := range want {
		if got[id] != c {
			t.Errorf("%s: country %q, want %q", id, got[id], c)
		}
	}
	if sum.CountryConflicts != 1 || sum.CountryUnknown != 1 || len(sum.UnknownValues) != 1 {
		t.Errorf("summary %+v", sum)
	}
	if w := strings.Join(x.Warnings(), "\n"); !strings.Contains(w, "log.ndjson line 2: country US, the number is in CA") {
		t.Errorf("warnings %s", w)
	}
}
