package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/failcast/failcast/pipeline/ingest"
)

func Example() {
	sendLog := `{"request_id":"r-1","sent_at":"2026-09-21T14:13:20.120Z","phone_number_id":"301","campaign_id":"promo","category":"marketing","request":{"to":"5511987654321","type":"template","template":{"name":"promo_v1","language":{"code":"pt_BR"}}},"response":{"messages":[{"id":"wamid.A"}]}}
{"request_id":"r-2","sent_at":"2026-09-21T14:13:21Z","phone_number_id":"301","campaign_id":"promo","request":{"to":"5511912345678","type":"template","template":{"name":"promo_v1","language":{"code":"pt_BR"}}},"response":{"error":{"code":132000,"message":"(#132000) Number of parameters does not match","error_data":{"details":"body: 0 params, want 1"}}}}
`
	webhooks := `{"entry":[{"id":"880","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"301"},"statuses":[{"id":"wamid.A","status":"delivered","timestamp":"1790000004","recipient_id":"5511987654321"},{"id":"wamid.A","status":"sent","timestamp":"1790000002","recipient_id":"5511987654321"}]}}]}]}
null
`
	x, err := ingest.New(ingest.Options{NoHash: true})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if err := x.AddSendLogNDJSON(ctx, "send-log.ndjson", strings.NewReader(sendLog)); err != nil {
		panic(err)
	}
	if err := x.AddWebhooks(ctx, "webhooks.ndjson", strings.NewReader(webhooks)); err != nil {
		panic(err)
	}
	events, sum := x.Events()
	for _, e := range events {
		fmt.Println(e.Time().Format("15:04:05.000"), e.MessageID, e.Status, e.WABAID, e.CampaignID, e.Template, e.Country, e.ErrorCode)
	}
	for _, r := range x.Rejects() {
		fmt.Printf("rejected %s line %d: %s\n", r.Source, r.Line, r.Reason)
	}
	fmt.Println("events", sum.Events, "rejects", sum.Rejects)
	// Output:
	// 14:13:20.120 wamid.A accepted 880 promo promo_v1 BR -1
	// 14:13:21.000 r-2 failed 880 promo promo_v1 BR 132000
	// 14:13:22.000 wamid.A sent 880 promo promo_v1 BR -1
	// 14:13:24.000 wamid.A delivered 880 promo promo_v1 BR -1
	// rejected webhooks.ndjson line 2: line is JSON null, want a webhook body object
	// events 4 rejects 1
}

func ExampleParseMapping() {
	m, err := ingest.ParseMapping("recipient=payload.to,template_name=payload.template.name,wamid=answer.messages[0].id")
	if err != nil {
		panic(err)
	}
	fmt.Println(m[ingest.FieldRecipient], m[ingest.FieldTemplate], m[ingest.FieldMessageID])
	// Output: payload.to payload.template.name answer.messages[0].id
}

func ExampleNewRejectWriter() {
	var buf strings.Builder
	rw := ingest.NewRejectWriter(&buf)
	x, err := ingest.New(ingest.Options{HashKey: []byte("secret"), OnReject: rw.Write})
	if err != nil {
		panic(err)
	}
	bad := `{"entry":[{"id":"880","changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.A","status":"deleted","timestamp":"1790000000","recipient_id":"5511987654321"}]}}]}]}`
	if err := x.AddWebhooks(context.Background(), "hooks.ndjson", strings.NewReader("\n"+bad+"\n")); err != nil {
		panic(err)
	}
	if err := rw.Flush(); err != nil {
		panic(err)
	}
	var r ingest.Reject
	if err := json.Unmarshal([]byte(buf.String()), &r); err != nil {
		panic(err)
	}
	fmt.Println(r.Source, r.Line, r.Kind)
	fmt.Println(r.Reason)
	// Output:
	// hooks.ndjson 2 unknown status
	// entry[0].changes[0]: value.statuses[0]: status "deleted", want sent, delivered, read or failed
}
