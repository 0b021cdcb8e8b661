package training

import (
	"bytes"
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models/gbdt"
	"github.com/failcast/failcast/models/registry"
	"github.com/failcast/failcast/pipeline"
)

// familyWeights returns the weight of the error-family rows of each
// family, rounded.
func familyWeights(s *Tables) []int {
	w := make([]float64, pipeline.NumFamilies)
	for i, y := range s.FamilyY {
		if s.FamilyWeight == nil {
			w[int(y)]++
		} else {
			w[int(y)] += float64(s.FamilyWeight[i])
		}
	}
	out := make([]int, len(w))
	for f, v := range w {
		out[f] = int(math.Round(v))
	}
	return out
}

// familyCounts returns the failed training rows of each family of a
// whole-table set.
func familyCounts(s *Tables) []int {
	out := make([]int, pipeline.NumFamilies)
	for _, i := range s.Train {
		if s.Table.Failed[i] {
			out[s.Table.Family[i]]++
		}
	}
	return out
}

// TestStreamedMatchesBuildTables checks the streamed training set of Run
// against the whole tables of BuildTables on the same history: the same
// validation rows, training counts and window, every failure kept, and
// without down-sampling the same failure-model training rows (as bins,
// with the edges gbdt.Fit would compute).
func TestStreamedMatchesBuildTables(t *testing.T) {
	ds, err := pipeline.OpenDataset(history(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		maxRows int
		sampled bool
	}{
		{"no sampling", 0, false},
		{"down-sampled", 1500, true},
	} {
		// fastConfig's family cap thins the common families: both sets
		// weigh their rows back to every failed training row.
		t.Run(tc.name, func(t *testing.T) {
			cfg := fastConfig("", "unused")
			cfg.MaxTrainRows = tc.maxRows
			cfg.MaxFamilyRows = 30
			ctx := context.Background()
			full, err := BuildTables(ctx, ds, cfg)
			if err != nil {
				t.Fatal(err)
			}
			tr := newTrainer(cfg)
			w := cfg.Windows()
			set, err := tr.newStreamSet(w)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.buildFeatures(ctx, ds, w, nil, func(p *features.Table) error { return set.add(ctx, p, nil) }); err != nil {
				t.Fatal(err)
			}
			s, err := set.finish(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s.TrainRows != len(full.Train) || s.TrainFailures != full.TrainFailures || s.ValidFailures != full.ValidFailures {
				t.Fatalf("streamed %d training rows (%d failed), %d failed validation rows; whole tables %d (%d), %d",
					s.TrainRows, s.TrainFailures, s.ValidFailures, len(full.Train), full.TrainFailures, full.ValidFailures)
			}
			if !slices.Equal(s.ValidX.Data, full.ValidX.Data) || !slices.Equal(s.ValidLabels, full.ValidLabels) {
				t.Fatal("streamed validation rows differ from the whole table's")
			}
			if from, last := full.TrainFrom, full.TrainLast; s.TrainFrom != from || s.TrainLast != last {
				t.Fatalf("training window %d..%d, want %d..%d", s.TrainFrom, s.TrainLast, from, last)
			}
			if !maps2Equal(s.LikelyCodes, full.LikelyCodes) {
				t.Fatalf("likely codes %v, want %v", s.LikelyCodes, full.LikelyCodes)
			}
			for name, set := range map[string]*Tables{"streamed": s, "whole": full} {
				if got, want := familyWeights(set), familyCounts(full); !slices.Equal(got, want) {
					t.Errorf("%s: family rows weigh %v, want the failed training rows of each family %v", name, got, want)
				}
			}
			if s.FamilyX.Rows != full.FamilyX.Rows || s.Sample.Rows != min(full.TrainX.Rows, max(cfg.LogRegRows, cfg.BaselineRows)) {
				t.Fatalf("family rows %d (want %d), baseline sample %d", s.FamilyX.Rows, full.FamilyX.Rows, s.Sample.Rows)
			}
			// The backtest table waits for a champion comparison.
			if s.Backtest != nil {
				t.Fatal("the backtest table is built before a comparison needs it")
			}
			bt, btTrain, btValid := s.backtestSet()
			if len(btTrain) != s.Sample.Rows || len(btValid) != s.ValidX.Rows || bt.Rows != s.Sample.Rows+s.ValidX.Rows ||
				!slices.Equal(bt.X[len(bt.X)-len(s.ValidX.Data):], s.ValidX.Data) || !slices.IsSorted(bt.Time[:s.Sample.Rows]) {
				t.Fatalf("backtest table of %d rows (%d training, %d validation); want the %d sampled rows in time order and the %d validation rows",
					bt.Rows, len(btTrain), len(btValid), s.Sample.Rows, s.ValidX.Rows)
			}
			b := s.Binned
			failures := 0
			for i, y := range b.Y {
				if y == 1 {
					failures++
					if b.Weight[i] != 1 {
						t.Fatalf("failed row %d weighs %v, want 1", i, b.Weight[i])
					}
				}
			}
			if failures != s.TrainFailures {
				t.Fatalf("%d failures kept of %d", failures, s.TrainFailures)
			}
			if !tc.sampled {
				if s.Sampling != nil || b.X.Rows != len(full.Train) {
					t.Fatalf("sampling %+v, %d rows binned of %d", s.Sampling, b.X.Rows, len(full.Train))
				}
				// The model Fit trains on the whole float table coded at
				// once, byte for byte: chunks change nothing.
				p := tr.gbdtParams()
				p.EarlyStoppingRounds = 0
				whole, err := gbdt.NewCodedBuilder(p, full.TrainX.Cols)
				if err != nil {
					t.Fatal(err)
				}
				cols := make([][]float32, full.TrainX.Cols)
				for f := range cols {
					for r := range full.TrainX.Rows {
						cols[f] = append(cols[f], full.TrainX.At(r, f))
					}
				}
				if err := whole.AppendColumns(cols, nil, boolsToY(full.TrainLabels)); err != nil {
					t.Fatal(err)
				}
				wd, err := whole.Dataset(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				want, err := gbdt.Fit(ctx, p, wd, nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := gbdt.Fit(ctx, p, *b, nil)
				if err != nil {
					t.Fatal(err)
				}
				wb, _ := want.MarshalBinary()
				gb, _ := got.MarshalBinary()
				if !bytes.Equal(wb, gb) {
					t.Fatal("the model trained on the streamed set differs from the one trained on the whole table")
				}
				return
			}
			sp := s.Sampling
			if sp == nil || !(sp.SuccessShare < 1) || sp.RowsKept != b.X.Rows || b.X.Rows > tc.maxRows || sp.FailuresKept != failures {
				t.Fatalf("sampling %+v with %d rows binned, target %d", sp, b.X.Rows, tc.maxRows)
			}
			// The share is a power of two, chosen by row count: the
			// largest one that fits the target.
			if e := math.Log2(sp.SuccessShare); e != math.Trunc(e) {
				t.Fatalf("share %v is not a power of two", sp.SuccessShare)
			}
			successes := s.TrainRows - s.TrainFailures
			if float64(failures)+2*sp.SuccessShare*float64(successes) < 0.8*float64(tc.maxRows) {
				t.Fatalf("share %v is smaller than the target %d needs (%d failures, %d successes)", sp.SuccessShare, tc.maxRows, failures, successes)
			}
			for i, y := range b.Y {
				if y == 0 && b.Weight[i] != float32(1/sp.SuccessShare) {
					t.Fatalf("kept success %d weighs %v, want %v", i, b.Weight[i], 1/sp.SuccessShare)
				}
			}
		})
	}
}

func maps2Equal(a, b map[string]int32) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestTrainRecordsSampling checks that a down-sampled run stores its
// share in the model metadata, and a run that keeps every row stores
// none.
func TestTrainRecordsSampling(t *testing.T) {
	hist := history(t)
	for _, tc := range []struct {
		name     string
		maxRows  int
		want     bool
		maxValid int
	}{
		{"every row", 0, false, 0},
		{"down-sampled", 1500, true, DefaultMaxValidRows},
		{"validation sampled", 0, false, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := t.TempDir()
			cfg := noBaselines(hist, reg)
			cfg.MaxTrainRows, cfg.MaxValidRows = tc.maxRows, tc.maxValid
			if code, log := runTrain(t, cfg); code != 0 {
				t.Fatalf("exit %d\n%s", code, log)
			}
			_, dir, err := registry.Open(reg).Current()
			if err != nil {
				t.Fatal(err)
			}
			md := readMetadata(t, dir)
			if (md.Sampling != nil) != tc.want {
				t.Fatalf("sampling %+v, want set: %v", md.Sampling, tc.want)
			}
			if sp := md.Sampling; sp != nil && (sp.SuccessWeight != 1/sp.SuccessShare || sp.RowsKept > tc.maxRows || sp.RowsBefore != md.Rows.Train) {
				t.Fatalf("sampling %+v, rows %+v", sp, md.Rows)
			}
			vs, ok := md.Extra["validation_sampling"].(map[string]any)
			if sampled := tc.maxValid == 300; ok != sampled || ok && (vs["rows_kept"] != float64(md.Rows.Valid) || md.Rows.Valid > tc.maxValid) {
				t.Fatalf("validation_sampling %v (want one: %v), validation rows %d", md.Extra["validation_sampling"], sampled, md.Rows.Valid)
			}
		})
	}
}

// TestStreamedValidationSample checks the validation cap: above it the
// validation rows are a seeded uniform sample of the window (a power of
// two share, at most the cap, the rows themselves in time order with
// their labels), the same on every build; at or under it, every row.
func TestStreamedValidationSample(t *testing.T) {
	ds, err := pipeline.OpenDataset(history(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := fastConfig("", "unused")
	full, err := BuildTables(ctx, ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := len(full.Valid)
	build := func(maxValid int) *Tables {
		t.Helper()
		c := cfg
		c.MaxValidRows = maxValid
		tr := newTrainer(c)
		w := c.Windows()
		set, err := tr.newStreamSet(w)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.buildFeatures(ctx, ds, w, nil, func(p *features.Table) error { return set.add(ctx, p, nil) }); err != nil {
			t.Fatal(err)
		}
		s, err := set.finish(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := build(n); s.ValidSampling != nil || len(s.Valid) != n {
		t.Fatalf("cap = the window's %d rows: sampling %+v, %d rows", n, s.ValidSampling, len(s.Valid))
	}
	maxValid := n / 3
	a, b := build(maxValid), build(maxValid)
	vs := a.ValidSampling
	if vs == nil || vs.RowsBefore != n || vs.RowsKept != len(a.Valid) || vs.RowsKept > maxValid || vs.RowsKept < maxValid/4 {
		t.Fatalf("sampling %+v with %d rows, want at most %d of %d", vs, len(a.Valid), maxValid, n)
	}
	if e := math.Log2(vs.Share); e != math.Trunc(e) || vs.Share >= 1 {
		t.Fatalf("share %v is not a power of two below 1", vs.Share)
	}
	if !slices.Equal(a.ValidX.Data, b.ValidX.Data) || !slices.Equal(a.ValidLabels, b.ValidLabels) {
		t.Fatal("two builds with one seed sampled different validation rows")
	}
	// Each sampled row is a row of the window, in order, with its label.
	nf := full.ValidX.Cols
	j := 0
	for k := range len(a.Valid) {
		row := a.ValidX.Data[k*nf : (k+1)*nf]
		for j < n && (full.Table.Time[full.Valid[j]] != a.Table.Time[k] || !slices.Equal(full.ValidX.Data[j*nf:(j+1)*nf], row)) {
			j++
		}
		if j == n {
			t.Fatalf("sampled validation row %d is not a row of the window after the previous one", k)
		}
		if a.ValidLabels[k] != full.ValidLabels[j] {
			t.Fatalf("sampled validation row %d has label %v, the window's %v", k, a.ValidLabels[k], full.ValidLabels[j])
		}
		j++
	}
}

// TestPresampleKeepsTheSameRows: lowering the share from the window's
// first eighth bins fewer rows on the way, and keeps the rows the final
// share keeps without it, byte for byte.
func TestPresampleKeepsTheSameRows(t *testing.T) {
	ds, err := pipeline.OpenDataset(history(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := fastConfig("", "unused")
	cfg.MaxTrainRows = 700 // of 1728 rows, 480 failed: a share of 1/8
	build := func(presample bool) (*Tables, *streamSet) {
		t.Helper()
		tr := newTrainer(cfg)
		w := cfg.Windows()
		set, err := tr.newStreamSet(w)
		if err != nil {
			t.Fatal(err)
		}
		set.presampled = !presample
		// Chunks of 50 rows: the share can change between them.
		if _, err := tr.buildFeatures(ctx, ds, w, nil, func(p *features.Table) error {
			for lo := 0; lo < p.Rows; lo += 50 {
				var rows []int
				for i := lo; i < min(lo+50, p.Rows); i++ {
					rows = append(rows, i)
				}
				if err := set.add(ctx, p.SelectRows(rows), nil); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		s, err := set.finish(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s, set
	}
	with, ws := build(true)
	without, wos := build(false)
	t.Logf("sampling %+v, coded %d and %d", *with.Sampling, ws.codedRows, wos.codedRows)
	if ws.codedRows >= wos.codedRows {
		t.Fatalf("coded %d rows with the estimated share, %d without: want fewer", ws.codedRows, wos.codedRows)
	}
	if *with.Sampling != *without.Sampling {
		t.Fatalf("sampling with the estimate %+v, without %+v", *with.Sampling, *without.Sampling)
	}
	a, b := with.Binned, without.Binned
	if a.X.Rows != b.X.Rows || !slices.Equal(a.Weight, b.Weight) || !slices.Equal(a.Y, b.Y) {
		t.Fatalf("binned %d rows with the estimate, %d without, or other weights or labels", a.X.Rows, b.X.Rows)
	}
	p := newTrainer(cfg).gbdtParams()
	p.EarlyStoppingRounds, p.NumRounds = 0, 5
	ma, _ := gbdt.Fit(ctx, p, *a, nil)
	mb, _ := gbdt.Fit(ctx, p, *b, nil)
	wa, _ := ma.MarshalBinary()
	wb, _ := mb.MarshalBinary()
	if !bytes.Equal(wa, wb) {
		t.Fatal("the model trained with the estimated share differs")
	}
}

// TestStreamSetSkipsRuledRows: a part handed on with the rows a rule
// decides marked gives the set that part without them gives, row for row,
// and the rule filter counts them as dropping them does.
func TestStreamSetSkipsRuledRows(t *testing.T) {
	ctx := context.Background()
	s, _ := mechanismValidation(1000, 4)
	part := s.Table
	cfg := fastConfig("", "unused")
	cfg.MaxTrainRows = 400 // down-sampled: the draws follow the rows kept
	start := time.UnixMicro(part.Time[0]).UTC()
	w := cfg.Windows()
	w.From, w.TrainTo, w.ValidFrom, w.AsOf = start, start.Add(600*time.Second), start.Add(700*time.Second), start.Add(time.Hour)
	build := func(marked bool) (*Tables, *ruleFilter) {
		t.Helper()
		tr := newTrainer(cfg)
		set, err := tr.newStreamSet(w)
		if err != nil {
			t.Fatal(err)
		}
		if marked {
			ruled := tr.rules.decide(part)
			if ruled == nil {
				t.Fatal("no row of the table is decided by a rule")
			}
			err = set.add(ctx, part, ruled)
		} else {
			err = set.add(ctx, tr.rules.drop(part), nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		tabs, err := set.finish(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tabs, tr.rules
	}
	got, gotRules := build(true)
	want, wantRules := build(false)
	if gotRules.total() == 0 || gotRules.String() != wantRules.String() {
		t.Fatalf("rules counted %q, dropping counts %q", gotRules.String(), wantRules.String())
	}
	if got.TrainRows != want.TrainRows || got.TrainFailures != want.TrainFailures || got.TrainRows == 0 ||
		!slices.Equal(got.ValidX.Data, want.ValidX.Data) || !slices.Equal(got.ValidLabels, want.ValidLabels) || len(got.ValidLabels) == 0 {
		t.Fatalf("marked: %d training rows (%d failed), %d validation rows; dropped: %d (%d), %d",
			got.TrainRows, got.TrainFailures, len(got.ValidLabels), want.TrainRows, want.TrainFailures, len(want.ValidLabels))
	}
	a, b := got.Binned, want.Binned
	if a.X.Rows != b.X.Rows || !slices.Equal(a.Y, b.Y) || !slices.Equal(a.Weight, b.Weight) {
		t.Fatalf("binned %d rows marked, %d dropped, or other labels or weights", a.X.Rows, b.X.Rows)
	}
}
