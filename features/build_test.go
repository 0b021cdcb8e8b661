package features

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failcast/failcast/pipeline"
)

func buildAll(t *testing.T, events []pipeline.Event, cfg Config) *Table {
	t.Helper()
	tab, err := BuildTraining(context.Background(), &memSource{events: events}, cfg, 0, 0)
	if err != nil {
		t.Fatalf("BuildTraining: %v", err)
	}
	return tab
}

func checkFinite(t *testing.T, tab *Table) {
	t.Helper()
	for i, v := range tab.X {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("row %d feature %s = %v, want a finite value", i/len(tab.Names), tab.Names[i%len(tab.Names)], v)
		}
	}
}

func TestBuildTrainingShapeAndLabels(t *testing.T) {
	for _, webhook := range []bool{false, true} {
		name := "send-log"
		if webhook {
			name = "webhook-only"
		}
		t.Run(name, func(t *testing.T) {
			g := smallGen(1)
			g.WebhookOnly = webhook
			events := generateAll(g)
			for _, workers := range []int{1, 2, 3} {
				cfg := DefaultConfig()
				cfg.Workers = workers
				tab := buildAll(t, events, cfg)
				// Every send but those within LabelDelay of the end is a row.
				end := events[len(events)-1].Timestamp - cfg.LabelDelay.Microseconds()
				want := 0
				seen := map[string]bool{}
				for _, e := range events {
					if e.Status == pipeline.StatusInbound || seen[e.MessageID] {
						continue
					}
					seen[e.MessageID] = true
					if e.Timestamp <= end {
						want++
					}
				}
				if tab.Rows != want {
					t.Fatalf("workers %d: %d rows, want %d", workers, tab.Rows, want)
				}
				if len(tab.X) != tab.Rows*len(tab.Names) || len(tab.ID) != tab.Rows || len(tab.Stale) != tab.Rows {
					t.Fatalf("column lengths do not match %d rows", tab.Rows)
				}
				checkFinite(t, tab)
				failed := 0
				for i := range tab.Rows {
					if tab.Failed[i] {
						failed++
						if tab.Code[i] == pipeline.NoErrorCode || pipeline.Family(tab.Family[i]) != pipeline.FamilyOf(tab.Code[i]) {
							t.Fatalf("row %d: failed with code %d family %d", i, tab.Code[i], tab.Family[i])
						}
					} else if tab.Code[i] != pipeline.NoErrorCode || tab.Family[i] != 0 {
						t.Fatalf("row %d: not failed but code %d family %d", i, tab.Code[i], tab.Family[i])
					}
					if i > 0 && tab.Time[i] < tab.Time[i-1] {
						t.Fatalf("row %d out of time order", i)
					}
					lo, hi := float32(cfg.Lead.Hours()), float32(cfg.MaxHorizon().Hours())
					if h := tab.At(i, "horizon_hours"); h < lo || h >= hi {
						t.Fatalf("row %d: horizon %v h, want in [%v, %v)", i, h, lo, hi)
					}
				}
				if failed == 0 || failed == tab.Rows {
					t.Fatalf("%d of %d rows failed; want a mix", failed, tab.Rows)
				}
			}
		})
	}
}

// TestBuildTrainingWorkersAgree runs enough record batches through the
// two-goroutine pipeline to recycle its buffers many times (fuzzing once
// found a deadlock there).
func TestBuildTrainingWorkersAgree(t *testing.T) {
	g := smallGen(2)
	g.Messages, g.MeanGapUS, g.Recipients = 40000, 20e6, 5000
	events := generateAll(g)
	cfg := DefaultConfig()
	cfg.Workers = 1
	a := buildAll(t, events, cfg)
	for _, workers := range []int{2, 3, 4} {
		cfg.Workers = workers
		b := buildAll(t, events, cfg)
		if a.Rows != b.Rows {
			t.Fatalf("workers %d: rows %d vs %d", workers, a.Rows, b.Rows)
		}
		for i := range a.X {
			if math.Float32bits(a.X[i]) != math.Float32bits(b.X[i]) {
				t.Fatalf("workers %d: value %d differs: %v vs %v", workers, i, a.X[i], b.X[i])
			}
		}
	}
}

func TestBuildTrainingRange(t *testing.T) {
	events := generateAll(smallGen(3))
	cfg := DefaultConfig()
	all := buildAll(t, events, cfg)
	from, to := day0+2*usPerDay, day0+4*usPerDay
	part, err := BuildTraining(context.Background(), &memSource{events: events}, cfg, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if part.Rows == 0 {
		t.Fatal("no rows in range")
	}
	// The rows of a range are the full build's rows in that range, with
	// the same features (earlier history warms the state) and labels.
	j := 0
	for i := range all.Rows {
		if all.Time[i] < from || all.Time[i] >= to {
			continue
		}
		if part.ID[j] != all.ID[i] || part.Failed[j] != all.Failed[i] {
			t.Fatalf("row %d: %s/%v vs %s/%v", j, part.ID[j], part.Failed[j], all.ID[i], all.Failed[i])
		}
		for k, v := range part.Row(j) {
			if math.Float32bits(v) != math.Float32bits(all.Row(i)[k]) {
				t.Fatalf("row %s feature %s: %v vs %v", part.ID[j], part.Names[k], v, all.Row(i)[k])
			}
		}
		j++
	}
	if j != part.Rows {
		t.Fatalf("range build has %d rows, full build %d in range", part.Rows, j)
	}
}

func TestBuildTrainingErrors(t *testing.T) {
	events := generateAll(smallGen(4))[:200]
	events[150].Timestamp = events[10].Timestamp
	_, err := BuildTraining(context.Background(), &memSource{events: events}, DefaultConfig(), 0, 0)
	if err == nil || !strings.Contains(err.Error(), events[150].MessageID) || !strings.Contains(err.Error(), "time order") {
		t.Fatalf("out-of-order history: err = %v, want one naming %s", err, events[150].MessageID)
	}
	bad := DefaultConfig()
	bad.Refresh = 0
	if _, err := BuildTraining(context.Background(), &memSource{}, bad, 0, 0); err == nil || !strings.Contains(err.Error(), "Refresh") {
		t.Fatalf("zero refresh: err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := BuildTraining(ctx, &memSource{events: generateAll(smallGen(4))}, DefaultConfig(), 0, 0); err == nil {
		t.Fatal("cancelled context: no error")
	}
}

func TestTrainingCutoff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Refresh = 24 * time.Hour
	mid := day0 + 10*usPerDay
	tests := []struct {
		t, want int64
	}{
		{mid + 4*usPerHour, mid},
		{mid + 4*usPerHour - 1, mid - usPerDay},
		{mid + 27*usPerHour, mid},
		{mid + 28*usPerHour, mid + usPerDay},
	}
	for _, tc := range tests {
		if got := cfg.TrainingCutoff(tc.t); got != tc.want {
			t.Errorf("TrainingCutoff(%s) = %s, want %s", time.UnixMicro(tc.t).UTC(), time.UnixMicro(got).UTC(), time.UnixMicro(tc.want).UTC())
		}
	}
}

// watchSource remembers the latest event time of the batch it handed
// out last and of the one before (read from the goroutine of the rows'
// consumer).
type watchSource struct {
	Source
	prev, latest atomic.Int64
}

func (s *watchSource) Scan(ctx context.Context, opts pipeline.ScanOptions, fn func([]pipeline.Event) error) error {
	return s.Source.Scan(ctx, opts, func(b []pipeline.Event) error {
		if len(b) > 0 {
			s.prev.Store(s.latest.Load())
			s.latest.Store(b[len(b)-1].Timestamp)
		}
		return fn(b)
	})
}

// TestBuildTrainingChunks: the chunks are BuildTraining's rows, in order,
// each handed on soon after its labels are final (so memory stays
// bounded), and an error of the consumer stops the build.
func TestBuildTrainingChunks(t *testing.T) {
	g := smallGen(2)
	g.Messages, g.MeanGapUS, g.Recipients = 40000, 20e6, 5000 // ~9 days, 5 chunks
	events := generateAll(g)
	for _, tc := range []struct {
		name     string
		from, to int64
		workers  int
	}{
		{"all", 0, 0, 1},
		{"all, 3 workers", 0, 0, 3},
		{"all, 4 workers", 0, 0, 4},
		{"range", day0 + 2*usPerDay, day0 + 6*usPerDay, 1},
		{"range, 2 workers", day0 + 2*usPerDay, day0 + 6*usPerDay, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Workers = tc.workers
			want, err := BuildTraining(context.Background(), &memSource{events: events}, cfg, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			src := &watchSource{Source: &memSource{events: events, batchSize: 500}}
			var parts []*Table
			early := 0
			err = BuildTrainingChunks(context.Background(), src, cfg, tc.from, tc.to, func(c *Table) error {
				if c.Rows == 0 || c.Rows > ChunkRows || len(c.X) != c.Rows*len(c.Names) || len(c.Recipient) != c.Rows {
					t.Fatalf("chunk of %d rows with %d values, %d recipients", c.Rows, len(c.X), len(c.Recipient))
				}
				// On one goroutine (with goroutines, how far the scan
				// runs ahead depends on the scheduler), a chunk is
				// handed on at most a batch of events and a batch of
				// records after its labels became final.
				if tc.workers == 1 && src.latest.Load() < events[len(events)-1].Timestamp {
					early++
					if lag := src.prev.Load() - c.Time[c.Rows-1]; lag > cfg.LabelWindow.Microseconds()+6*usPerHour {
						t.Errorf("chunk ending at %d handed on %v after its last send", c.Time[c.Rows-1], time.Duration(lag)*time.Microsecond)
					}
				}
				parts = append(parts, c)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if tc.workers == 1 && early == 0 {
				t.Error("no chunk was handed on before the scan ended")
			}
			got := concatTables(parts, want.Names)
			if got.Rows != want.Rows {
				t.Fatalf("%d rows in chunks, %d in the table", got.Rows, want.Rows)
			}
			for i := range got.Rows {
				if got.ID[i] != want.ID[i] || got.Time[i] != want.Time[i] || got.Failed[i] != want.Failed[i] || got.Code[i] != want.Code[i] ||
					got.Recipient[i] != want.Recipient[i] || got.CampaignID[i] != want.CampaignID[i] || got.PhoneNumberID[i] != want.PhoneNumberID[i] {
					t.Fatalf("row %d: %s differs from %s", i, got.ID[i], want.ID[i])
				}
			}
			if d := diffNames(got.Names, got.X, want.X); len(d) > 0 {
				t.Fatalf("feature values differ: %v", d[:min(3, len(d))])
			}
		})
	}
	t.Run("consumer error", func(t *testing.T) {
		stop := errors.New("disk full")
		calls := 0
		err := BuildTrainingChunks(context.Background(), &memSource{events: events}, DefaultConfig(), 0, 0, func(*Table) error {
			calls++
			return stop
		})
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("err = %v after %d calls, want %v after 1", err, calls, stop)
		}
	})
}
