package features

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

// eventsFromBytes decodes fuzz input into a history in time order: 8
// bytes per event (status, recipient, message, error code, time step,
// phone, send attributes).
func eventsFromBytes(data []byte) []pipeline.Event {
	codes := []int32{pipeline.NoErrorCode, 131026, 131049, 131050, 131047, 131056, 130429, 131048, 131000, 190, 0, 132015, 132016, 132000, 503, 999999}
	ts := day0
	var out []pipeline.Event
	for len(data) >= 8 {
		b := data[:8]
		data = data[8:]
		ts += int64(b[4]) * int64(b[4]) * 60e6 / 16 // up to ~68 min per step, often 0
		st := pipeline.Status(b[0] % 7)
		e := pipeline.Event{
			MessageID: fmt.Sprintf("m%d", b[2]%24), Timestamp: ts, Status: st,
			Recipient: fmt.Sprintf("r%d", b[1]%6), PhoneNumberID: fmt.Sprintf("p%d", b[5]%3),
			WABAID: "w", Country: []string{"", "BR"}[b[5]>>7], CampaignID: fmt.Sprintf("c%d", b[6]%3),
			Template: []string{"", "t1", "t2"}[b[6]%3], Language: "en",
			Category:    pipeline.Categories[int(b[7])%len(pipeline.Categories)],
			MessageType: []string{"text", "template", "image", "bogus"}[(b[7]>>2)%4],
			MediaBytes:  pipeline.NoMediaBytes, ErrorCode: pipeline.NoErrorCode,
			Exploration: b[7]&0x80 != 0,
		}
		if b[7]&0x40 != 0 {
			e.MediaBytes = int64(b[3]) << 16
		}
		if st == pipeline.StatusFailed {
			e.ErrorCode = codes[int(b[3])%len(codes)]
		}
		out = append(out, e)
	}
	return out
}

func FuzzBuildTraining(f *testing.F) {
	f.Add([]byte("\x01\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x02\x01\x00\x00\x00"))
	f.Add([]byte("\x02\x01\x01\x00\x10\x01\x01\x41\x05\x01\x01\x07\x00\x01\x01\x41\x06\x01\x05\x00\x30\x01\x00\x00\x03\x01\x01\x00\x01\x01\x01\x00"))
	f.Add([]byte("\x05\x02\x03\x09\x00\x02\x02\x01\x05\x02\x04\x0a\x00\x02\x02\x01\x01\x03\x05\x00\xff\x00\x00\x80\x04\x03\x05\x00\x01\x00\x00\x80"))
	seed := make([]byte, 0, 8*64)
	for i := range 64 {
		seed = append(seed, byte(i*5), byte(i*3), byte(i), byte(i*7), byte(i%5*9), byte(i%3), byte(i%4), byte(i*11))
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		events := eventsFromBytes(data)
		cfg := DefaultConfig()
		cfg.LabelDelay = 0
		cfg.Workers = 1
		a, err := BuildTraining(context.Background(), &memSource{events: events, batchSize: 5}, cfg, 0, 0)
		if err != nil {
			t.Fatalf("BuildTraining: %v", err)
		}
		cfg.Workers = 2
		b, err := BuildTraining(context.Background(), &memSource{events: events}, cfg, 0, 0)
		if err != nil {
			t.Fatalf("BuildTraining (2 workers): %v", err)
		}
		if a.Rows != b.Rows || len(a.X) != a.Rows*len(a.Names) {
			t.Fatalf("rows %d vs %d, %d values", a.Rows, b.Rows, len(a.X))
		}
		for i, v := range a.X {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("row %d %s = %v", i/len(a.Names), a.Names[i%len(a.Names)], v)
			}
			if math.Float32bits(v) != math.Float32bits(b.X[i]) {
				t.Fatalf("workers disagree at %d", i)
			}
		}
		for i := range a.Rows {
			if a.Failed[i] != (a.Code[i] != pipeline.NoErrorCode || a.Family[i] == uint8(pipeline.FamilyUnknown)) {
				t.Fatalf("row %d: failed %v code %d family %d", i, a.Failed[i], a.Code[i], a.Family[i])
			}
		}
		// The streamed chunks (classifier on its own goroutine) are the
		// same rows.
		cfg.Workers = 4
		rows := 0
		err = BuildTrainingChunks(context.Background(), &memSource{events: events, batchSize: 3}, cfg, 0, 0, func(c *Table) error {
			for i := range c.Rows {
				j := rows + i
				if c.ID[i] != a.ID[j] || c.Failed[i] != a.Failed[j] || len(diffNames(c.Names, c.Row(i), a.Row(j))) > 0 {
					return fmt.Errorf("chunk row %d (%s) differs from row %d (%s)", i, c.ID[i], j, a.ID[j])
				}
			}
			rows += c.Rows
			return nil
		})
		if err != nil || rows != a.Rows {
			t.Fatalf("chunks: %d rows, want %d (%v)", rows, a.Rows, err)
		}
		if len(events) == 0 {
			return
		}
		asOf := events[len(events)/2].Timestamp
		sc, err := NewScorer(context.Background(), &memSource{events: events}, cfg, asOf)
		if err != nil {
			t.Fatalf("NewScorer: %v", err)
		}
		tab, err := sc.Next(planOf(events, asOf))
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		checkFinite(t, tab)
	})
}
