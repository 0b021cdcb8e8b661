package scalebeam

import (
	"reflect"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

func sampleEvents() []keyedEvent {
	return []keyedEvent{
		{e: pipeline.Event{EventID: "e1", MessageID: "wamid.1", Timestamp: 1_700_000_000_000_000, WABAID: "88", PhoneNumberID: "30",
			Recipient: "h:ab", Country: "BR", CampaignID: "c", Template: "t", Language: "pt_BR", Category: "marketing", MessageType: "template",
			MediaBytes: pipeline.NoMediaBytes, Status: pipeline.StatusFailed, ErrorCode: 131026, ErrorTitle: "x", ErrorDetails: "y",
			Exploration: true, AccountNumber: pipeline.NoAccountNumber}, pos: 7},
		{e: pipeline.Event{MessageID: "wamid.2", Timestamp: -5, ErrorCode: pipeline.NoErrorCode, MediaBytes: 12, AccountValue: "RED", AccountUntil: 9}, pos: 8},
	}
}

// TestEventCodec: fragments decode to what was encoded, and every
// truncation of one is an error, never a panic or a short success.
func TestEventCodec(t *testing.T) {
	in := sampleEvents()
	b := encodeEvents(3, in)
	out, err := decodeEvents(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i].rank = 3
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("decoded %+v, want %+v", out, in)
	}
	for n := range len(b) {
		if _, err := decodeEvents(nil, b[:n]); err == nil {
			t.Fatalf("a fragment cut to %d of %d bytes decoded without error", n, len(b))
		}
	}
}

func FuzzDecodeEvents(f *testing.F) {
	f.Add(encodeEvents(1, sampleEvents()))
	f.Add([]byte{})
	f.Add(encodePlan([]keyedSend{{s: pipeline.PlannedSend{SendID: "s", ScheduledAt: 5, MediaBytes: pipeline.NoMediaBytes}, row: 1}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if evs, err := decodeEvents(nil, b); err == nil {
			if again, err := decodeEvents(nil, encodeEvents(rankOf(evs), evs)); err != nil || !reflect.DeepEqual(again, evs) {
				t.Fatalf("re-encoding a decoded fragment changed it: %v", err)
			}
		}
		decodePlan(nil, b)
	})
}

func rankOf(evs []keyedEvent) int32 {
	if len(evs) == 0 {
		return 0
	}
	return evs[0].rank
}
