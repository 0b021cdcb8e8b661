package training

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
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
