package ingest

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// parsedWebhook is what parsing one webhook line leaves in an Exporter.
type parsedWebhook struct {
	pending []pendingEvent
	display [][2][]byte
	skipped int64
	fields  []string
	values  []string
}

func newFastTestExporter(t testing.TB) *Exporter {
	t.Helper()
	x, err := New(Options{HashKey: []byte("fast-path-test-key")})
	if err != nil {
		t.Fatal(err)
	}
	return x.worker()
}

// parseBoth parses line with the fast path and with the general one (on
// fresh state each), and reports whether the fast path took it.
func parseBoth(x *Exporter, line []byte) (fast, general parsedWebhook, took bool, le *lineError) {
	reset := func() {
		x.pending, x.skipped = nil, 0
		x.pendingFields, x.pendingValues, x.pendingDisplay = nil, nil, nil
	}
	grab := func() parsedWebhook {
		return parsedWebhook{pending: x.pending, display: x.pendingDisplay, skipped: x.skipped, fields: x.pendingFields, values: x.pendingValues}
	}
	reset()
	if utf8.Valid(line) && rawControlInString(line) == nil {
		took = x.fastWebhookLine(line)
	}
	fast = grab()
	reset()
	le = x.parseWebhookGeneral(line)
	general = grab()
	return fast, general, took, le
}

// sameParse compares two parses (a nil and an empty value are the same:
// commit treats them alike).
func sameParse(a, b parsedWebhook) error {
	if a.skipped != b.skipped {
		return fmt.Errorf("skipped %d, general %d", a.skipped, b.skipped)
	}
	if len(a.fields)+len(a.values)+len(b.fields)+len(b.values) != 0 {
		return fmt.Errorf("fields %q values %q, general %q %q", a.fields, a.values, b.fields, b.values)
	}
	if len(a.display) != len(b.display) {
		return fmt.Errorf("%d display numbers, general %d", len(a.display), len(b.display))
	}
	for i := range a.display {
		if !bytes.Equal(a.display[i][0], b.display[i][0]) || !bytes.Equal(a.display[i][1], b.display[i][1]) {
			return fmt.Errorf("display %d: %q, general %q", i, a.display[i], b.display[i])
		}
	}
	if len(a.pending) != len(b.pending) {
		return fmt.Errorf("%d events, general %d", len(a.pending), len(b.pending))
	}
	for i := range a.pending {
		p, q := &a.pending[i], &b.pending[i]
		ps := [][]byte{p.msgID, p.recip, p.waba, p.phone, p.camp, p.title, p.detail}
		qs := [][]byte{q.msgID, q.recip, q.waba, q.phone, q.camp, q.title, q.detail}
		for j := range ps {
			if !bytes.Equal(ps[j], qs[j]) {
				return fmt.Errorf("event %d: byte field %d %q, general %q", i, j, ps[j], qs[j])
			}
		}
		pc, qc := *p, *q
		for _, e := range []*pendingEvent{&pc, &qc} {
			e.msgID, e.recip, e.waba, e.phone, e.camp, e.title, e.detail = nil, nil, nil, nil, nil, nil, nil
		}
		if fmt.Sprintf("%+v", pc) != fmt.Sprintf("%+v", qc) {
			return fmt.Errorf("event %d: %+v, general %+v", i, pc, qc)
		}
	}
	return nil
}

const fastEnvelope = `{"object":"whatsapp_business_account","entry":[{"id":"880011223344556","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15551230001","phone_number_id":"301122334455667"},"statuses":[`

func fastStatusLine(statuses string) string { return fastEnvelope + statuses + "]}}]}]}" }

const (
	fastSent      = `{"id":"wamid.HBgLA1","status":"sent","timestamp":"1790000000","recipient_id":"5511987654321","conversation":{"id":"c0ffee","expiration_timestamp":"1790086400","origin":{"type":"marketing"}},"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"},"biz_opaque_callback_data":"campaign=black-friday-2026"}`
	fastDelivered = `{"id":"wamid.HBgLA1","status":"delivered","timestamp":"1790000004","recipient_id":"5511987654321","pricing":{"billable":true,"category":"utility"}}`
	fastFailed    = `{"id":"wamid.HBgLA2","status":"failed","timestamp":"1790000003","recipient_id":"5511987654321","errors":[{"code":131049,"title":"This message was not delivered to maintain healthy ecosystem engagement.","message":"m","error_data":{"details":"In order to maintain a healthy ecosystem engagement, the message failed to be delivered."},"href":"https://developers.facebook.com/"}]}`
)

// The fast path takes the usual messages webhooks (and gives what the
// general parser gives), and leaves every other line to the general
// parser.
func TestFastWebhookLine(t *testing.T) {
	t.Parallel()
	take := []string{
		fastStatusLine(fastSent),
		fastStatusLine(fastDelivered + "," + fastFailed),
		fastStatusLine(` ` + fastSent + ` , ` + fastDelivered + "\t"),
		// keys in another order: statuses before metadata, changes before the entry id, messages before statuses
		`{"entry":[{"changes":[{"value":{"statuses":[` + fastSent + `],"metadata":{"phone_number_id":"301","display_phone_number":"1555"}},"field":"messages"}],"id":"880"}]}`,
		`{"entry":[{"id":"880","changes":[{"value":{"messages":[{"from":"5511987654321","id":"wamid.I","timestamp":"1790000010","type":"button"}],"statuses":[` + fastDelivered + `],"metadata":{"phone_number_id":"301"}}}]}]}`,
		// numbers for ids, code and time; nulls; repeated keys (the first counts)
		`{"entry":[{"id":880,"id":"881","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":301,"display_phone_number":null},"statuses":[{"id":"wamid.G","status":"failed","status":"read","timestamp":1790000010,"recipient_id":5511987654321,"biz_opaque_callback_data":null,"errors":[{"code":"131026","title":null,"message":"undeliverable"},7]}]}}]}]}`,
		`{"entry":[{"id":"880","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"301"},"statuses":[{"id":"wamid.G","status":"failed","timestamp":"1790000010.5","recipient_id":"h:00ff","errors":[{"code":131026}]}]}}]}]}`,
		// a failed status whose first error has no title or message: the code's title
		`{"entry":[{"id":"880","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"301"},"statuses":[{"id":"wamid.G","status":"failed","timestamp":"1790000010","recipient_id":"5511","errors":[{"code":131047,"error_data":{"details":"d"}}]}]}}]}]}`,
		// a sent status with errors that are no good: read, not used
		`{"entry":[{"id":"880","changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.G","status":"sent","timestamp":"1790000010","recipient_id":"5511","errors":"none"}]}}]}]}`,
		// nothing about a message (skipped), no events, several entries and changes
		`{"entry":[{"id":"880","changes":[{"field":"messages","value":{"errors":[{"code":1}]}}]}]}`,
		`{"entry":[]}`, `{"entry":[{"id":"1","changes":[]}]}`,
		`{"entry":[{"id":"1","changes":[{"value":{"statuses":[]}},{"value":{"statuses":[` + fastSent + `]}}]},{"id":"2","changes":[{"value":{"statuses":[` + fastFailed + `]}}]}]}`,
		`{"entry":[{"id":"880","changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.G","status":"read","timestamp":"1790000010","recipient_id":"5511","x":[1,-2.5e+3,0,true,false,null,{"a":[[]]},{}]}]}}]}]}`,
	}
	for _, line := range strings.Split(strings.TrimSpace(string(mustRead(t, "testdata/webhook-statuses.ndjson"))), "\n") {
		take = append(take, line)
	}
	leave := []string{
		`null`, `[]`, `{}`, `{"entry":null}`, `{"entry":{}}`, `{"entry":[1]}`, `{"entry":[{"id":"1"}]}`,
		fastStatusLine(fastSent) + `x`, fastStatusLine(fastSent + ","), fastStatusLine(fastSent)[:200],
		strings.Replace(fastStatusLine(fastSent), `black-friday`, `black\"friday`, 1), // an escape
		strings.Replace(fastStatusLine(fastSent), `"sent"`, `"deleted"`, 1),           // an unknown status
		strings.Replace(fastStatusLine(fastSent), `"1790000000"`, `"yesterday"`, 1),   // a bad time
		strings.Replace(fastStatusLine(fastSent), `"5511987654321"`, `"call me"`, 1),  // a bad number
		strings.Replace(fastStatusLine(fastSent), `"1790000000"`, `1-2`, 1),           // a number fastjson reads, JSON does not
		strings.Replace(fastStatusLine(fastSent), `"1790000000"`, `01`, 1),
		strings.Replace(fastStatusLine(fastSent), `"wamid.HBgLA1"`, `""`, 1), // an empty id
		strings.Replace(fastStatusLine(fastSent), `"messages"`, `"message_template_status_update"`, 1),
		strings.Replace(fastStatusLine(fastSent), `"messages"`, `"smb_app_state_sync"`, 1),
		strings.Replace(fastStatusLine(fastSent), `"category":"marketing"}`, `"category":7}`, 1), // pricing.category not a string
		strings.Replace(fastStatusLine(fastSent), `true`, `tru`, 1),
		fastStatusLine(`{"id":"wamid.G","status":"failed","timestamp":"1790000010","recipient_id":"5511"}`),
		fastStatusLine(`{"id":"wamid.G","status":"failed","timestamp":"1790000010","recipient_id":"5511","errors":[]}`),
		fastStatusLine(`{"id":"wamid.G","status":"failed","timestamp":"1790000010","recipient_id":"5511","errors":[{"code":-1}]}`),
		fastStatusLine(`{"id":"wamid.G","status":"read","timestamp":"1790000010","recipient_id":null}`),
		fastStatusLine(`{"id":"wamid.G","status":"read","timestamp":"1790000010"}`),
		fastStatusLine(strings.Repeat("[", 100) + strings.Repeat("]", 100)),
	}
	for _, line := range strings.Split(strings.TrimSpace(string(mustRead(t, "testdata/webhook-account-events.ndjson"))), "\n") {
		leave = append(leave, line)
	}
	x := newFastTestExporter(t)
	for i, line := range take {
		fast, general, took, le := parseBoth(x, []byte(line))
		if !took {
			t.Errorf("take %d: the fast path left %s", i, line)
			continue
		}
		if le != nil {
			t.Errorf("take %d: the fast path took a line the general parser rejects (%s): %s", i, le.reason, line)
			continue
		}
		if err := sameParse(fast, general); err != nil {
			t.Errorf("take %d: %v: %s", i, err, line)
		}
	}
	for i, line := range leave {
		if _, _, took, _ := parseBoth(x, []byte(line)); took {
			t.Errorf("leave %d: the fast path took %s", i, line)
		}
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Whatever line the fast path takes, the general parser accepts and
// reads the same way.
func FuzzFastWebhookLine(f *testing.F) {
	for _, name := range []string{"testdata/webhook-statuses.ndjson", "testdata/webhook-account-events.ndjson"} {
		for line := range strings.SplitSeq(string(mustRead(f, name)), "\n") {
			f.Add([]byte(line))
		}
	}
	for _, s := range []string{
		fastStatusLine(fastSent + "," + fastDelivered + "," + fastFailed),
		`{"entry":[{"id":880,"changes":[{"value":{"messages":[{"from":"5511","id":"wamid.I","timestamp":1790000010,"type":"image"}],"metadata":{"phone_number_id":301}}}]}]}`,
		`{"entry":[{"changes":[{"value":{"statuses":[{"id":"w","status":"failed","timestamp":"1","recipient_id":"5511","errors":[{"code":"1","message":"m"}]}]},"field":"messages"}],"id":"9"}]}`,
	} {
		f.Add([]byte(s))
	}
	x := newFastTestExporter(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		line = bytes.ReplaceAll(line, []byte("\n"), []byte(" "))
		fast, general, took, le := parseBoth(x, line)
		if !took {
			return
		}
		if le != nil {
			t.Fatalf("the fast path took a line the general parser rejects (%s): %q", le.reason, line)
		}
		if err := sameParse(fast, general); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
	})
}
