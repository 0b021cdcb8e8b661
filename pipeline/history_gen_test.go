package pipeline

import (
	"fmt"
	"math/rand/v2"
)

// genEvents returns n synthetic history events in timestamp order with
// realistic cardinalities: recipients recipients (hashed), 20 templates,
// the lifecycle statuses, about 5% failures with error codes, titles and
// details, some media sizes and exploration sends. step is the mean gap
// between events in micros.
func genEvents(n int, seed uint64, start, step int64, recipients int) []Event {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	h := NewRecipientHasher([]byte("test-key"))
	recip := make([]string, recipients)
	countries := []string{"BR", "IN", "MX", "ID", "GB", "US", ""}
	for i := range recip {
		recip[i] = h.Hash(fmt.Sprintf("55119%08d", i))
	}
	templates := make([]string, 20)
	for i := range templates {
		templates[i] = fmt.Sprintf("promo_%02d", i)
	}
	codes := []int32{131026, 131049, 130429, 131050, 132000, 131053, 0, 1}
	events := make([]Event, n)
	ts := start
	statuses := []Status{StatusAccepted, StatusSent, StatusDelivered, StatusRead, StatusInbound}
	for i := range events {
		ts += r.Int64N(2*step + 1)
		ri := r.IntN(recipients)
		msg := fmt.Sprintf("wamid.%016x", r.Uint64())
		e := Event{
			MessageID:     msg,
			Timestamp:     ts,
			WABAID:        fmt.Sprintf("88001122334455%d", r.IntN(3)),
			PhoneNumberID: fmt.Sprintf("30112233445566%d", r.IntN(5)),
			Recipient:     recip[ri],
			Country:       countries[ri%len(countries)],
			CampaignID:    fmt.Sprintf("campaign-%d", r.IntN(50)),
			Template:      templates[r.IntN(len(templates))],
			Language:      []string{"pt_BR", "en_US", "es_MX"}[r.IntN(3)],
			Category:      Categories[r.IntN(len(Categories))],
			MessageType:   MessageTypes[r.IntN(len(MessageTypes))],
			MediaBytes:    NoMediaBytes,
			Status:        statuses[r.IntN(len(statuses))],
			ErrorCode:     NoErrorCode,
			Exploration:   r.IntN(50) == 0,
		}
		if _, ok := MediaLimitBytes[e.MessageType]; ok {
			e.MediaBytes = r.Int64N(20 << 20)
		}
		if r.IntN(20) == 0 {
			e.Status = StatusFailed
			e.ErrorCode = codes[r.IntN(len(codes))]
			info, _ := LookupCode(e.ErrorCode)
			e.ErrorTitle = info.Title
			e.ErrorDetails = fmt.Sprintf("details of failure %d", r.IntN(1000))
		}
		if e.Template == "promo_00" {
			e.Template, e.Language = "", "" // a non-template message
		}
		e.EventID = MakeEventID(e.MessageID, e.Status, e.Timestamp)
		events[i] = e
	}
	return events
}
