package simulate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// The raw forms as docs/simulator.md describes them.
type rawSendLog struct {
	RequestID     string `json:"request_id"`
	SentAt        string `json:"sent_at"`
	WABAID        string `json:"waba_id"`
	PhoneNumberID string `json:"phone_number_id"`
	CampaignID    string `json:"campaign_id"`
	Category      string `json:"category"`
	Exploration   bool   `json:"exploration"`
	Request       struct {
		MessagingProduct string `json:"messaging_product"`
		To               string `json:"to"`
		Type             string `json:"type"`
		Template         *struct {
			Name     string `json:"name"`
			Language struct {
				Code string `json:"code"`
			} `json:"language"`
		} `json:"template"`
	} `json:"request"`
	MediaBytes *int64 `json:"media_bytes"`
	Response   struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
		Error *struct {
			Code      int32  `json:"code"`
			Message   string `json:"message"`
			ErrorData struct {
				Details string `json:"details"`
			} `json:"error_data"`
		} `json:"error"`
	} `json:"response"`
}

type rawWebhook struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				Metadata struct {
					PhoneNumberID string `json:"phone_number_id"`
				} `json:"metadata"`
				Statuses []struct {
					ID          string `json:"id"`
					Status      string `json:"status"`
					Timestamp   string `json:"timestamp"`
					RecipientID string `json:"recipient_id"`
					Callback    string `json:"biz_opaque_callback_data"`
					Errors      []struct {
						Code      int32  `json:"code"`
						Title     string `json:"title"`
						ErrorData struct {
							Details string `json:"details"`
						} `json:"error_data"`
					} `json:"errors"`
				} `json:"statuses"`
				Messages []struct {
					From      string `json:"from"`
					ID        string `json:"id"`
					Timestamp string `json:"timestamp"`
					Type      string `json:"type"`
				} `json:"messages"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// decodeRaw rebuilds history rows from the raw forms, following the
// mapping of docs/simulator.md.
func decodeRaw(t *testing.T, sendLog, webhooks []byte, hashKey string, cfgDisplay map[string]string) []pipeline.Event {
	t.Helper()
	hasher := pipeline.NewRecipientHasher([]byte(hashKey))
	var events []pipeline.Event
	sends := map[string]pipeline.Event{}
	sc := bufio.NewScanner(bytes.NewReader(sendLog))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var r rawSendLog
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("send log line %d: %v", line, err)
		}
		at, err := time.Parse(time.RFC3339, r.SentAt)
		if err != nil || !strings.HasSuffix(r.SentAt, "Z") || len(r.SentAt) != len("2006-01-02T15:04:05.000Z") {
			t.Fatalf("send log line %d: sent_at %q is not RFC 3339 UTC with milliseconds", line, r.SentAt)
		}
		if r.Request.MessagingProduct != "whatsapp" {
			t.Fatalf("send log line %d: messaging_product %q", line, r.Request.MessagingProduct)
		}
		ev := pipeline.Event{
			Timestamp: at.UnixMicro(), WABAID: r.WABAID, PhoneNumberID: r.PhoneNumberID,
			Recipient: hasher.Hash(r.Request.To), Country: pipeline.CountryOf(r.Request.To),
			CampaignID: r.CampaignID, Category: r.Category, MessageType: r.Request.Type,
			MediaBytes: pipeline.NoMediaBytes, ErrorCode: pipeline.NoErrorCode, Exploration: r.Exploration,
		}
		if r.Request.Template != nil {
			ev.Template, ev.Language = r.Request.Template.Name, r.Request.Template.Language.Code
		}
		if r.MediaBytes != nil {
			ev.MediaBytes = *r.MediaBytes
		}
		switch {
		case r.Response.Error != nil:
			ev.MessageID, ev.Status = r.RequestID, pipeline.StatusFailed
			ev.ErrorCode = r.Response.Error.Code
			info, _ := pipeline.LookupCode(ev.ErrorCode)
			ev.ErrorTitle, ev.ErrorDetails = info.Title, r.Response.Error.ErrorData.Details
		case len(r.Response.Messages) == 1:
			ev.MessageID, ev.Status = r.Response.Messages[0].ID, pipeline.StatusAccepted
			sends[ev.MessageID] = ev
		default:
			t.Fatalf("send log line %d: neither messages nor error in the response", line)
		}
		ev.EventID = pipeline.MakeEventID(ev.MessageID, ev.Status, ev.Timestamp)
		events = append(events, ev)
	}
	sc = bufio.NewScanner(bytes.NewReader(webhooks))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var r rawWebhook
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("webhook line %d: %v", line, err)
		}
		if r.Object != "whatsapp_business_account" || len(r.Entry) != 1 || len(r.Entry[0].Changes) != 1 {
			t.Fatalf("webhook line %d: not a one-entry WhatsApp webhook", line)
		}
		entry := r.Entry[0]
		if entry.Changes[0].Field != "messages" {
			events = append(events, decodeAccount(t, line, sc.Bytes(), hasher, cfgDisplay))
			continue
		}
		v := entry.Changes[0].Value
		for _, st := range v.Statuses {
			status, err := pipeline.ParseStatus(st.Status)
			if err != nil {
				t.Fatalf("webhook line %d: %v", line, err)
			}
			sec, err := strconv.ParseInt(st.Timestamp, 10, 64)
			if err != nil {
				t.Fatalf("webhook line %d: timestamp %q", line, st.Timestamp)
			}
			send, ok := sends[st.ID]
			if !ok {
				t.Fatalf("webhook line %d: status of %s has no send in the send log", line, st.ID)
			}
			if st.Callback != "" && st.Callback != "campaign="+send.CampaignID {
				t.Fatalf("webhook line %d: callback data %q for a send of campaign %q", line, st.Callback, send.CampaignID)
			}
			ev := send
			ev.Status, ev.Timestamp = status, sec*usSecond
			ev.WABAID, ev.PhoneNumberID = entry.ID, v.Metadata.PhoneNumberID
			ev.Recipient, ev.Country = hasher.Hash(st.RecipientID), pipeline.CountryOf(st.RecipientID)
			if len(st.Errors) > 0 {
				ev.ErrorCode, ev.ErrorTitle, ev.ErrorDetails = st.Errors[0].Code, st.Errors[0].Title, st.Errors[0].ErrorData.Details
			}
			ev.EventID = pipeline.MakeEventID(ev.MessageID, ev.Status, ev.Timestamp)
			events = append(events, ev)
		}
		for _, m := range v.Messages {
			sec, err := strconv.ParseInt(m.Timestamp, 10, 64)
			if err != nil || m.Type != "text" {
				t.Fatalf("webhook line %d: inbound message timestamp %q type %q", line, m.Timestamp, m.Type)
			}
			ev := pipeline.Event{
				MessageID: m.ID, Timestamp: sec * usSecond, WABAID: entry.ID, PhoneNumberID: v.Metadata.PhoneNumberID,
				Recipient: hasher.Hash(m.From), Country: pipeline.CountryOf(m.From), Category: pipeline.CategoryService,
				MessageType: "text", MediaBytes: pipeline.NoMediaBytes, Status: pipeline.StatusInbound, ErrorCode: pipeline.NoErrorCode,
			}
			ev.EventID = pipeline.MakeEventID(ev.MessageID, ev.Status, ev.Timestamp)
			events = append(events, ev)
		}
	}
	slices.SortFunc(events, compareEvents)
	return events
}

func TestRawRoundTrip(t *testing.T) {
	cfg := smallConfig()
	cfg.Days = 3
	var want []pipeline.Event
	var sendLog, webhooks bytes.Buffer
	rw, err := NewRawWriter(cfg, &sendLog, &webhooks)
	if err != nil {
		t.Fatal(err)
	}
	collect := SinkFunc(func(b []pipeline.Event) error {
		want = append(want, b...)
		return rw.History(b)
	})
	if _, err := Run(context.Background(), cfg, collect); err != nil {
		t.Fatal(err)
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	got := decodeRaw(t, sendLog.Bytes(), webhooks.Bytes(), cfg.HashKey, displayNumbers(t, cfg))
	accounts := 0
	for _, ev := range want {
		if ev.Status.IsAccountEvent() {
			accounts++
		}
	}
	if accounts == 0 {
		t.Error("the history has no account events to round-trip")
	}
	if len(got) != len(want) {
		t.Fatalf("raw forms give %d rows, history has %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d differs:\nraw     %+v\nhistory %+v", i, got[i], want[i])
		}
	}
	// Webhook lines batch statuses and arrive a little out of order.
	batched, outOfOrder := 0, 0
	prev := int64(0)
	sc := bufio.NewScanner(&webhooks)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r rawWebhook
		json.Unmarshal(sc.Bytes(), &r)
		v := r.Entry[0].Changes[0].Value
		if len(v.Statuses) > 1 {
			batched++
		}
		if len(v.Statuses) > 0 {
			sec, _ := strconv.ParseInt(v.Statuses[0].Timestamp, 10, 64)
			if sec < prev {
				outOfOrder++
			}
			prev = sec
		}
	}
	if batched == 0 || outOfOrder == 0 {
		t.Errorf("%d batched webhook lines, %d out of order; want some of each", batched, outOfOrder)
	}
}

func TestRawWriterRejectsForeignHistory(t *testing.T) {
	var a, b bytes.Buffer
	rw, err := NewRawWriter(smallConfig(), &a, &b)
	if err != nil {
		t.Fatal(err)
	}
	err = rw.History([]pipeline.Event{{EventID: "x", Recipient: "h:0123456789abcdef", Status: pipeline.StatusSent}})
	if err == nil {
		t.Error("a recipient of another world was accepted")
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\x01", "João 👍", "bad \xff utf8"}
	for _, s := range tests {
		b := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Errorf("%q encodes to invalid JSON %s: %v", s, b, err)
			continue
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); back != want {
			t.Errorf("%q round-trips to %q", s, back)
		}
	}
}

// displayNumbers maps the world's display numbers to phone number ids, as
// a sender's own configuration does.
func displayNumbers(t *testing.T, cfg Config) map[string]string {
	e, err := newEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, n := range e.numbers {
		m[n.display] = n.id
	}
	return m
}

// rawAccount is the value of an account-level webhook, the fields of
// every kind the simulator writes (docs/simulator.md).
type rawAccount struct {
	Entry []struct {
		ID      string `json:"id"`
		Time    int64  `json:"time"`
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				Event        string                              `json:"event"`
				TemplateName string                              `json:"message_template_name"`
				TemplateLang string                              `json:"message_template_language"`
				TemplateCat  string                              `json:"message_template_category"`
				NewQuality   string                              `json:"new_quality_score"`
				PrevQuality  string                              `json:"previous_quality_score"`
				OtherInfo    struct{ Title, Description string } `json:"other_info"`
				DisableInfo  struct {
					DisableDate int64 `json:"disable_date"`
				} `json:"disable_info"`
				Display       string `json:"display_phone_number"`
				PhoneNumber   string `json:"phone_number"`
				CurrentLimit  string `json:"current_limit"`
				ViolationInfo struct {
					ViolationType string `json:"violation_type"`
				} `json:"violation_info"`
				Restriction []struct {
					Type       string `json:"restriction_type"`
					Expiration int64  `json:"expiration"`
				} `json:"restriction_info"`
				Metadata struct {
					PhoneNumberID string `json:"phone_number_id"`
				} `json:"metadata"`
				Preferences []struct {
					WaID      string `json:"wa_id"`
					Category  string `json:"category"`
					Value     string `json:"value"`
					Timestamp int64  `json:"timestamp"`
				} `json:"user_preferences"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// decodeAccount rebuilds the history row of an account-level webhook.
func decodeAccount(t *testing.T, line int, body []byte, hasher *pipeline.RecipientHasher, display map[string]string) pipeline.Event {
	t.Helper()
	var r rawAccount
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("webhook line %d: %v", line, err)
	}
	entry := r.Entry[0]
	ch := entry.Changes[0]
	v := ch.Value
	ev := pipeline.Event{Timestamp: entry.Time * usSecond, WABAID: entry.ID, AccountNumber: pipeline.NoAccountNumber,
		ErrorCode: pipeline.NoErrorCode, MediaBytes: pipeline.NoMediaBytes}
	limits := map[string]int64{"TIER_250": 250, "TIER_2K": 2000, "TIER_10K": 10000, "TIER_100K": 100000, "TIER_UNLIMITED": pipeline.NoLimit}
	switch ch.Field {
	case "message_template_quality_update":
		ev.Status, ev.AccountValue = pipeline.StatusTemplateQuality, v.NewQuality
		ev.Template, ev.Language = v.TemplateName, v.TemplateLang
		// The simulator's templates keep their category (the history
		// row carries it); the quality body does not.
	case "message_template_status_update":
		ev.Status, ev.AccountValue = pipeline.StatusTemplateStatus, v.Event
		ev.Template, ev.Language, ev.Category = v.TemplateName, v.TemplateLang, strings.ToLower(v.TemplateCat)
		ev.ErrorDetails = v.OtherInfo.Description
		switch v.OtherInfo.Title {
		case "FIRST_PAUSE":
			ev.AccountNumber = 1
		case "SECOND_PAUSE":
			ev.AccountNumber = 2
		}
		if v.DisableInfo.DisableDate != 0 {
			ev.AccountUntil = v.DisableInfo.DisableDate * usSecond
		}
	case "phone_number_quality_update":
		ev.Status, ev.AccountValue, ev.PhoneNumberID = pipeline.StatusPhoneQuality, v.Event, display[v.Display]
		l, ok := limits[v.CurrentLimit]
		if !ok {
			t.Fatalf("webhook line %d: limit %q", line, v.CurrentLimit)
		}
		ev.AccountNumber = l
	case "account_update":
		ev.Status, ev.PhoneNumberID = pipeline.StatusAccountUpdate, display[v.PhoneNumber]
		switch v.Event {
		case "ACCOUNT_VIOLATION":
			ev.AccountValue = v.Event + ":" + v.ViolationInfo.ViolationType
		case "ACCOUNT_RESTRICTION":
			ev.AccountValue = v.Event + ":" + v.Restriction[0].Type
			ev.AccountUntil = v.Restriction[0].Expiration * usSecond
		}
	case "user_preferences":
		p := v.Preferences[0]
		ev.Status, ev.AccountValue, ev.PhoneNumberID = pipeline.StatusUserPreference, p.Value, v.Metadata.PhoneNumberID
		ev.Recipient, ev.Country = hasher.Hash(p.WaID), pipeline.CountryOf(p.WaID)
		ev.Timestamp = p.Timestamp * usSecond
		if p.Category == "marketing_messages" {
			ev.Category = pipeline.CategoryMarketing
		}
	default:
		t.Fatalf("webhook line %d: field %q", line, ch.Field)
	}
	// The body names the number by its display number.
	ev.EventID = pipeline.MakeAccountEventID(&ev, v.Display+v.PhoneNumber)
	return ev
}
