package ingest_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/pipeline/ingest"
)

// oneLine makes a fuzz input a single line.
func oneLine(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\n"), []byte(" "))
	return bytes.ReplaceAll(b, []byte("\r"), []byte(" "))
}

// opensJSONArray reports whether line, as an input's first line, opens a
// JSON array it does not close ("[", "[{...},"): the input is then
// refused whole as pretty-printed JSON, not read line by line.
func opensJSONArray(line []byte) bool {
	t := bytes.Trim(line, " \t")
	return len(t) > 0 && t[0] == '[' && (len(t) == 1 || t[len(t)-1] != ']')
}

func seedLines(f *testing.F, files ...string) {
	for _, name := range files {
		for line := range strings.SplitSeq(string(readTestdata(f, name)), "\n") {
			f.Add([]byte(line))
		}
	}
}

// A webhook line is either rejected whole (no events) or yields one
// well-formed event per status and inbound message.
func FuzzParseWebhookLine(f *testing.F) {
	seedLines(f, "webhook-statuses.ndjson", "webhook-account-events.ndjson")
	for _, s := range []string{
		"null", "[]", "{}", `{"entry":[]}`, `{"entry":[{"changes":[{"value":{}}]}]}`,
		status(goodStatus), status(goodStatus + `},{` + goodStatus),
		status(`"id":"wamid.G","status":"failed","timestamp":1790000010,"recipient_id":5511,"errors":[{"code":"131026"}]`),
		status(`"id":"wamid.G","status":"sent","timestamp":"1790000010.5","recipient_id":"h:00ff","biz_opaque_callback_data":"campaign=x"`),
		`{"entry":[{"id":880,"changes":[{"field":"messages","value":{"messages":[{"from":"5511","id":"wamid.I","timestamp":"1790000010","type":"image"}]}}]}]}`,
		"[", "[{},",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		line = oneLine(line)
		x := newExporter(t, ingest.Options{})
		if err := x.AddWebhooks(context.Background(), "fuzz", bytes.NewReader(line)); err != nil {
			if opensJSONArray(line) && strings.Contains(err.Error(), "JSON array") {
				return
			}
			t.Fatal(err)
		}
		events, sum := x.Events()
		checkWellFormed(t, events, true)
		rejects := x.Rejects()
		switch {
		case len(rejects) > 1:
			t.Fatalf("%d rejects from one line", len(rejects))
		case len(rejects) == 1:
			if len(events) != 0 || sum.Statuses+sum.Inbound+sum.AccountEventCount() != 0 {
				t.Errorf("rejected line still produced %d events", len(events))
			}
			if r := rejects[0]; r.Line != 1 || r.Raw != string(line) || r.Kind == "" || r.Reason == "" {
				t.Errorf("reject %+v", r)
			}
		default:
			if int64(len(events))+sum.Duplicates != sum.Statuses+sum.Inbound+sum.AccountEventCount() {
				t.Errorf("%d events + %d duplicates from %d statuses, %d inbound messages and %d account events", len(events), sum.Duplicates, sum.Statuses, sum.Inbound, sum.AccountEventCount())
			}
		}
		for _, e := range events {
			if e.Status == pipeline.StatusAccepted {
				t.Errorf("webhook produced an accepted event: %+v", e)
			}
		}
	})
}

// A send-log line is either rejected or yields exactly one accepted or
// failed event.
func FuzzParseSendLogLine(f *testing.F) {
	seedLines(f, "send-log.ndjson")
	for _, s := range []string{
		"null", "{}", "1", "[", "[{},", sendLine(goodAnswer),
		sendLine(`"response":{"error":{"code":"131048","message":"(#131048) Spam rate limit hit"}}`),
		sendLine(`"media_bytes":"1024","exploration":"true",` + goodAnswer),
		`{"request_id":7,"sent_at":1790000000123,"request":{"to":5511987654321},"response":{"messages":[{"id":"wamid.N"}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		line = oneLine(line)
		x := newExporter(t, ingest.Options{})
		if err := x.AddSendLogNDJSON(context.Background(), "fuzz", bytes.NewReader(line)); err != nil {
			if opensJSONArray(line) && strings.Contains(err.Error(), "JSON array") {
				return
			}
			t.Fatal(err)
		}
		events, sum := x.Events()
		checkWellFormed(t, events, true)
		checkOneSend(t, events, sum, x.Rejects())
	})
}

// A CSV send-log record is either rejected or yields exactly one event.
func FuzzParseSendLogCSV(f *testing.F) {
	for _, s := range []string{
		"r1,1790000000,5511987654321,wamid.A,,template,t1,,",
		"r2,2026-10-01T10:00:00Z,5511987654321,,131026,text,,5,yes",
		`r3,"1790000000","55 11",,"190",image,,"-1",`,
		`r4,"bad"quote,55,,,,,,`,
		"r5,1790000000",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, record []byte) {
		record = oneLine(record)
		data := "request_id,sent_at,recipient,message_id,error_code,message_type,template,media_bytes,exploration\n" + string(record) + "\n"
		x := newExporter(t, ingest.Options{})
		if err := x.AddSendLogCSV(context.Background(), "fuzz.csv", strings.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		events, sum := x.Events()
		checkWellFormed(t, events, true)
		checkOneSend(t, events, sum, x.Rejects())
	})
}

func checkOneSend(t *testing.T, events []pipeline.Event, sum ingest.Summary, rejects []ingest.Reject) {
	t.Helper()
	switch {
	case sum.SendLogLines == 0:
		if len(events)+len(rejects) != 0 {
			t.Errorf("blank input gave %d events, %d rejects", len(events), len(rejects))
		}
	case len(rejects) == 1:
		if len(events) != 0 {
			t.Errorf("rejected line still produced %d events", len(events))
		}
	case len(rejects) == 0:
		if len(events) != 1 {
			t.Fatalf("accepted line produced %d events", len(events))
		}
		e := events[0]
		if e.Status != pipeline.StatusAccepted && e.Status != pipeline.StatusFailed {
			t.Errorf("send-log event with status %s", e.Status)
		}
		if e.MessageType == "" || e.Status == pipeline.StatusFailed && e.ErrorCode < 0 {
			t.Errorf("incomplete send-log event %+v", e)
		}
	default:
		t.Errorf("%d rejects from one line", len(rejects))
	}
}
