package training

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/failcast/failcast/pipeline"
	"github.com/parquet-go/parquet-go"
)

// testAsOf is the as-of of the synthetic histories.
var testAsOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// synthOptions shape a synthetic history.
type synthOptions struct {
	days       int     // of history before testAsOf
	sendsPerHr int     // sends per hour
	recipients int     // distinct recipients
	badShare   float64 // share of recipients that usually fail (131026)
	noFailures bool    // no failed sends at all
	seed       uint64
}

func defaultSynth() synthOptions {
	return synthOptions{days: 10, sendsPerHr: 12, recipients: 400, badShare: 0.15, seed: 1}
}

// writeSynthHistory writes a small history file whose failures are
// learnable: "bad" recipients fail with 131026 most of the time (and the
// features see their past failures), others rarely fail with 130429 or
// 131047 (text sent outside the service window).
func writeSynthHistory(t testing.TB, dir string, o synthOptions) string {
	t.Helper()
	path, err := synthHistory(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func synthHistory(dir string, o synthOptions) (string, error) {
	rng := rand.New(rand.NewPCG(o.seed, 99))
	bad := make([]bool, o.recipients)
	engaged := make([]bool, o.recipients)
	for i := range bad {
		bad[i] = rng.Float64() < o.badShare
		engaged[i] = rng.Float64() < 0.5
	}
	start := testAsOf.Add(-time.Duration(o.days) * 24 * time.Hour)
	var events []pipeline.Event
	lastInbound := make([]int64, o.recipients)
	n := 0
	for h := 0; h < o.days*24; h++ {
		// Engaged recipients write to the business about twice a day,
		// which opens the 24-hour service window for free-form text.
		for r := range engaged {
			if engaged[r] && rng.IntN(12) == 0 {
				ts := start.Add(time.Duration(h)*time.Hour + time.Duration(rng.IntN(3600))*time.Second).UnixMicro()
				n++
				ev := pipeline.Event{MessageID: fmt.Sprintf("wamid.in%06d", n), Timestamp: ts, WABAID: "waba1", PhoneNumberID: "phone1",
					Recipient: fmt.Sprintf("h:%016x", r), Country: "BR", MessageType: "text", Category: pipeline.CategoryService,
					MediaBytes: pipeline.NoMediaBytes, Status: pipeline.StatusInbound, ErrorCode: pipeline.NoErrorCode}
				ev.EventID = pipeline.MakeEventID(ev.MessageID, ev.Status, ts)
				events = append(events, ev)
				lastInbound[r] = ts
			}
		}
		for k := 0; k < o.sendsPerHr; k++ {
			ts := start.Add(time.Duration(h)*time.Hour + time.Duration(rng.IntN(3600))*time.Second).UnixMicro()
			r := rng.IntN(o.recipients)
			n++
			e := pipeline.Event{
				MessageID: fmt.Sprintf("wamid.%06d", n), WABAID: "waba1", PhoneNumberID: "phone1",
				Recipient: fmt.Sprintf("h:%016x", r), Country: "BR", CampaignID: fmt.Sprintf("c%d", h/24),
				Template: "promo", Language: "pt_BR", Category: pipeline.CategoryMarketing, MessageType: "template",
				MediaBytes: pipeline.NoMediaBytes, ErrorCode: pipeline.NoErrorCode,
			}
			add := func(st pipeline.Status, dt time.Duration, code int32) {
				ev := e
				ev.Status, ev.Timestamp, ev.ErrorCode = st, ts+dt.Microseconds(), code
				if code != pipeline.NoErrorCode {
					ev.ErrorTitle = "error"
				}
				ev.EventID = pipeline.MakeEventID(ev.MessageID, st, ev.Timestamp)
				events = append(events, ev)
			}
			text := rng.IntN(3) == 0
			if text {
				e.MessageType, e.Template, e.Language, e.Category = "text", "", "", pipeline.CategoryService
			}
			add(pipeline.StatusAccepted, 0, pipeline.NoErrorCode)
			p := 0.03
			code := int32(130429)
			switch {
			case bad[r]:
				p, code = 0.7, 131026
			case text && ts-lastInbound[r] > (24*time.Hour).Microseconds():
				// Free-form text outside the service window (the window as
				// of the history so far: a simplification).
				p, code = 0.9, 131047
			}
			if !o.noFailures && rng.Float64() < p {
				add(pipeline.StatusFailed, 2*time.Second, code)
				continue
			}
			add(pipeline.StatusSent, time.Second, pipeline.NoErrorCode)
			add(pipeline.StatusDelivered, 5*time.Second, pipeline.NoErrorCode)
			if rng.Float64() < 0.5 {
				add(pipeline.StatusRead, 10*time.Minute, pipeline.NoErrorCode)
			}
		}
	}
	slices.SortStableFunc(events, func(a, b pipeline.Event) int {
		switch {
		case a.Timestamp < b.Timestamp:
			return -1
		case a.Timestamp > b.Timestamp:
			return 1
		}
		return 0
	})
	path := filepath.Join(dir, "history.parquet")
	w, err := pipeline.NewHistoryWriter(path, pipeline.WriteOptions{})
	if err != nil {
		return "", err
	}
	if err := w.Write(events); err != nil {
		w.Abort()
		return "", err
	}
	return path, w.Close()
}

// writeWrongSchema writes a Parquet file whose timestamp column is a
// string, as a careless export might.
func writeWrongSchema(path string) error {
	type row struct {
		EventID   string `parquet:"event_id"`
		MessageID string `parquet:"message_id"`
		Timestamp string `parquet:"timestamp"`
		Status    string `parquet:"status"`
	}
	return parquet.WriteFile(path, []row{{"e1", "m1", "2026-10-30T00:00:00Z", "sent"}})
}
