package pipeline

import (
	"fmt"
	"math/rand/v2"
)

// eventGen generates synthetic history events in timestamp order with
// realistic cardinalities: a pool of hashed recipients, 20 templates, the
// lifecycle statuses, about 5% failures with error codes, titles and
// details, media sizes for media types and a few exploration sends.
type eventGen struct {
	r         *rand.Rand
	recip     []string
	templates []string
	ts        int64
	step      int64
}

func newEventGen(seed uint64, start, step int64, recipients int) *eventGen {
	g := &eventGen{r: rand.New(rand.NewPCG(seed, 0x5eed)), ts: start, step: step}
	h := NewRecipientHasher([]byte("test-key"))
	g.recip = make([]string, recipients)
	for i := range g.recip {
		g.recip[i] = h.Hash(fmt.Sprintf("55119%08d", i))
	}
	g.templates = make([]string, 20)
	for i := range g.templates {
		g.templates[i] = fmt.Sprintf("promo_%02d", i)
	}
	return g
}

var (
	genCountries = []string{"BR", "IN", "MX", "ID", "GB", "US", ""}
	genCodes     = []int32{131026, 131049, 130429, 131050, 132000, 131053, 0, 1}
	genStatuses  = []Status{StatusAccepted, StatusSent, StatusDelivered, StatusRead, StatusInbound}
	genLanguages = []string{"pt_BR", "en_US", "es_MX"}
)

// next fills events with the next len(events) events.
func (g *eventGen) next(events []Event) {
	r := g.r
	for i := range events {
		g.ts += r.Int64N(2*g.step + 1)
		ri := r.IntN(len(g.recip))
		e := Event{
			MessageID:     fmt.Sprintf("wamid.%016x", r.Uint64()),
			Timestamp:     g.ts,
			WABAID:        fmt.Sprintf("88001122334455%d", r.IntN(3)),
			PhoneNumberID: fmt.Sprintf("30112233445566%d", r.IntN(5)),
			Recipient:     g.recip[ri],
			Country:       genCountries[ri%len(genCountries)],
			CampaignID:    fmt.Sprintf("campaign-%d", r.IntN(50)),
			Template:      g.templates[r.IntN(len(g.templates))],
			Language:      genLanguages[r.IntN(len(genLanguages))],
			Category:      Categories[r.IntN(len(Categories))],
			MessageType:   MessageTypes[r.IntN(len(MessageTypes))],
			MediaBytes:    NoMediaBytes,
			Status:        genStatuses[r.IntN(len(genStatuses))],
			ErrorCode:     NoErrorCode,
			Exploration:   r.IntN(50) == 0,
		}
		if _, ok := MediaLimitBytes[e.MessageType]; ok {
			e.MediaBytes = r.Int64N(20 << 20)
		}
		if r.IntN(20) == 0 {
			e.Status = StatusFailed
			e.ErrorCode = genCodes[r.IntN(len(genCodes))]
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
}

// genEvents returns n synthetic events (see eventGen); step is the mean
// gap between events in micros.
func genEvents(n int, seed uint64, start, step int64, recipients int) []Event {
	events := make([]Event, n)
	newEventGen(seed, start, step, recipients).next(events)
	return events
}
