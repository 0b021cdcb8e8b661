package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/failcast/failcast/pipeline/ingest"
)

const base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// corpus generates Meta-shaped webhook lines and the matching send log,
// shaped like the reference examples (sent with conversation and pricing;
// delivered and read batched; failed with errors[]), with varied ids,
// recipients (a population of sends/4 numbers) and times. The same seed
// gives the same bytes.
func corpus(seed uint64, sends int) (webhooks, sendLog []byte) {
	rng := rand.New(rand.NewPCG(seed, 1))
	wamid := func() string {
		b := make([]byte, 44)
		for i := range b {
			b[i] = base64Chars[rng.IntN(64)]
		}
		return "wamid.HBgL" + string(b) + "AA=="
	}
	var w, s bytes.Buffer
	ts := int64(1790000000)
	prefixes := []string{"55119", "9198", "52155", "62812", "44770", "1415"}
	envelope := `{"object":"whatsapp_business_account","entry":[{"id":"880011223344556","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15551230001","phone_number_id":"301122334455667"},"statuses":[`
	const closing = "]}}]}]}\n"
	// A recipient population a quarter the size of the sends: people get
	// several messages over the period of an export.
	numbers := make([]string, max(1, sends/4))
	for i := range numbers {
		numbers[i] = fmt.Sprintf("%s%07d", prefixes[rng.IntN(len(prefixes))], rng.IntN(10_000_000))
	}
	for i := range sends {
		id := wamid()
		to := numbers[rng.IntN(len(numbers))]
		ts += int64(rng.IntN(2))
		fmt.Fprintf(&s, `{"request_id":"r-%08d","sent_at":"%d%03d","waba_id":"880011223344556","phone_number_id":"301122334455667","campaign_id":"black-friday-2026","category":"marketing","request":{"messaging_product":"whatsapp","recipient_type":"individual","to":"%s","type":"template","template":{"name":"bf_promo_v3","language":{"code":"pt_BR"}}},"response":{"messaging_product":"whatsapp","contacts":[{"input":"%s","wa_id":"%s"}],"messages":[{"id":"%s","message_status":"accepted"}]}}`+"\n",
			i, ts-2, rng.IntN(1000), to, to, to, id)
		fmt.Fprintf(&w, `%s{"id":"%s","status":"sent","timestamp":"%d","recipient_id":"%s","conversation":{"id":"c0ffee%026x","expiration_timestamp":"%d","origin":{"type":"marketing"}},"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"},"biz_opaque_callback_data":"campaign=black-friday-2026"}%s`,
			envelope, id, ts, to, i, ts+86400, closing)
		if rng.IntN(100) < 6 {
			fmt.Fprintf(&w, `%s{"id":"%s","status":"failed","timestamp":"%d","recipient_id":"%s","errors":[{"code":131049,"title":"This message was not delivered to maintain healthy ecosystem engagement.","message":"This message was not delivered to maintain healthy ecosystem engagement.","error_data":{"details":"In order to maintain a healthy ecosystem engagement, the message failed to be delivered."},"href":"https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]}%s`,
				envelope, id, ts+3, to, closing)
			continue
		}
		fmt.Fprintf(&w, `%s{"id":"%s","status":"delivered","timestamp":"%d","recipient_id":"%s","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}},{"id":"%s","status":"read","timestamp":"%d","recipient_id":"%s"}%s`,
			envelope, id, ts+4, to, id, ts+3+int64(rng.IntN(600)), to, closing)
	}
	return w.Bytes(), s.Bytes()
}

// BenchmarkParseWebhooks measures reading webhook NDJSON into events
// (parse, validate, intern, hash new recipients), in MB/s of input.
func BenchmarkParseWebhooks(b *testing.B) {
	webhooks, _ := corpus(1, 20_000)
	b.SetBytes(int64(len(webhooks)))
	b.ReportAllocs()
	for b.Loop() {
		x := newExporter(b, ingest.Options{})
		if err := x.AddWebhooks(context.Background(), "bench", bytes.NewReader(webhooks)); err != nil {
			b.Fatal(err)
		}
		if s := x.Summary(); s.Rejects != 0 {
			b.Fatalf("%d rejects", s.Rejects)
		}
	}
}

// BenchmarkParseSendLog measures reading an NDJSON send log.
func BenchmarkParseSendLog(b *testing.B) {
	_, sendLog := corpus(1, 20_000)
	b.SetBytes(int64(len(sendLog)))
	b.ReportAllocs()
	for b.Loop() {
		x := newExporter(b, ingest.Options{})
		if err := x.AddSendLogNDJSON(context.Background(), "bench", bytes.NewReader(sendLog)); err != nil {
			b.Fatal(err)
		}
		if s := x.Summary(); s.Rejects != 0 {
			b.Fatalf("%d rejects", s.Rejects)
		}
	}
}

// BenchmarkExport measures a whole export: both inputs, join, event ids,
// sort, dedup and building the events, in MB/s of input and events/s.
func BenchmarkExport(b *testing.B) {
	webhooks, sendLog := corpus(1, 20_000)
	b.SetBytes(int64(len(webhooks) + len(sendLog)))
	b.ReportAllocs()
	var events int
	for b.Loop() {
		x := newExporter(b, ingest.Options{})
		ctx := context.Background()
		if err := x.AddSendLogNDJSON(ctx, "log", bytes.NewReader(sendLog)); err != nil {
			b.Fatal(err)
		}
		if err := x.AddWebhooks(ctx, "hooks", bytes.NewReader(webhooks)); err != nil {
			b.Fatal(err)
		}
		ev, sum := x.Events()
		if sum.OrphanStatuses != 0 {
			b.Fatalf("%d orphans", sum.OrphanStatuses)
		}
		events += len(ev)
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// The benchmark corpus must be realistic: every line parses and joins.
func TestBenchmarkCorpus(t *testing.T) {
	webhooks, sendLog := corpus(1, 500)
	events, sum, rejects := export(t, ingest.Options{},
		input{"ndjson", "log", string(sendLog)}, input{"webhooks", "hooks", string(webhooks)})
	if len(rejects) != 0 || sum.OrphanStatuses != 0 || sum.Accepted != 500 || len(events) < 1500 {
		t.Errorf("corpus: %d events, %d rejects, summary %+v", len(events), len(rejects), sum)
	}
	a, b := corpus(7, 50)
	c, d := corpus(7, 50)
	if !bytes.Equal(a, c) || !bytes.Equal(b, d) {
		t.Error("corpus not deterministic")
	}
}

// BenchmarkExportFiles measures ingest.Export end to end: reading both
// files, spilling, joining, and writing the partitioned Parquet history,
// in MB/s of input. The memory_limit variants join in one group and in
// many (the bounded-memory path of large exports).
func BenchmarkExportFiles(b *testing.B) {
	webhooks, sendLog := corpus(1, 50_000)
	dir := b.TempDir()
	hooks, log := filepath.Join(dir, "hooks.ndjson"), filepath.Join(dir, "log.ndjson")
	if err := os.WriteFile(hooks, webhooks, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(log, sendLog, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, limit := range []int64{0, 4 << 20} {
		b.Run(fmt.Sprintf("memory_limit=%d", limit), func(b *testing.B) {
			b.SetBytes(int64(len(webhooks) + len(sendLog)))
			b.ReportAllocs()
			var events int64
			for b.Loop() {
				out := filepath.Join(dir, "out")
				os.RemoveAll(out)
				sum, err := ingest.Export(context.Background(), spillConfig(out, true, []string{log}, []string{hooks}, limit))
				if err != nil {
					b.Fatal(err)
				}
				events += sum.Events
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
