package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/evaluate"
	"github.com/failcast/failcast/models/gbdt"
	"github.com/failcast/failcast/models/metrics"
	"github.com/failcast/failcast/models/registry"
	"github.com/failcast/failcast/pipeline"
)

// lockOwner is written into the registry lock.
const lockOwner = "failcast train"

// trainer runs one training job.
type trainer struct {
	cfg      Config
	log      *slog.Logger
	console  *console // stderr, shared by the log and the progress bars
	progress bool
	now      func() time.Time
	// beforePromote, when set, runs after the new version is committed and
	// before the current symlink moves; tests use it to simulate a crash.
	beforePromote func() error
}

// result is what a finished run reports.
type result struct {
	Version           string
	VersionDir        string
	Promoted, Forced  bool
	Reason            string
	TrainRows         int
	ValidRows         int
	ValidPRAUC        float64
	ChampionVersion   string
	ChampionPRAUC     float64 // NaN when not evaluated
	ChampionEvaluated bool
	Paired            *metrics.PairedAP // bootstrap of challenger - champion PR-AUC; nil when not evaluated
	Pruned            []string
}

// windows are the run's time windows, in Unix microseconds.
type windows struct {
	asOf       time.Time
	from       int64 // first send time used (training start)
	trainTo    int64 // training sends are before this (validFrom - gap)
	validFrom  int64 // validation sends are at or after this, and before asOf
	to         int64 // asOf
	gap        time.Duration
	trainDays  int
	validDays  int
	featureCfg features.Config
}

func (t *trainer) windows() windows {
	asOf := time.Time(t.cfg.AsOf)
	if asOf.IsZero() {
		asOf = t.now().UTC().Truncate(time.Second)
	}
	day := 24 * time.Hour
	gap := time.Duration(t.cfg.Lead)
	validFrom := asOf.Add(-time.Duration(t.cfg.ValidDays) * day)
	from := validFrom.Add(-gap - time.Duration(t.cfg.TrainDays)*day)
	fc := features.DefaultConfig()
	fc.Lead = time.Duration(t.cfg.Lead)
	fc.Refresh = time.Duration(t.cfg.Refresh)
	return windows{
		asOf: asOf, from: from.UnixMicro(), trainTo: validFrom.Add(-gap).UnixMicro(), validFrom: validFrom.UnixMicro(),
		to: asOf.UnixMicro(), gap: gap, trainDays: t.cfg.TrainDays, validDays: t.cfg.ValidDays, featureCfg: fc,
	}
}

// run trains, evaluates, writes a new version and promotes it if it is
// good enough. On error nothing visible in the registry has changed.
func (t *trainer) run(ctx context.Context) (*result, error) {
	cfg := t.cfg
	w := t.windows()
	started := t.now()
	t.log.Info("training run starting", "history", cfg.History, "registry", cfg.Registry, "as_of", w.asOf.Format(time.RFC3339),
		"train_days", cfg.TrainDays, "valid_days", cfg.ValidDays, "lead", cfg.Lead.String(), "seed", cfg.Seed)

	reg := registry.Open(cfg.Registry, registry.WithLogger(t.log))
	lock, err := reg.Lock(ctx, lockOwner, time.Duration(cfg.Wait))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := lock.Unlock(); err != nil {
			t.log.Warn("releasing the registry lock", "err", err)
		}
	}()
	if _, err := reg.CleanTemp(); err != nil {
		return nil, err
	}

	// 1. Data.
	ds, err := pipeline.OpenDataset(cfg.History)
	if err != nil {
		return nil, asDataError(fmt.Errorf("history: %w", err))
	}
	var featuresOut *features.ParquetWriter
	if cfg.FeaturesOut != "" {
		if featuresOut, err = features.NewParquetWriter(cfg.FeaturesOut, features.Names()); err != nil {
			return nil, fmt.Errorf("--features-out: %w", err)
		}
		defer featuresOut.Abort() // a failed run leaves an earlier file as it was
	}
	tab, err := t.buildFeatures(ctx, ds, w, featuresOut)
	if err != nil {
		return nil, err
	}
	bar := t.console.newBar(t.progress, 5, "fail model", "")
	defer bar.finish()
	split, err := t.split(tab, w)
	if err != nil {
		return nil, err
	}
	if featuresOut != nil {
		if err := featuresOut.Close(); err != nil {
			return nil, fmt.Errorf("--features-out: %w", err)
		}
		t.log.Info("wrote the training feature table", "path", cfg.FeaturesOut, "rows", featuresOut.Rows())
	}

	// 2. Candidates.
	cands, err := t.fitCandidates(ctx, tab, split, bar)
	if err != nil {
		return nil, err
	}
	main := cands.main
	res := &result{TrainRows: len(split.train), ValidRows: len(split.valid), ValidPRAUC: main.summary.PRAUC, ChampionPRAUC: math.NaN()}

	// 3. Champion comparison on the same validation rows.
	bar.step("champion")
	t.compare(reg, split, main.valid, res)

	// 4. Write the version (a temporary directory until committed).
	bar.step("write")
	res.Version = reg.NewVersionName(started)
	stage, err := reg.Stage(res.Version)
	if err != nil {
		return nil, err
	}
	defer stage.Abort()
	thresholds := t.thresholds(main.valid, split.validLabels)
	meta := t.metadata(res, w, tab, split, cands, thresholds, started)
	// artifact.Write creates the directory itself, atomically.
	if err := os.Remove(stage.Dir()); err != nil {
		return nil, fmt.Errorf("prepare the staging directory: %w", err)
	}
	if err := bundle.Save(stage.Dir(), meta, cands.fail, cands.family); err != nil {
		return nil, err
	}
	if err := t.writeReport(stage.Dir(), res, w, tab, split, cands, thresholds, started); err != nil {
		return nil, err
	}
	dir, err := stage.Commit()
	if err != nil {
		return nil, err
	}
	res.VersionDir = dir

	// 5. Promote, prune.
	bar.step("promote")
	if res.Promoted {
		if t.beforePromote != nil {
			if err := t.beforePromote(); err != nil {
				return nil, err
			}
		}
		if err := reg.Promote(res.Version); err != nil {
			return nil, err
		}
	}
	pruned, err := reg.Prune(cfg.Keep)
	if err != nil {
		t.log.Warn("pruning old versions", "err", err)
	}
	if len(pruned) > 0 {
		t.log.Info("pruned old versions", "versions", pruned, "keep", cfg.Keep)
	}
	res.Pruned = pruned
	return res, nil
}

// buildFeatures builds the feature table of all sends in [from, asOf) and
// checks that there is data at all. With out, it also writes the rows to
// out as they are built (the caller closes it).
func (t *trainer) buildFeatures(ctx context.Context, ds *pipeline.Dataset, w windows, out *features.ParquetWriter) (*features.Table, error) {
	minT, maxT, rows, err := ds.TimeRange(ctx)
	if err != nil {
		return nil, asDataError(fmt.Errorf("history %s: %w", t.cfg.History, err))
	}
	if rows == 0 {
		return nil, dataErrorf("history %s has no rows", t.cfg.History)
	}
	if minT >= w.to {
		return nil, dataErrorf("history %s starts at %s, after --as-of %s: the training window is empty",
			t.cfg.History, evaluate.FormatMicros(minT), w.asOf.Format(time.RFC3339))
	}
	if maxT < w.validFrom {
		return nil, dataErrorf("history %s ends at %s, before the validation window [%s, %s): export more recent history or set --as-of",
			t.cfg.History, evaluate.FormatMicros(maxT), evaluate.FormatMicros(w.validFrom), evaluate.FormatMicros(w.to))
	}
	from := w.from
	if warm := minT + time.Duration(t.cfg.Warmup).Microseconds(); warm > from {
		from = warm
		t.log.Info("the first sends of the history only warm the feature state", "warmup", time.Duration(t.cfg.Warmup).String(), "examples_from", evaluate.FormatMicros(from))
	}
	if from >= w.trainTo {
		return nil, dataErrorf("history %s starts at %s: after --warmup %s no training window is left before %s",
			t.cfg.History, evaluate.FormatMicros(minT), time.Duration(t.cfg.Warmup), evaluate.FormatMicros(w.trainTo))
	}
	t.log.Info("building features", "from", evaluate.FormatMicros(from), "to", evaluate.FormatMicros(w.to), "history_rows", rows)
	began := time.Now()
	fbar := t.console.newBar(t.progress, rows, "features", "rows")
	src := &historySource{ds: ds, asOf: w.to, onBatch: fbar.add}
	var parts []*features.Table
	err = features.BuildTrainingChunks(ctx, src, w.featureCfg, from, w.to, func(part *features.Table) error {
		if out != nil {
			if err := out.Write(part); err != nil {
				return &featuresOutError{err}
			}
		}
		parts = append(parts, part)
		return nil
	})
	fbar.finish()
	if err != nil {
		var se *pipeline.SchemaError
		var fe *featuresOutError
		switch {
		case errors.As(err, &fe):
			return nil, fmt.Errorf("--features-out: %w", fe.err)
		case errors.As(err, &se) || errors.Is(err, os.ErrNotExist):
			return nil, asDataError(fmt.Errorf("history: %w", err))
		}
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, asDataError(fmt.Errorf("building features from %s: %w", t.cfg.History, err))
	}
	tab := features.ConcatTables(parts)
	t.log.Info("features built", "rows", tab.Rows, "features", len(tab.Names), "history_events_read", src.scanned.Load(), "seconds", time.Since(began).Round(time.Millisecond).Seconds())
	if tab.Rows == 0 {
		return nil, dataErrorf("no sends in the training window [%s, %s) of %s", evaluate.FormatMicros(w.from), evaluate.FormatMicros(w.to), t.cfg.History)
	}
	return tab, nil
}

// featuresOutError is a failure writing --features-out during the
// feature build, told apart from a failure reading the history.
type featuresOutError struct{ err error }

func (e *featuresOutError) Error() string { return e.err.Error() }

// splitRows is the time-ordered split of a table.
type splitRows struct {
	train, valid             []int
	trainX, validX           models.Matrix
	trainLabels, validLabels []bool
	trainFailures            int
	validFailures            int
}

func (t *trainer) split(tab *features.Table, w windows) (*splitRows, error) {
	train, valid, err := evaluate.TimeSplit(tab.Time, w.validFrom, w.gap)
	if err != nil {
		return nil, asDataError(fmt.Errorf("time split at %s: %w", evaluate.FormatMicros(w.validFrom), err))
	}
	X := models.Matrix{Rows: tab.Rows, Cols: len(tab.Names), Data: tab.X}
	s := &splitRows{train: train, valid: valid, trainX: selectRows(X, train), validX: selectRows(X, valid)}
	s.trainLabels = pick(tab.Failed, train)
	s.validLabels = pick(tab.Failed, valid)
	s.trainFailures, s.validFailures = count(s.trainLabels), count(s.validLabels)
	t.log.Info("time split", "train_rows", len(train), "train_failures", s.trainFailures,
		"valid_rows", len(valid), "valid_failures", s.validFailures,
		"valid_from", evaluate.FormatMicros(w.validFrom), "gap", w.gap.String())
	switch {
	case len(train) < t.cfg.MinRows:
		return nil, dataErrorf("only %d training rows before %s, want at least --min-rows %d", len(train), evaluate.FormatMicros(w.trainTo), t.cfg.MinRows)
	case s.trainFailures == 0:
		return nil, dataErrorf("no failed sends among the %d training rows: nothing to learn (is the history missing its failed statuses?)", len(train))
	case s.trainFailures < t.cfg.MinFailures:
		return nil, dataErrorf("only %d failed sends among the %d training rows, want at least --min-failures %d", s.trainFailures, len(train), t.cfg.MinFailures)
	case s.validFailures == 0:
		return nil, dataErrorf("no failed sends among the %d validation rows from %s: PR-AUC is undefined; widen --valid-days", len(valid), evaluate.FormatMicros(w.validFrom))
	case s.validFailures == len(valid):
		return nil, dataErrorf("every one of the %d validation rows failed: the validation window cannot rank models", len(valid))
	}
	return s, nil
}

// selectRows returns the given rows of X: a view of X when they are one
// ascending run, as a time split of a table in time order is (no copy of
// what may be gigabytes), else a copy.
func selectRows(X models.Matrix, rows []int) models.Matrix {
	if n := len(rows); n > 0 && rows[n-1]-rows[0] == n-1 {
		return X.Slice(rows[0], rows[n-1]+1)
	}
	return X.SelectRows(rows)
}

func pick[T any](v []T, rows []int) []T {
	out := make([]T, len(rows))
	for k, i := range rows {
		out[k] = v[i]
	}
	return out
}

func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// thresholds chooses the stored decision thresholds on validation:
// "high" at the target precision, "medium" at the alert budget (never
// above "high").
func (t *trainer) thresholds(scores []float64, labels []bool) map[string]metrics.Threshold {
	high, err := metrics.ThresholdForPrecision(scores, labels, t.cfg.TargetPrecision)
	if err != nil {
		t.log.Warn("no threshold reaches the target precision on validation; the high threshold flags nothing",
			"target_precision", t.cfg.TargetPrecision, "err", err)
	}
	medium, err := metrics.ThresholdForBudget(scores, labels, t.cfg.AlertBudget)
	if err != nil {
		t.log.Warn("alert budget threshold", "alert_budget", t.cfg.AlertBudget, "err", err)
	}
	if medium.Value > high.Value {
		medium = high
		medium.Rule = metrics.RuleBudget
		medium.Target = t.cfg.AlertBudget
	}
	return map[string]metrics.Threshold{bundle.ThresholdHigh: high, bundle.ThresholdMedium: medium}
}

// gbdtParams returns the GBDT parameters from the flags.
func (t *trainer) gbdtParams() gbdt.Params {
	p := gbdt.DefaultParams()
	p.NumRounds = t.cfg.Rounds
	p.MaxDepth = t.cfg.Depth
	p.LearningRate = t.cfg.LearningRate
	p.EarlyStoppingRounds = t.cfg.EarlyStop
	p.Seed = t.cfg.Seed
	return p
}
