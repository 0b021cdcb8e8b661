package training

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/pipeline"
)

// recordingSource records the latest event and scan end it was asked
// for: what reached the feature engine.
type recordingSource struct {
	src          features.Source
	maxTS, maxTo int64
	unbounded    bool
}

func (r *recordingSource) Scan(ctx context.Context, opts pipeline.ScanOptions, fn func([]pipeline.Event) error) error {
	if opts.To == 0 {
		r.unbounded = true
	}
	r.maxTo = max(r.maxTo, opts.To)
	return r.src.Scan(ctx, opts, func(batch []pipeline.Event) error {
		for _, e := range batch {
			r.maxTS = max(r.maxTS, e.Timestamp)
		}
		return fn(batch)
	})
}

// TestBuildTablesReadsNothingAtOrAfterAsOf checks the leakage guard: the
// caller hands BuildTables the whole history, which goes on past as-of,
// and no event at or after as-of is read, although the feature engine
// asks for the label window past its last send.
func TestBuildTablesReadsNothingAtOrAfterAsOf(t *testing.T) {
	ds, err := pipeline.OpenDataset(history(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := fastConfig("", "unused")
	cfg.AsOf = testAsOf.Add(-48 * time.Hour) // the history has two more days
	cfg.TrainDays = 5
	rec := &recordingSource{src: ds}
	tabs, err := BuildTables(context.Background(), rec, cfg)
	if err != nil {
		t.Fatal(err)
	}
	asOf := cfg.AsOf.UnixMicro()
	if rec.unbounded || rec.maxTo > asOf || rec.maxTS >= asOf {
		t.Fatalf("read up to %s (scan to %d, unbounded %v), as-of %s",
			time.UnixMicro(rec.maxTS).UTC(), rec.maxTo, rec.unbounded, cfg.AsOf)
	}
	if rec.maxTS < cfg.AsOf.Add(-time.Hour).UnixMicro() {
		t.Fatalf("last event read %s: the history before as-of was not read", time.UnixMicro(rec.maxTS).UTC())
	}
	w := tabs.Windows
	for _, i := range tabs.Valid {
		if ts := tabs.Table.Time[i]; ts < w.ValidFrom.UnixMicro() || ts >= asOf {
			t.Fatalf("validation row at %s outside [%s, %s)", time.UnixMicro(ts).UTC(), w.ValidFrom, w.AsOf)
		}
	}
	for _, i := range tabs.Train {
		if ts := tabs.Table.Time[i]; ts >= w.TrainTo.UnixMicro() {
			t.Fatalf("training row at %s after %s", time.UnixMicro(ts).UTC(), w.TrainTo)
		}
	}
	if len(tabs.Train) != tabs.TrainX.Rows || len(tabs.ValidLabels) != tabs.ValidX.Rows || tabs.TrainFailures == 0 {
		t.Fatalf("tables: %d/%d train rows, %d/%d valid rows, %d train failures",
			len(tabs.Train), tabs.TrainX.Rows, len(tabs.ValidLabels), tabs.ValidX.Rows, tabs.TrainFailures)
	}
}

func TestBuildTablesErrors(t *testing.T) {
	ds, err := pipeline.OpenDataset(history(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*Config)
		want int
	}{
		{"bad config", func(c *Config) { c.TrainDays = 0 }, exitcode.Usage},
		{"as-of before the history", func(c *Config) { c.AsOf = testAsOf.AddDate(-1, 0, 0) }, exitcode.Input},
		{"too few failures", func(c *Config) { c.MinFailures = 1 << 30 }, exitcode.Input},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fastConfig("", "unused")
			tc.edit(&cfg)
			if _, err := BuildTables(context.Background(), ds, cfg); exitcode.Of(err) != tc.want {
				t.Fatalf("err %v (exit %d), want exit %d", err, exitcode.Of(err), tc.want)
			}
		})
	}
}

func TestSampleRows(t *testing.T) {
	rows := make([]int, 100)
	for i := range rows {
		rows[i] = i
	}
	if got := SampleRows(rows, 200, 1); !slices.Equal(got, rows) {
		t.Error("a cap above the row count changed the rows")
	}
	a, b := SampleRows(rows, 10, 1), SampleRows(rows, 10, 1)
	if len(a) != 10 || !slices.Equal(a, b) || !slices.IsSorted(a) {
		t.Errorf("sample = %v and %v, want 10 sorted rows, equal for one seed", a, b)
	}
	if slices.Equal(a, SampleRows(rows, 10, 2)) {
		t.Error("seeds 1 and 2 drew the same sample")
	}
}

func TestHandOffKeepsOrderAndStopsAtTheFirstError(t *testing.T) {
	var got []int
	boom := errors.New("boom")
	h := startHandOff(2, func(v int) error {
		got = append(got, v)
		if v == 5 {
			return boom
		}
		return nil
	})
	var sendErr error
	for v := range 100 {
		if sendErr = h.send(v); sendErr != nil {
			break
		}
	}
	if err := h.close(); !errors.Is(err, boom) {
		t.Fatalf("close returned %v, want %v", err, boom)
	}
	if sendErr != nil && !errors.Is(sendErr, boom) {
		t.Fatalf("send returned %v, want nil or %v", sendErr, boom)
	}
	if !slices.Equal(got, []int{0, 1, 2, 3, 4, 5}) {
		t.Fatalf("fn saw %v, want 0..5 in order and nothing after the error", got)
	}

	got = got[:0]
	h = startHandOff(1, func(v int) error { got = append(got, v); return nil })
	for v := range 50 {
		if err := h.send(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.close(); err != nil || len(got) != 50 || !slices.IsSorted(got) {
		t.Fatalf("close %v, fn saw %d values (sorted %v), want 50 in order", err, len(got), slices.IsSorted(got))
	}
}

// TestStoppingSetSamplesAboveTheCap: early stopping scores every
// validation row up to the cap, and a seeded uniform sample above it,
// with each row's own label.
func TestStoppingSetSamplesAboveTheCap(t *testing.T) {
	const n, nf = 1000, 3
	s := &Tables{ValidX: models.Matrix{Rows: n, Cols: nf, Data: make([]float32, n*nf)}, Valid: indexes(n), ValidLabels: make([]bool, n)}
	for i := range n {
		s.ValidX.Data[i*nf] = float32(i)
		s.ValidLabels[i] = i%7 == 0
	}
	tr := newTrainer(fastConfig("", "unused"))
	if d := tr.stoppingSet(s); d.X.Rows != n || &d.X.Data[0] != &s.ValidX.Data[0] {
		t.Fatalf("under the cap: %d rows (a copy: %v), want the %d rows themselves", d.X.Rows, &d.X.Data[0] != &s.ValidX.Data[0], n)
	}
	tr.stoppingRows = 100
	a, b := tr.stoppingSet(s), tr.stoppingSet(s)
	if a.X.Rows != 100 || !slices.Equal(a.X.Data, b.X.Data) {
		t.Fatalf("above the cap: %d rows, equal for one seed %v; want 100, equal", a.X.Rows, slices.Equal(a.X.Data, b.X.Data))
	}
	prev := float32(-1)
	for k := range a.X.Rows {
		i := a.X.Data[k*nf]
		if i <= prev {
			t.Fatalf("sampled rows out of order: %v after %v", i, prev)
		}
		prev = i
		if want := s.ValidLabels[int(i)]; (a.Y[k] == 1) != want {
			t.Fatalf("sampled row %v has label %v, want %v", i, a.Y[k], want)
		}
	}
}
