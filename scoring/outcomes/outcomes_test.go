package outcomes

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/failcast/failcast/pipeline"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

const sec = int64(time.Second / time.Microsecond)

func send(id, phone, recipient, campaign string, at int64) pipeline.PlannedSend {
	return pipeline.PlannedSend{SendID: id, CampaignID: campaign, WABAID: "w", PhoneNumberID: phone, Recipient: recipient,
		Category: pipeline.CategoryMarketing, MessageType: "template", Template: "t", Language: "en", MediaBytes: pipeline.NoMediaBytes, ScheduledAt: at}
}

func ev(msg string, st pipeline.Status, at int64, phone, recipient, campaign string, code int32) pipeline.Event {
	return pipeline.Event{EventID: pipeline.MakeEventID(msg, st, at), MessageID: msg, Timestamp: at, WABAID: "w", PhoneNumberID: phone,
		Recipient: recipient, CampaignID: campaign, Category: pipeline.CategoryMarketing, MessageType: "template", MediaBytes: pipeline.NoMediaBytes,
		Status: st, ErrorCode: code, AccountNumber: pipeline.NoAccountNumber}
}

func writeHistory(t *testing.T, events []pipeline.Event) *pipeline.Dataset {
	t.Helper()
	slices.SortStableFunc(events, func(a, b pipeline.Event) int { return cmpInt(a.Timestamp, b.Timestamp) })
	path := filepath.Join(t.TempDir(), "history.parquet")
	hw, err := pipeline.NewHistoryWriter(path, pipeline.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := hw.Write(events); err != nil {
		t.Fatal(err)
	}
	if err := hw.Close(); err != nil {
		t.Fatal(err)
	}
	ds, err := pipeline.OpenDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestDeriveJoinRules: one planned send per rule, and the cases that get
// no outcome.
func TestDeriveJoinRules(t *testing.T) {
	const no = pipeline.NoErrorCode
	plan := []pipeline.PlannedSend{
		send("refused-by-id", "pn", "h:r1", "c1", t0+10*sec),          // request id = send id, refused
		send("accepted-ok", "pn", "h:r2", "c1", t0+10*sec),            // joined by send, delivered
		send("accepted-fails", "pn", "h:r3", "c1", t0+11*sec),         // joined by send, async failure
		send("webhooks-only", "pn", "h:r4", "c1", t0+12*sec),          // no accepted row: first status is sent
		send("never-sent", "pn", "h:r5", "c1", t0+13*sec),             // no message
		send("other-campaign", "pn", "h:r6", "c1", t0+14*sec),         // a message of another campaign
		send("unsettled", "pn", "h:r7", "c1", t0+3600*sec),            // accepted just before the history ends
		send("dup-a", "pn", "h:r8", "c1", t0+20*sec),                  // two sends to one recipient:
		send("dup-b", "pn", "h:r8", "c1", t0+25*sec),                  // each takes the closest message
		send("accepted-ok", "pn", "h:r9", "c1", t0+30*sec),            // a repeated send id: left out
		send("too-late", "pn", "h:r10", "c1", t0+15*sec),              // its message went out 2 days later
		send("wamid.ABC", "pn2", "h:x", "", t0+40*sec),                // the plan's send id is the wamid
		send("late-settled", "pn", "h:r11", "c1", t0+3600*sec+30*sec), // accepted late, but delivered
	}
	end := t0 + 3600*sec + 60*sec
	events := []pipeline.Event{
		ev("refused-by-id", pipeline.StatusFailed, t0+10*sec, "pn", "h:r1", "c1", 130429),
		ev("wamid.2", pipeline.StatusAccepted, t0+10*sec, "pn", "h:r2", "c1", no),
		ev("wamid.2", pipeline.StatusSent, t0+12*sec, "pn", "h:r2", "c1", no),
		ev("wamid.2", pipeline.StatusDelivered, t0+13*sec, "pn", "h:r2", "", no),
		ev("wamid.3", pipeline.StatusAccepted, t0+11*sec, "pn", "h:r3", "c1", no),
		ev("wamid.3", pipeline.StatusFailed, t0+14*sec, "pn", "h:r3", "", 131026),
		ev("wamid.4", pipeline.StatusSent, t0+14*sec, "pn", "h:r4", "c1", no),
		ev("wamid.6", pipeline.StatusAccepted, t0+14*sec, "pn", "h:r6", "c2", no),
		ev("wamid.7", pipeline.StatusAccepted, t0+3600*sec, "pn", "h:r7", "c1", no),
		ev("wamid.8b", pipeline.StatusAccepted, t0+26*sec, "pn", "h:r8", "c1", no),
		ev("wamid.8b", pipeline.StatusFailed, t0+27*sec, "pn", "h:r8", "c1", 131049),
		ev("wamid.8a", pipeline.StatusAccepted, t0+21*sec, "pn", "h:r8", "c1", no),
		ev("wamid.10", pipeline.StatusAccepted, t0+2*86400*sec, "pn", "h:r10", "c1", no),
		ev("wamid.ABC", pipeline.StatusAccepted, t0+41*sec, "pn2", "h:x", "", no),
		ev("wamid.ABC", pipeline.StatusFailed, t0+42*sec, "pn2", "h:x", "", 131047),
		ev("wamid.11", pipeline.StatusAccepted, t0+3600*sec+30*sec, "pn", "h:r11", "c1", no),
		ev("wamid.11", pipeline.StatusDelivered, t0+3600*sec+31*sec, "pn", "h:r11", "c1", no),
		ev("inbound.1", pipeline.StatusInbound, end, "pn", "h:r5", "", no),
	}
	// The history ends at `end`, except for wamid.10's row two days later:
	// settle against the real end, so move it aside for the unsettled case.
	events[12].Timestamp = end - 1
	events[12].MessageID, events[12].Recipient = "wamid.other", "h:nobody"
	ds := writeHistory(t, events)
	res, err := Derive(context.Background(), plan, ds, DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]pipeline.PlanOutcome{}
	for _, o := range res.Outcomes {
		got[o.SendID] = o
	}
	want := map[string]pipeline.PlanOutcome{
		"refused-by-id":  {SendID: "refused-by-id", Failed: true, ErrorCode: 130429},
		"accepted-ok":    {SendID: "accepted-ok", ErrorCode: no},
		"accepted-fails": {SendID: "accepted-fails", Failed: true, ErrorCode: 131026},
		"webhooks-only":  {SendID: "webhooks-only", ErrorCode: no},
		"dup-a":          {SendID: "dup-a", ErrorCode: no},
		"dup-b":          {SendID: "dup-b", Failed: true, ErrorCode: 131049},
		"wamid.ABC":      {SendID: "wamid.ABC", Failed: true, ErrorCode: 131047},
		"late-settled":   {SendID: "late-settled", ErrorCode: no},
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: outcome %+v, want %+v", id, got[id], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d outcomes, want %d: %+v", len(got), len(want), res.Outcomes)
	}
	if res.ByID != 2 || res.Unmatched != 3 || res.Unsettled != 1 || res.Duplicates != 1 || res.Failed != 4 {
		t.Errorf("counts: by id %d, unmatched %d (%v), unsettled %d, duplicates %d, failed %d; want 2, 3, 1, 1, 4",
			res.ByID, res.Unmatched, res.Examples, res.Unsettled, res.Duplicates, res.Failed)
	}
}
