package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/pipeline/ingest"
)

// csvLog builds a CSV send log of n good records with a header.
func csvLog(n int, header string, row func(i int) string) string {
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := range n {
		b.WriteString(row(i) + "\n")
	}
	return b.String()
}

// Issue 12 item 3: an unclosed quote used to swallow the rest of the file
// as one reject counted as one line (998 sends lost). Now only its line is
// rejected and reading resumes at the next line.
func TestFaultCSVUnclosedQuoteRecovers(t *testing.T) {
	data := csvLog(999, "request_id,sent_at,recipient,message_id", func(i int) string {
		if i == 1 {
			return `r1,1790000001,"5511987654321,wamid.1` // the quote never closes
		}
		return fmt.Sprintf("r%d,%d,5511987654321,wamid.%d", i, 1790000000+i, i)
	})
	events, sum, rejects := export(t, ingest.Options{}, input{"csv", "log.csv", data})
	if len(rejects) != 1 || rejects[0].Line != 3 || rejects[0].Kind != ingest.KindBadCSV || !strings.Contains(rejects[0].Reason, "does not close") {
		t.Fatalf("rejects %+v, want one bad csv reject of line 3", rejects)
	}
	if len(events) != 998 || sum.SendLogLines != 999 || sum.RejectedLines != 1 {
		t.Errorf("%d events, %d lines, %d rejected lines; want 998, 999, 1", len(events), sum.SendLogLines, sum.RejectedLines)
	}
}

// An open quote closes within a few lines (a quoted line break): one
// record, its lines counted physically; a record whose fields do not
// parse counts all its lines as rejected.
func TestFaultCSVMultiLineRecordCountsLines(t *testing.T) {
	data := "request_id,sent_at,recipient,message_id,error_details\n" +
		"r1,1790000000,5511987654321,wamid.1,\"two\nlines\"\n" +
		"r2,1790000001,5511987654321,wamid.2,\"bad\nquote\" x\n" +
		"r3,1790000002,5511987654321,wamid.3,\n"
	events, sum, rejects := export(t, ingest.Options{}, input{"csv", "log.csv", data})
	if len(events) != 2 || len(rejects) != 1 || rejects[0].Line != 4 || rejects[0].Lines != 2 {
		t.Fatalf("events %d, rejects %+v", len(events), rejects)
	}
	if sum.SendLogLines != 5 || sum.RejectedLines != 2 || sum.RejectRate() != 0.4 {
		t.Errorf("lines %d, rejected %d, rate %v", sum.SendLogLines, sum.RejectedLines, sum.RejectRate())
	}
}

// Issue 12 item 4: a 64 MB line used to be read whole (memory 5-26x the
// line). Lines over the cap are rejected by streaming past them.
func TestFaultLineTooLong(t *testing.T) {
	const size = 64 << 20
	huge := io.MultiReader(strings.NewReader(status(goodStatus)+"\n{\"entry\":\""),
		io.LimitReader(repeatReader('x'), size), strings.NewReader("\"}\n"+status(strings.Replace(goodStatus, "delivered", "read", 1))+"\n"))
	x := newExporter(t, ingest.Options{MaxLineBytes: 1 << 20})
	if err := x.AddWebhooks(context.Background(), "hooks.ndjson", huge); err != nil {
		t.Fatal(err)
	}
	events, sum := x.Events()
	rej := x.Rejects()
	if len(events) != 2 || len(rej) != 1 || rej[0].Kind != ingest.KindTooLong || rej[0].Line != 2 || len(rej[0].Raw) > 1024 || !strings.Contains(rej[0].Reason, "--max-line-bytes") {
		t.Fatalf("events %d, rejects %d %+v", len(events), len(rej), firstReject(rej))
	}
	if sum.WebhookLines != 3 || sum.Bytes < size {
		t.Errorf("summary %+v", sum)
	}
	// The same in a CSV send log, and the line break after it is found.
	data := "request_id,sent_at,recipient,message_id\nr1,1790000000,5511987654321,wamid.1\nr2," + strings.Repeat("9", 2<<20) + ",5511987654321,wamid.2\nr3,1790000002,5511987654321,wamid.3\n"
	events, sum, rejects := export(t, ingest.Options{MaxLineBytes: 1 << 20}, input{"csv", "log.csv", data})
	if len(events) != 2 || len(rejects) != 1 || rejects[0].Kind != ingest.KindTooLong || rejects[0].Line != 3 || sum.SendLogLines != 3 {
		t.Errorf("csv: events %d, rejects %+v, summary %+v", len(events), firstReject(rejects), sum)
	}
}

func firstReject(r []ingest.Reject) string {
	if len(r) == 0 {
		return "none"
	}
	s := fmt.Sprintf("%+v", r[0])
	return s[:min(len(s), 300)]
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// Issue 12 item 5: columns that map to nothing are named with the closest
// field, and every missing required field is reported at once.
func TestFaultUnmappedColumnsWarned(t *testing.T) {
	data := "request_id,sent_at,recipient,message_id,tpl,cat,err_code\n" +
		"r1,1790000000,5511987654321,wamid.1,promo,marketing,\n"
	x := newExporter(t, ingest.Options{})
	if err := x.AddSendLogCSV(context.Background(), "log.csv", strings.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(x.Warnings(), "\n")
	for _, want := range []string{
		"column `tpl` is not used; did you mean --map template=tpl?",
		"column `cat` is not used; did you mean --map category=cat?",
		"column `err_code` is not used; did you mean --map error_code=err_code?",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	// NDJSON send logs: unknown top-level keys.
	x = newExporter(t, ingest.Options{})
	line := `{"request_id":"r1","sent_at":"2026-10-01T10:00:00Z","request":{"to":"5511987654321"},"response":{"messages":[{"id":"wamid.1"}]},"tmpl":"promo"}`
	if err := x.AddSendLogNDJSON(context.Background(), "log.ndjson", strings.NewReader(line+"\n")); err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(x.Warnings(), "\n"); !strings.Contains(w, "key `tmpl` is not used; did you mean --map template=tmpl?") {
		t.Errorf("ndjson warnings: %s", w)
	}

	// All missing required columns in one error.
	x = newExporter(t, ingest.Options{})
	err := x.AddSendLogCSV(context.Background(), "log.csv", strings.NewReader("id,created,to_number,tpl\n"))
	var ce *ingest.ColumnsError
	if !errorsAs(err, &ce) || len(ce.Missing) != 4 || !strings.Contains(err.Error(), "required field request_id") ||
		!strings.Contains(err.Error(), "required field sent_at") || !strings.Contains(err.Error(), "required field recipient") || !strings.Contains(err.Error(), "answer") {
		t.Errorf("error %v", err)
	}
	// NDJSON: a line missing several required fields names them all.
	_, _, rejects := export(t, ingest.Options{}, input{"ndjson", "log.ndjson", `{"campaign_id":"c"}` + "\n"})
	if len(rejects) != 1 || !strings.Contains(rejects[0].Reason, "no request_id, no sent_at, no recipient (request.to), no the API's answer") {
		t.Errorf("rejects %+v", rejects)
	}
}

// Issue 12 item 6: zone-less times are read in --timezone, and rejected
// with a reason naming the flag without it.
func TestFaultZonelessTimestamps(t *testing.T) {
	data := "request_id,sent_at,recipient,message_id\nr1,2026-09-20 09:01:00,5511987654321,wamid.1\n"
	_, _, rejects := export(t, ingest.Options{}, input{"csv", "log.csv", data})
	if len(rejects) != 1 || rejects[0].Kind != ingest.KindBadTimestamp || !strings.Contains(rejects[0].Reason, "--timezone") {
		t.Fatalf("without a zone: %+v", rejects)
	}
	sp, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	events, _, rejects := export(t, ingest.Options{Location: sp}, input{"csv", "log.csv", data})
	want := time.Date(2026, 9, 20, 12, 1, 0, 0, time.UTC).UnixMicro() // UTC-3
	if len(rejects) != 0 || len(events) != 1 || events[0].Timestamp != want {
		t.Errorf("with --timezone: events %+v rejects %+v", events, rejects)
	}
	// Times with a zone ignore the flag.
	events, _, _ = export(t, ingest.Options{Location: sp}, input{"csv", "log.csv", strings.Replace(data, "09:01:00", "09:01:00Z", 1)})
	if len(events) != 1 || events[0].Timestamp != time.Date(2026, 9, 20, 9, 1, 0, 0, time.UTC).UnixMicro() {
		t.Errorf("zoned time: %+v", events)
	}
}

// Issue 12 item 7: each odd input has a defined outcome and a count.
func TestFaultOddInputs(t *testing.T) {
	t.Run("raw control characters in JSON strings are rejected", func(t *testing.T) {
		for _, c := range []string{"\x00", "\t"} {
			line := strings.Replace(sendLine(`"campaign_id":"bf`+c+`2026",`+goodAnswer), "", "", 1)
			events, sum, rejects := export(t, ingest.Options{}, input{"ndjson", "log.ndjson", line + "\n"})
			if len(events) != 0 || len(rejects) != 1 || rejects[0].Kind != ingest.KindControlChar || sum.RejectsByKind[ingest.KindControlChar] != 1 {
				t.Errorf("%q: events %+v rejects %+v", c, events, rejects)
			}
		}
		// A tab between tokens is JSON white space.
		events, _, rejects := export(t, ingest.Options{}, input{"ndjson", "log.ndjson", strings.Replace(sendLine(goodAnswer), ",", ",\t", 1) + "\n"})
		if len(events) != 1 || len(rejects) != 0 {
			t.Errorf("tab between tokens: events %d rejects %+v", len(events), rejects)
		}
		// NUL in a CSV cell.
		_, _, rejects = export(t, ingest.Options{}, input{"csv", "log.csv", "request_id,sent_at,recipient,message_id,campaign_id\nr1,1790000000,5511987654321,wamid.1,bf\x002026\n"})
		if len(rejects) != 1 || rejects[0].Kind != ingest.KindControlChar {
			t.Errorf("csv NUL: %+v", rejects)
		}
	})
	t.Run("invalid UTF-8 is kept exactly in the reject file", func(t *testing.T) {
		line := "{\"entry\":\"\xff\xfe\"}"
		var buf bytes.Buffer
		rw := ingest.NewRejectWriter(&buf)
		x := newExporter(t, ingest.Options{OnReject: rw.Write})
		if err := x.AddWebhooks(context.Background(), "h.ndjson", strings.NewReader(line+"\n")); err != nil {
			t.Fatal(err)
		}
		rw.Flush()
		if !strings.Contains(buf.String(), `"raw_base64":"eyJlbnRyeSI6Iv/+In0="`) || strings.Contains(buf.String(), `"raw":`) {
			t.Errorf("reject line %s", buf.String())
		}
		if x.Summary().RejectsByKind[ingest.KindInvalidUTF8] != 1 {
			t.Errorf("summary %+v", x.Summary())
		}
	})
	t.Run("empty webhook bodies are counted", func(t *testing.T) {
		data := `{"entry":[]}` + "\n" + `{"entry":[{"id":"880","changes":[{"field":"messages","value":{"statuses":[]}}]}]}` + "\n" + status(goodStatus) + "\n"
		events, sum, rejects := export(t, ingest.Options{}, input{"webhooks", "h.ndjson", data})
		if len(events) != 1 || len(rejects) != 0 || sum.EmptyWebhooks != 2 || sum.WebhookLines != 3 {
			t.Errorf("events %d rejects %d summary %+v", len(events), len(rejects), sum)
		}
	})
	t.Run("one wamid for two recipients: the second is a conflict", func(t *testing.T) {
		a := sendLine(goodAnswer)
		b := strings.Replace(a, "5511987654321", "5511900000000", 1)
		events, sum, rejects := export(t, ingest.Options{}, input{"ndjson", "log.ndjson", a + "\n" + b + "\n" + a + "\n"})
		if len(events) != 1 || len(rejects) != 1 || rejects[0].Kind != ingest.KindConflict || rejects[0].Line != 2 ||
			!strings.Contains(rejects[0].Reason, "log.ndjson line 1") || sum.Duplicates != 1 {
			t.Errorf("events %d rejects %+v summary %+v", len(events), rejects, sum)
		}
		if events[0].Recipient != hasher.Hash("5511987654321") {
			t.Errorf("kept %+v", events[0])
		}
	})
}

func errorsAs(err error, target **ingest.ColumnsError) bool {
	for err != nil {
		if ce, ok := err.(*ingest.ColumnsError); ok {
			*target = ce
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

var _ = pipeline.StatusSent

// Issue 12 item 19: free-text fields carried raw phone numbers into the
// history. Numbers in error titles and details and in request ids are
// replaced by their recipient hash unless NoHash is set; hex ids and
// short numbers stay.
func TestFaultNumbersMaskedInFreeText(t *testing.T) {
	refused := `{"request_id":"r-5511987654321-7","sent_at":"2026-10-01T10:00:00Z","request":{"to":"5511987654321"},` +
		`"response":{"error":{"code":999001,"message":"(#999001) Recipient +55 11 98765-4321 blocked","error_data":{"details":"number 5511987654321 is not on WhatsApp; ref req-4454867485ce2562, code 131026"}}}}`
	failed := status(`"id":"wamid.F","status":"failed","timestamp":"1790000010","recipient_id":"5511987654321","errors":[{"code":131026,"title":"Undeliverable to 5511987654321","error_data":{"details":"tried 447700900123 twice"}}]`)
	inputs := []input{{"ndjson", "log.ndjson", refused + "\n"}, {"webhooks", "h.ndjson", failed + "\n"}}
	h := hasher.Hash("5511987654321")

	events, sum, _ := export(t, ingest.Options{}, inputs...)
	if len(events) != 2 || sum.MaskedValues != 5 {
		t.Fatalf("%d events, %d masked values: %+v", len(events), sum.MaskedValues, events)
	}
	fail, ref := events[0], events[1] // in time order: the status comes first
	if ref.Status != pipeline.StatusFailed || ref.MessageID != "r-"+h+"-7" ||
		ref.ErrorTitle != "Recipient "+h+" blocked" ||
		ref.ErrorDetails != "number "+h+" is not on WhatsApp; ref req-4454867485ce2562, code 131026" {
		t.Errorf("refused send: %+v", ref)
	}
	if fail.ErrorTitle != "Undeliverable to "+h || fail.ErrorDetails != "tried "+hasher.Hash("447700900123")+" twice" {
		t.Errorf("failed status: %+v", fail)
	}
	// --no-hash keeps everything as it was sent.
	events, sum, _ = export(t, ingest.Options{NoHash: true}, inputs...)
	if sum.MaskedValues != 0 || events[1].MessageID != "r-5511987654321-7" || !strings.Contains(events[0].ErrorDetails, "447700900123") {
		t.Errorf("no-hash: %+v", events)
	}
}
