package features

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// sendEvents marks the events the engine treats as sends (the first event
// of a message id: accepted, failed, or sent in webhook-only data).
func sendEvents(events []pipeline.Event) []bool {
	out := make([]bool, len(events))
	seen := map[string]bool{}
	sawAccepted := false
	for i, e := range events {
		if e.Status == pipeline.StatusInbound || seen[e.MessageID] {
			continue
		}
		if e.Status == pipeline.StatusAccepted {
			sawAccepted = true
		}
		if e.Status == pipeline.StatusAccepted || e.Status == pipeline.StatusFailed || (e.Status == pipeline.StatusSent && !sawAccepted) {
			out[i] = true
			seen[e.MessageID] = true
		}
	}
	return out
}

func rowOf(tab *Table, id string) int {
	for i, x := range tab.ID {
		if x == id {
			return i
		}
	}
	return -1
}

// diffNames lists the features whose values differ bit for bit.
func diffNames(names []string, a, b []float32) []string {
	var out []string
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			out = append(out, fmt.Sprintf("%s: %v -> %v", names[i], a[i], b[i]))
		}
	}
	return out
}

func sortEvents(ev []pipeline.Event) {
	slices.SortStableFunc(ev, func(a, b pipeline.Event) int {
		switch {
		case a.Timestamp < b.Timestamp:
			return -1
		case a.Timestamp > b.Timestamp:
			return 1
		}
		return 0
	})
}

var failCodes = []int32{131026, 131049, 131050, 131047, 131056, 130429, 131048, 131000, 190, 132015, 132016, 132000, 131053, 503}

// mutateAfter changes the history only where a send at t may not look:
// outcome events at or after cutoff c, and sends at or after t. It alters,
// drops and adds events, including ones aimed at the target's entities
// and ones exactly at c and at t (placed before the target in the stream).
func mutateAfter(events []pipeline.Event, target pipeline.Event, c int64, rng *rand.Rand) []pipeline.Event {
	isSend := sendEvents(events)
	sendAt := map[string]int64{}
	for i, e := range events {
		if isSend[i] {
			sendAt[e.MessageID] = e.Timestamp
		}
	}
	t := target.Timestamp
	var front, out []pipeline.Event
	for i, e := range events {
		if st, ok := sendAt[e.MessageID]; ok && st > t && e.MessageID != target.MessageID && rng.IntN(3) == 0 {
			continue // drop a whole later message
		}
		if e.Timestamp >= c {
			switch {
			case isSend[i] && e.Status == pipeline.StatusFailed:
				e.ErrorCode = failCodes[rng.IntN(len(failCodes))]
			case isSend[i]:
			case rng.IntN(4) == 0:
				continue // drop an outcome
			case rng.IntN(3) == 0:
				switch e.Status {
				case pipeline.StatusFailed:
					e.Status, e.ErrorCode = pipeline.StatusDelivered, pipeline.NoErrorCode
				case pipeline.StatusDelivered, pipeline.StatusRead:
					e.Status, e.ErrorCode = pipeline.StatusFailed, failCodes[rng.IntN(len(failCodes))]
				}
			}
		}
		out = append(out, e)
	}
	// Outcomes at and after the cutoff aimed at the target's entities.
	// A failed event of an unknown message id would be a send (a refused
	// request), so added failures belong to messages sent earlier: the
	// latest to the target's recipient within the label window, else the
	// latest of all.
	owner := func(ts int64) string {
		id, any := "", ""
		for i, e := range events {
			if !isSend[i] || e.Timestamp >= ts || e.Timestamp < ts-48*usPerHour {
				continue
			}
			any = e.MessageID
			if e.Recipient == target.Recipient {
				id = e.MessageID
			}
		}
		if id == "" {
			id = any
		}
		return id
	}
	for k, ts := range []int64{c, c, c + 1, (c + t) / 2, t, t + 3600e6} {
		e := target
		e.MessageID = owner(ts)
		if k == 1 || k == 2 {
			e.MessageID = fmt.Sprintf("leak.%d", k) // inbound, or an orphan delivery
		}
		e.Timestamp = ts
		e.Status, e.ErrorCode = pipeline.StatusFailed, failCodes[rng.IntN(len(failCodes))]
		if k == 1 {
			e.Status, e.ErrorCode = pipeline.StatusInbound, pipeline.NoErrorCode
		}
		if k == 2 {
			e.Status, e.ErrorCode = pipeline.StatusDelivered, pipeline.NoErrorCode
		}
		out = append(out, e)
	}
	// Account events at the cutoff and at t aimed at the target's
	// template, number and recipient.
	out = append(out, accountAimedAt(target, c)...)
	out = append(out, accountAimedAt(target, t)...)
	// A failure of the target itself (its label, not its features).
	e := target
	e.Timestamp, e.Status, e.ErrorCode = t+1, pipeline.StatusFailed, 131049
	out = append(out, e)
	// Sends at exactly t (before the target in the stream) and after it.
	for k, ts := range []int64{t, t, t + 1, t + 5e6} {
		s := target
		s.MessageID = fmt.Sprintf("later.%d", k)
		s.Timestamp = ts
		s.Category = pipeline.CategoryMarketing
		if k == 1 {
			s.Status, s.ErrorCode = pipeline.StatusFailed, 130429 // a refused send
		}
		if k < 2 {
			front = append(front, s)
		} else {
			out = append(out, s)
		}
	}
	all := append(front, out...)
	sortEvents(all)
	return all
}

// mutateBefore adds outcome events just before the cutoff and a send just
// before t: both must be visible to the send at t.
func mutateBefore(events []pipeline.Event, target pipeline.Event, c int64) []pipeline.Event {
	out := slices.Clone(events)
	e := target
	e.MessageID, e.Timestamp = "early.fail", c-1
	e.Status, e.ErrorCode = pipeline.StatusFailed, 131049
	out = append(out, e)
	s := target
	s.MessageID, s.Timestamp = "early.send", target.Timestamp-1
	out = append(out, s)
	out = append(out, accountAimedAt(target, c-1)...)
	sortEvents(out)
	return out
}

func leakageTargets(events []pipeline.Event, n int, rng *rand.Rand) []pipeline.Event {
	isSend := sendEvents(events)
	lo, hi := events[0].Timestamp+3*usPerDay, events[len(events)-1].Timestamp-3*usPerDay
	var cands []pipeline.Event
	for i, e := range events {
		if isSend[i] && e.Timestamp > lo && e.Timestamp < hi && !e.Exploration {
			cands = append(cands, e)
		}
	}
	out := make([]pipeline.Event, n)
	for i := range out {
		out[i] = cands[rng.IntN(len(cands))]
	}
	return out
}

func features(t *testing.T, events []pipeline.Event, cfg Config, id string) []float32 {
	t.Helper()
	tab := buildAll(t, events, cfg)
	i := rowOf(tab, id)
	if i < 0 {
		t.Fatalf("send %s has no row", id)
	}
	return slices.Clone(tab.Row(i))
}

// TestLeakage: changing outcome events at or after cutoff(t), or sends at
// or after t, leaves the features of the send at t unchanged; changing
// them before does change features (so the test can fail).
func TestLeakage(t *testing.T) {
	for _, webhook := range []bool{false, true} {
		t.Run(fmt.Sprintf("webhook=%v", webhook), func(t *testing.T) {
			g := smallGen(11)
			g.WebhookOnly = webhook
			rng := rand.New(rand.NewPCG(5, 6))
			events := withAccountEvents(generateAll(g), rng)
			cfg := DefaultConfig()
			n := 12
			if testing.Short() {
				n = 6
			}
			for _, target := range leakageTargets(events, n, rng) {
				c := cfg.TrainingCutoff(target.Timestamp)
				base := features(t, events, cfg, target.MessageID)
				after := features(t, mutateAfter(events, target, c, rng), cfg, target.MessageID)
				if d := diffNames(Names(), base, after); len(d) > 0 {
					t.Errorf("send %s at %s (cutoff %s): events at/after the cutoff changed features: %v",
						target.MessageID, time.UnixMicro(target.Timestamp).UTC(), time.UnixMicro(c).UTC(), d)
				}
				before := features(t, mutateBefore(events, target, c), cfg, target.MessageID)
				d := diffNames(Names(), base, before)
				if len(d) == 0 {
					t.Errorf("send %s: events before the cutoff changed no feature", target.MessageID)
				}
				for _, want := range []string{"recipient_failed_24h", "recipient_sends_24h", NameRecipientHoursSincePref, NameAccountRestrictionHoursLeft} {
					if slices.IndexFunc(d, func(s string) bool { return len(s) > len(want) && s[:len(want)+1] == want+":" }) < 0 {
						t.Errorf("send %s: adding a failure before the cutoff and a send before t left %s unchanged (changed: %v)", target.MessageID, want, d)
					}
				}
			}
		})
	}
}

// TestLeakageWithoutLead shows the leakage test has teeth: with the lead
// ignored (cutoff = t), the events between t - Lead and t that
// TestLeakage changes do change the features.
func TestLeakageWithoutLead(t *testing.T) {
	events := generateAll(smallGen(12))
	cfg := DefaultConfig()
	noLead := cfg
	noLead.Lead, noLead.Refresh = 0, time.Microsecond // cutoff(t) = t
	rng := rand.New(rand.NewPCG(7, 8))
	leaked := 0
	targets := leakageTargets(events, 6, rng)
	for _, target := range targets {
		c := cfg.TrainingCutoff(target.Timestamp)
		mutated := mutateAfter(events, target, c, rng)
		if len(diffNames(Names(), features(t, events, noLead, target.MessageID), features(t, mutated, noLead, target.MessageID))) > 0 {
			leaked++
		}
	}
	if leaked != len(targets) {
		t.Fatalf("without lead, %d of %d sends saw the events after the (default) cutoff; want all", leaked, len(targets))
	}
}

// planOf turns the history sends at or after asOf into a plan.
func planOf(events []pipeline.Event, asOf int64) []pipeline.PlannedSend {
	isSend := sendEvents(events)
	var plan []pipeline.PlannedSend
	for i, e := range events {
		if !isSend[i] || e.Timestamp < asOf {
			continue
		}
		plan = append(plan, pipeline.PlannedSend{
			SendID: e.MessageID, CampaignID: e.CampaignID, WABAID: e.WABAID, PhoneNumberID: e.PhoneNumberID,
			Recipient: e.Recipient, Country: e.Country, Template: e.Template, Language: e.Language,
			Category: e.Category, MessageType: e.MessageType, MediaBytes: e.MediaBytes, ScheduledAt: e.Timestamp,
		})
	}
	return plan
}

// TestTrainServeParity: for sends whose training cutoff is the as-of time,
// the training path and the scoring path (history truncated at as-of,
// later sends given as a plan) produce the same features, float for float.
func TestTrainServeParity(t *testing.T) {
	for _, webhook := range []bool{false, true} {
		t.Run(fmt.Sprintf("webhook=%v", webhook), func(t *testing.T) {
			g := smallGen(21)
			g.WebhookOnly = webhook
			events := withAccountEvents(generateAll(g), rand.New(rand.NewPCG(21, 22)))
			cfg := DefaultConfig()
			asOf := day0 + 4*usPerDay // UTC midnight: a point of the refresh grid
			train := buildAll(t, events, cfg)

			var history []pipeline.Event
			for _, e := range events {
				if e.Timestamp < asOf {
					history = append(history, e)
				}
			}
			sc, err := NewScorer(context.Background(), &memSource{events: history}, cfg, asOf)
			if err != nil {
				t.Fatal(err)
			}
			plan := planOf(events, asOf)
			winLo, winHi := asOf+cfg.Lead.Microseconds(), asOf+cfg.MaxHorizon().Microseconds()
			compared := 0
			for start := 0; start < len(plan); start += 37 { // several Next calls
				tab, err := sc.Next(plan[start:min(start+37, len(plan))])
				if err != nil {
					t.Fatal(err)
				}
				for i := range tab.Rows {
					ts := tab.Time[i]
					if wantStale := ts-asOf > cfg.MaxHorizon().Microseconds(); tab.Stale[i] != wantStale {
						t.Fatalf("send %s: stale %v, want %v", tab.ID[i], tab.Stale[i], wantStale)
					}
					if ts < winLo || ts >= winHi {
						continue
					}
					if cfg.TrainingCutoff(ts) != asOf {
						t.Fatalf("test setup: training cutoff of %d is not as-of", ts)
					}
					j := rowOf(train, tab.ID[i])
					if j < 0 {
						t.Fatalf("send %s has no training row", tab.ID[i])
					}
					if d := diffNames(tab.Names, train.Row(j), tab.Row(i)); len(d) > 0 {
						t.Fatalf("send %s: training and scoring features differ: %v", tab.ID[i], d)
					}
					compared++
				}
			}
			if compared < 100 {
				t.Fatalf("compared %d sends, want >= 100", compared)
			}
		})
	}
}
