package training

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/evaluate"
	"github.com/failcast/failcast/pipeline"
)

// Windows are a run's time windows. Validation sends are the ValidDays
// before AsOf; training sends are the TrainDays before ValidFrom minus
// Gap (the lead), so that no training label can be seen by a validation
// row's features.
type Windows struct {
	AsOf      time.Time       // nothing at or after it is read
	From      time.Time       // first training send (before any warm-up)
	TrainTo   time.Time       // training sends are before this: ValidFrom - Gap
	ValidFrom time.Time       // validation sends are at or after this, and before AsOf
	Gap       time.Duration   // the lead
	Features  features.Config // the feature engine's config: the run's Lead and Refresh
}

// Windows returns the windows of a run with this config. A zero AsOf is
// Now, truncated to the second.
func (c Config) Windows() Windows {
	asOf := c.AsOf.UTC()
	if c.AsOf.IsZero() {
		asOf = c.now().UTC().Truncate(time.Second)
	}
	day := 24 * time.Hour
	validFrom := asOf.Add(-time.Duration(c.ValidDays) * day)
	fc := features.DefaultConfig()
	fc.Lead = c.Lead
	fc.Refresh = c.Refresh
	return Windows{
		AsOf:      asOf,
		From:      validFrom.Add(-c.Lead - time.Duration(c.TrainDays)*day),
		TrainTo:   validFrom.Add(-c.Lead),
		ValidFrom: validFrom,
		Gap:       c.Lead,
		Features:  fc,
	}
}

// Tables are the time-split feature tables of a run: the rows of Table in
// the training window and those in the validation window, with their
// matrices and labels (failed or not).
type Tables struct {
	Windows Windows
	Table   *features.Table // every send in [From (after warm-up), AsOf), in time order

	Train, Valid                 []int         // rows of Table
	TrainX, ValidX               models.Matrix // those rows' features (views of Table when they are contiguous)
	TrainLabels, ValidLabels     []bool
	TrainFailures, ValidFailures int
}

// BuildTables builds the features of every send of history in the
// windows of cfg and splits them in time, as Run does. It is the
// label-leakage guard: every scan of history stops before as-of, so no
// event at or after it (label or feature) is read. A history that knows
// its time range (a *pipeline.Dataset) is checked first, and cfg.Warmup
// is applied to it. Too few rows or failures (cfg.MinRows,
// cfg.MinFailures), or a validation window that cannot rank models, are
// input errors (exitcode.Input). cfg.History, cfg.Registry and the output
// settings are not used.
func BuildTables(ctx context.Context, history features.Source, cfg Config) (*Tables, error) {
	if err := cfg.validateSettings(); err != nil {
		return nil, err
	}
	t := newTrainer(cfg)
	w := cfg.Windows()
	tab, err := t.buildFeatures(ctx, history, w, nil)
	if err != nil {
		return nil, err
	}
	return t.split(tab, w)
}

// historyName names the history in messages.
func (t *trainer) historyName() string {
	if t.cfg.History == "" {
		return "the history"
	}
	return t.cfg.History
}

// buildFeatures builds the feature table of all sends in [from, asOf) and
// checks that there is data at all. With out, it also writes the rows to
// out as they are built (the caller closes it).
func (t *trainer) buildFeatures(ctx context.Context, history features.Source, w Windows, out *features.ParquetWriter) (*features.Table, error) {
	name := t.historyName()
	asOf, validFrom, trainTo := w.AsOf.UnixMicro(), w.ValidFrom.UnixMicro(), w.TrainTo.UnixMicro()
	from := w.From.UnixMicro()
	var rows int64
	if tr, ok := history.(timeRanger); ok {
		minT, maxT, n, err := tr.TimeRange(ctx)
		if err != nil {
			return nil, exitcode.AsInput(fmt.Errorf("history %s: %w", name, err))
		}
		rows = n
		if rows == 0 {
			return nil, exitcode.Inputf("history %s has no rows", name)
		}
		if minT >= asOf {
			return nil, exitcode.Inputf("history %s starts at %s, after --as-of %s: the training window is empty",
				name, evaluate.FormatMicros(minT), w.AsOf.Format(time.RFC3339))
		}
		if maxT < validFrom {
			return nil, exitcode.Inputf("history %s ends at %s, before the validation window [%s, %s): export more recent history or set --as-of",
				name, evaluate.FormatMicros(maxT), evaluate.FormatMicros(validFrom), evaluate.FormatMicros(asOf))
		}
		if warm := minT + t.cfg.Warmup.Microseconds(); warm > from {
			from = warm
			t.log.Info("the first sends of the history only warm the feature state", "warmup", t.cfg.Warmup.String(), "examples_from", evaluate.FormatMicros(from))
		}
		if from >= trainTo {
			return nil, exitcode.Inputf("history %s starts at %s: after --warmup %s no training window is left before %s",
				name, evaluate.FormatMicros(minT), t.cfg.Warmup, evaluate.FormatMicros(trainTo))
		}
	}
	t.log.Info("building features", "from", evaluate.FormatMicros(from), "to", evaluate.FormatMicros(asOf), "history_rows", rows)
	began := time.Now()
	fbar := t.console.newBar(t.progress && rows > 0, rows, "features", "rows")
	src := &asOfSource{src: history, asOf: asOf, onBatch: fbar.add}
	var parts []*features.Table
	err := features.BuildTrainingChunks(ctx, src, w.Features, from, asOf, func(part *features.Table) error {
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
			return nil, exitcode.AsInput(fmt.Errorf("history: %w", err))
		}
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, exitcode.AsInput(fmt.Errorf("building features from %s: %w", name, err))
	}
	tab := features.ConcatTables(parts)
	t.log.Info("features built", "rows", tab.Rows, "features", len(tab.Names), "history_events_read", src.scanned.Load(), "seconds", time.Since(began).Round(time.Millisecond).Seconds())
	if tab.Rows == 0 {
		return nil, exitcode.Inputf("no sends in the training window [%s, %s) of %s", evaluate.FormatMicros(w.From.UnixMicro()), evaluate.FormatMicros(asOf), name)
	}
	return tab, nil
}

// featuresOutError is a failure writing --features-out during the
// feature build, told apart from a failure reading the history.
type featuresOutError struct{ err error }

func (e *featuresOutError) Error() string { return e.err.Error() }

// split splits tab in time at the validation window and checks that both
// sides can train and rank models.
func (t *trainer) split(tab *features.Table, w Windows) (*Tables, error) {
	validFrom := w.ValidFrom.UnixMicro()
	train, valid, err := evaluate.TimeSplit(tab.Time, validFrom, w.Gap)
	if err != nil {
		return nil, exitcode.AsInput(fmt.Errorf("time split at %s: %w", evaluate.FormatMicros(validFrom), err))
	}
	X := models.Matrix{Rows: tab.Rows, Cols: len(tab.Names), Data: tab.X}
	s := &Tables{Windows: w, Table: tab, Train: train, Valid: valid, TrainX: selectRows(X, train), ValidX: selectRows(X, valid)}
	s.TrainLabels = pick(tab.Failed, train)
	s.ValidLabels = pick(tab.Failed, valid)
	s.TrainFailures, s.ValidFailures = count(s.TrainLabels), count(s.ValidLabels)
	t.log.Info("time split", "train_rows", len(train), "train_failures", s.TrainFailures,
		"valid_rows", len(valid), "valid_failures", s.ValidFailures,
		"valid_from", evaluate.FormatMicros(validFrom), "gap", w.Gap.String())
	switch {
	case len(train) < t.cfg.MinRows:
		return nil, exitcode.Inputf("only %d training rows before %s, want at least --min-rows %d", len(train), evaluate.FormatMicros(w.TrainTo.UnixMicro()), t.cfg.MinRows)
	case s.TrainFailures == 0:
		return nil, exitcode.Inputf("no failed sends among the %d training rows: nothing to learn (is the history missing its failed statuses?)", len(train))
	case s.TrainFailures < t.cfg.MinFailures:
		return nil, exitcode.Inputf("only %d failed sends among the %d training rows, want at least --min-failures %d", s.TrainFailures, len(train), t.cfg.MinFailures)
	case s.ValidFailures == 0:
		return nil, exitcode.Inputf("no failed sends among the %d validation rows from %s: PR-AUC is undefined; widen --valid-days", len(valid), evaluate.FormatMicros(validFrom))
	case s.ValidFailures == len(valid):
		return nil, exitcode.Inputf("every one of the %d validation rows failed: the validation window cannot rank models", len(valid))
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
