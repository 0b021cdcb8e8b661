package features

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

// scenario builds a small hand-written history.
type scenario struct{ events []pipeline.Event }

func (s *scenario) add(msg string, ts int64, st pipeline.Status, recip, phone, tpl string, code int32) {
	s.events = append(s.events, pipeline.Event{
		MessageID: msg, Timestamp: ts, Status: st, Recipient: recip, PhoneNumberID: phone,
		WABAID: "w1", Country: "BR", CampaignID: "c-" + phone, Template: tpl, Language: "en",
		Category: pipeline.CategoryMarketing, MessageType: "template", MediaBytes: pipeline.NoMediaBytes, ErrorCode: code,
	})
}

func (s *scenario) send(msg string, ts int64, recip, phone, tpl string) {
	s.add(msg, ts, pipeline.StatusAccepted, recip, phone, tpl, pipeline.NoErrorCode)
}

func (s *scenario) fail(msg string, ts int64, recip, phone, tpl string, code int32) {
	s.add(msg, ts, pipeline.StatusFailed, recip, phone, tpl, code)
}

func decayed(ages ...int64) float64 { // ages in seconds, time constant 30 d
	v := 0.0
	for _, a := range ages {
		v += math.Exp(-float64(a) / (30 * 86400))
	}
	return v
}

func TestScenarioFeatures(t *testing.T) {
	asOf := day0 + 10*usPerDay
	h, sec := usPerHour, usPerSec
	var s scenario
	// Recipient r1 on phone p1.
	s.send("m1", asOf-30*h, "r1", "p1", "t1")
	s.fail("m1", asOf-30*h+5*sec, "r1", "p1", "t1", 131049)
	s.send("m2", asOf-20*h, "r1", "p1", "t1")
	s.add("m2", asOf-20*h+3*sec, pipeline.StatusDelivered, "r1", "p1", "t1", pipeline.NoErrorCode)
	s.send("m3", asOf-10*h, "r1", "p1", "t1")
	s.fail("m3", asOf-10*h+5*sec, "r1", "p1", "t1", 131026)
	s.send("m4", asOf-9*h, "r1", "p1", "t1")
	s.fail("m4", asOf-9*h+5*sec, "r1", "p1", "t1", 131026)
	s.add("in1", asOf-2*h, pipeline.StatusInbound, "r1", "p1", "", pipeline.NoErrorCode)
	s.send("m5", asOf-1*h, "r1", "p1", "t1")
	// Template t9 paused, then disabled.
	s.fail("m6", asOf-3*h, "r2", "p1", "t9", 132015)
	s.fail("m7", asOf-2*h, "r3", "p1", "t9", 132016)
	// Phone p3 reaches 300 unique recipients in an hour; phone p4 does
	// too, but gets a 131048 (spam rate limit) at its 10th send.
	for i := range 300 {
		ts := asOf - 5*usPerDay + int64(i)*10*sec
		s.send(fmt.Sprintf("p3-%d", i), ts, fmt.Sprintf("x%d", i), "p3", "t1")
		s.send(fmt.Sprintf("p4-%d", i), ts+1, fmt.Sprintf("y%d", i), "p4", "t1")
		if i == 9 {
			s.fail(fmt.Sprintf("p4-%d", i), ts+2, fmt.Sprintf("y%d", i), "p4", "t1", 131048)
		}
	}
	// Phone p5, at the 250 tier, sends to 400 new recipients in 40 s:
	// the sends beyond 250 fail with 131048 five seconds later, after
	// sends up to about 300 looked fine.
	for i := range 400 {
		ts := asOf - 3*usPerDay + int64(i)*sec/10
		s.send(fmt.Sprintf("p5-%d", i), ts, fmt.Sprintf("v%d", i), "p5", "t1")
		if i >= 250 {
			s.fail(fmt.Sprintf("p5-%d", i), ts+5*sec, fmt.Sprintf("v%d", i), "p5", "t1", 131048)
		}
	}
	// Phone p2 sends 100 messages in the half second before as-of.
	for i := range 100 {
		s.send(fmt.Sprintf("b%d", i), asOf-sec/2+int64(i)*1000, fmt.Sprintf("z%d", i), "p2", "t1")
	}
	sortEvents(s.events)

	sc, err := NewScorer(context.Background(), &memSource{events: s.events}, DefaultConfig(), asOf)
	if err != nil {
		t.Fatal(err)
	}
	plan := func(id string, at int64, recip, phone, tpl string) pipeline.PlannedSend {
		return pipeline.PlannedSend{SendID: id, ScheduledAt: at, Recipient: recip, PhoneNumberID: phone, Template: tpl, Language: "en",
			WABAID: "w1", Country: "BR", CampaignID: "c-" + phone, Category: pipeline.CategoryMarketing, MessageType: "template", MediaBytes: pipeline.NoMediaBytes}
	}
	tab, err := sc.Next([]pipeline.PlannedSend{
		plan("s2", asOf, "new", "p2", "t1"),
		plan("s3", asOf+1*h, "r2", "p1", "t9"),
		plan("s4", asOf+2*h, "q", "p3", "t1"),
		plan("s5", asOf+2*h, "q", "p4", "t1"),
		plan("s6", asOf+2*h, "q", "p5", "t1"),
		plan("s1", asOf+5*h, "r1", "p1", "t1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	row := map[string]int{}
	for i, id := range tab.ID {
		row[id] = i
	}
	tests := []struct {
		send, name string
		want       float64
	}{
		{"s1", "recipient_consecutive_failures", 2},
		{"s1", "recipient_last_outcome_family", float64(pipeline.FamilyRecipient)},
		{"s1", "recipient_hours_since_code_131049", 35 - 5.0/3600},
		{"s1", "recipient_hours_since_code_131026", 14 - 5.0/3600},
		{"s1", "recipient_hours_since_delivery", 25 - 3.0/3600},
		{"s1", "recipient_code_131026_30d", decayed(10*3600-5, 9*3600-5)},
		{"s1", "recipient_failed_30d", decayed(30*3600-5, 10*3600-5, 9*3600-5)},
		{"s1", "recipient_failed_recipient_30d", decayed(30*3600-5, 10*3600-5, 9*3600-5)},
		{"s1", "recipient_hours_since_inbound", 7},
		{"s1", "recipient_service_window_open", 1},
		{"s1", "recipient_sends_24h", 3},
		{"s1", "recipient_sends_7d", 5},
		{"s1", "recipient_marketing_24h", 3},
		{"s1", "recipient_hours_since_prev_send", 6},
		{"s1", "pair_hours_since_prev_send", 6},
		{"s1", "phone_tier_limit", 250},
		{"s1", "recipient_unseen", 0},
		{"s3", "template_hours_since_pause", 4},
		{"s3", "template_disabled", 1},
		{"s3", "recipient_unseen", 0}, // r2 only appears in a lone failed event, which is a send too
		{"s2", "phone_sends_1s", 100},
		{"s2", "phone_peak_rate_over_throughput", 100.0 / 80},
		{"s2", "recipient_unseen", 1},
		{"s4", "phone_tier_limit", 2000},
		{"s4", "phone_unique_recipients_24h", 0},
		{"s5", "phone_tier_limit", 250},
		{"s6", "phone_tier_limit", 250}, // not 2000: the sends over the limit earn no credit
	}
	for _, tc := range tests {
		got := float64(tab.At(row[tc.send], tc.name))
		if math.Abs(got-tc.want) > 1e-5*math.Max(1, math.Abs(tc.want)) {
			t.Errorf("%s %s = %v, want %v", tc.send, tc.name, got, tc.want)
		}
	}
}
