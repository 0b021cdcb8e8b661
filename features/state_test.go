package features

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// TestStateRoundTrip: a scorer read back from its saved state scores a
// plan float for float as a scorer that folds the history itself, as of
// the folding time or later (the history having nothing in between).
func TestStateRoundTrip(t *testing.T) {
	events := withAccountEvents(generateAll(smallGen(61)), rand.New(rand.NewPCG(61, 62))) // account state is saved too
	folded := day0 + 5*usPerDay + 7*usPerHour
	var history []pipeline.Event
	for _, e := range events {
		if e.Timestamp < folded {
			history = append(history, e)
		}
	}
	cfg := DefaultConfig()
	sc, err := NewScorer(context.Background(), &memSource{events: history}, cfg, folded)
	if err != nil {
		t.Fatal(err)
	}
	var saved bytes.Buffer
	if err := sc.WriteState(&saved); err != nil {
		t.Fatal(err)
	}
	for _, later := range []time.Duration{0, 3 * time.Hour, 50 * time.Hour} {
		t.Run(later.String(), func(t *testing.T) {
			asOf := folded + later.Microseconds()
			plan := planOf(events, asOf)
			if len(plan) < 100 {
				t.Fatalf("plan of %d sends; the generator's history is too short", len(plan))
			}
			plan = plan[:min(len(plan), 2000)]
			newcomer := plan[len(plan)-1]
			newcomer.SendID, newcomer.Recipient, newcomer.CampaignID = "new", "h:00000000deadbeef", "new-campaign"
			plan = append(plan, newcomer)

			want, err := NewScorer(context.Background(), &memSource{events: history}, cfg, asOf)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadScorer(bytes.NewReader(saved.Bytes()), cfg, asOf)
			if err != nil {
				t.Fatal(err)
			}
			if got.AsOf() != asOf || got.FoldedBefore() != folded {
				t.Fatalf("as-of %d folded before %d, want %d and %d", got.AsOf(), got.FoldedBefore(), asOf, folded)
			}
			for lo := 0; lo < len(plan); lo += 500 {
				batch := plan[lo:min(lo+500, len(plan))]
				wt, err := want.Next(batch)
				if err != nil {
					t.Fatal(err)
				}
				gt, err := got.Next(batch)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(gt.ID, wt.ID) || !reflect.DeepEqual(gt.Recipient, wt.Recipient) || !reflect.DeepEqual(gt.Stale, wt.Stale) {
					t.Fatalf("batch at %d: identity columns differ", lo)
				}
				for i := range wt.X {
					if math.Float32bits(gt.X[i]) != math.Float32bits(wt.X[i]) {
						r, f := i/len(wt.Names), i%len(wt.Names)
						t.Fatalf("send %s: %s = %v from the saved state, %v folded afresh", wt.ID[r], wt.Names[f], gt.X[i], wt.X[i])
					}
				}
			}
		})
	}
}

func TestStateErrors(t *testing.T) {
	events := generateAll(smallGen(62))
	asOf := events[len(events)-1].Timestamp + 1
	cfg := DefaultConfig()
	sc, err := NewScorer(context.Background(), &memSource{events: events}, cfg, asOf)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := sc.WriteState(&buf); err != nil {
		t.Fatal(err)
	}
	saved := buf.Bytes()
	flipped := bytes.Clone(saved)
	flipped[len(flipped)*2/3] ^= 0x40
	otherLead := cfg
	otherLead.Lead = 2 * time.Hour
	tests := []struct {
		name  string
		data  []byte
		cfg   Config
		asOf  int64
		want  string
		isErr error
	}{
		{"not a state file", []byte("send_id,recipient\n"), cfg, asOf, "not a feature state file", nil},
		{"empty", nil, cfg, asOf, "not a feature state file", nil},
		{"truncated", saved[:len(saved)/2], cfg, asOf, "unexpected EOF", nil},
		{"one bit flipped", flipped, cfg, asOf, "corrupt", nil},
		{"other lead time", saved, otherLead, asOf, "lead=", ErrStateMismatch},
		{"as-of not after the last event", saved, cfg, events[len(events)-1].Timestamp, "not before as-of", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadScorer(bytes.NewReader(tc.data), tc.cfg, tc.asOf)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if tc.isErr != nil && !errors.Is(err, tc.isErr) {
				t.Fatalf("err = %v, want errors.Is %v", err, tc.isErr)
			}
		})
	}
	plan := planOf(events, 0)[:10]
	for i := range plan {
		plan[i].ScheduledAt = asOf + int64(i)
	}
	if _, err := sc.Next(plan); err != nil {
		t.Fatal(err)
	}
	if err := sc.WriteState(&bytes.Buffer{}); err == nil {
		t.Fatal("WriteState after Next: no error")
	}
}

// TestStateTypesHaveNoPointers: the state file holds these types byte
// for byte, which is only sound while they hold no pointers.
func TestStateTypesHaveNoPointers(t *testing.T) {
	var hasPointers func(reflect.Type) bool
	hasPointers = func(t reflect.Type) bool {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.String, reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
			return true
		case reflect.Array:
			return hasPointers(t.Elem())
		case reflect.Struct:
			for i := range t.NumField() {
				if hasPointers(t.Field(i).Type) {
					return true
				}
			}
		}
		return false
	}
	for _, v := range []any{recipSchedule{}, groupSchedule{}, phoneDay{}, sendRef{}, pairSend{}, record{}, recipOutcome{}, groupOutcome{}} {
		if typ := reflect.TypeOf(v); hasPointers(typ) {
			t.Errorf("%v holds pointers: it cannot be saved byte for byte", typ)
		}
	}
}

// FuzzReadScorer: any bytes give a Scorer or an error, never a panic or
// an allocation the input does not back.
func FuzzReadScorer(f *testing.F) {
	events := generateAll(smallGen(63))[:3000]
	asOf := events[len(events)-1].Timestamp + 1
	cfg := DefaultConfig()
	sc, err := NewScorer(context.Background(), &memSource{events: events}, cfg, asOf)
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := sc.WriteState(&buf); err != nil {
		f.Fatal(err)
	}
	saved := buf.Bytes()
	f.Add(saved)
	f.Add(saved[:len(saved)/3])
	f.Add([]byte(stateMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := ReadScorer(bytes.NewReader(data), cfg, asOf)
		if err == nil && sc.AsOf() != asOf {
			t.Fatalf("as-of %d, want %d", sc.AsOf(), asOf)
		}
	})
}
