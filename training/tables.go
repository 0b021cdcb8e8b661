package training

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/evaluate"
	"github.com/failcast/failcast/models/gbdt"
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
//
// BuildTables fills every field from one table of every send. Run
// streams the feature build instead (buildStreamed), so that the
// training window is never held whole as float values: its Table holds
// the validation rows only, Train, TrainX and TrainLabels stay empty, and
// the failure model trains on Binned.
type Tables struct {
	Windows Windows
	Table   *features.Table // every send in [From (after warm-up), AsOf) no rule decides, in time order; streamed: the validation rows
	// RuleRows counts the sends in the windows a deterministic rule
	// decides (features/mechanism), left out of Table and of the models'
	// rows: scoring decides them by the rule.
	RuleRows int

	Train, Valid                 []int         // rows of Table
	TrainX, ValidX               models.Matrix // those rows' features (views of Table when they are contiguous)
	TrainLabels, ValidLabels     []bool
	TrainFailures, ValidFailures int

	TrainRows            int   // rows in the training window
	TrainFrom, TrainLast int64 // first and last training send, Unix µs

	// Binned, when set, is the failure model's training set: the
	// training window down-sampled (Sampling), coded chunk by chunk and
	// binned over the whole window (gbdt.CodedBuilder).
	// When nil the model trains on TrainX.
	Binned   *gbdt.Dataset
	Sampling *artifact.Sampling // nil: every training row was kept
	// ValidSampling, when set, says that the validation rows are a
	// seeded uniform sample of the validation window (Config.MaxValidRows);
	// nil: they are the whole window.
	ValidSampling *ValidSampling

	// Sample is a seeded uniform sample of the training rows (up to the
	// larger baseline row cap), what the baselines train on; streamed
	// without baselines, it is empty.
	Sample       models.Matrix
	SampleLabels []bool
	// Backtest, for a streamed set, is Sample in time order followed by
	// the validation rows, with the indexes of each part: what the
	// champion comparison's rolling-origin backtest refits on (a
	// whole-table set backtests on Table, Train and Valid). It is built
	// when the comparison first needs it (backtestSet): a run without a
	// comparable champion never holds this second copy of the validation
	// rows.
	Backtest                     *features.Table
	BacktestTrain, BacktestValid []int
	// buildBacktest, when set, fills Backtest (streamed sets).
	buildBacktest func() (*features.Table, []int, []int)
	// FamilyX and FamilyY are the failed training rows the error-family
	// model trains on and their families: of each family a seeded
	// uniform sample of up to Config.MaxFamilyRows rows. FamilyWeight,
	// when some family was sampled, weighs each row by its family's rows
	// over those kept, so that the model's P(family | fail) is the
	// window's own; nil when every failed row was kept.
	FamilyX      models.Matrix
	FamilyY      []float32
	FamilyWeight []float32
	// LikelyCodes maps a family name to its most frequent error code
	// among all failed training rows.
	LikelyCodes map[string]int32
}

// ValidSampling is how a streamed run sampled its validation window:
// every row kept while its seeded draw is below Share, a power of two
// halved until at most MaxRows were kept. The sample is uniform (not by
// outcome), so metrics, calibration and thresholds on it estimate the
// window's own without bias.
type ValidSampling struct {
	Share      float64 `json:"share"`       // share of the window's rows kept, in (0, 1)
	MaxRows    int     `json:"max_rows"`    // the cap (Config.MaxValidRows)
	RowsBefore int     `json:"rows_before"` // rows in the validation window
	RowsKept   int     `json:"rows_kept"`   // rows validated on
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
	var parts []*features.Table
	rows, err := t.buildFeatures(ctx, history, w, nil, func(part *features.Table) error {
		parts = append(parts, part)
		return nil
	})
	if err != nil {
		return nil, err
	}
	tab := features.ConcatTables(parts)
	if rows != tab.Rows {
		return nil, fmt.Errorf("training: %d rows built, %d joined", rows, tab.Rows)
	}
	return t.split(tab, w)
}

// buildStreamed builds the features of every send of history in the
// windows w and splits them in time as they are built: the training rows
// are down-sampled (Config.MaxTrainRows) and coded chunk by chunk,
// through Arrow record batches, into the failure model's training set,
// never held whole as float values; the validation rows are kept whole.
// With out, every row is also written to out as it is built.
func (t *trainer) buildStreamed(ctx context.Context, history features.Source, w Windows, out *features.ParquetWriter) (*Tables, error) {
	set, err := t.newStreamSet(w)
	if err != nil {
		return nil, err
	}
	// The set takes the chunks on a goroutine of its own: sampling and
	// binning them then runs beside the feature build's classifier, which
	// hands the chunks on, instead of after it. Chunks keep their order,
	// so the set is the same as one built inline.
	h := startHandOff(handOffDepth, func(part *features.Table) error {
		err := set.add(ctx, part, t.rules.decide(part))
		features.RecycleFeatures(part) // the set copied what it keeps
		return err
	})
	_, err = t.buildFeatures(ctx, history, w, out, h.send)
	if cerr := h.close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	tabs, err := set.finish(ctx)
	if err != nil {
		return nil, err
	}
	tabs.RuleRows = t.rules.total()
	if err := t.checkSplit(tabs); err != nil {
		return nil, err
	}
	return tabs, nil
}

// historyName names the history in messages.
func (t *trainer) historyName() string {
	if t.cfg.History == "" {
		return "the history"
	}
	return t.cfg.History
}

// buildFeatures builds the features of all sends in [from, asOf), hands
// them to fn chunk by chunk, in time order, and checks that there is
// data at all; it returns the number of rows built. With out, it also
// writes the rows to out as they are built (the caller closes it).
func (t *trainer) buildFeatures(ctx context.Context, history features.Source, w Windows, out *features.ParquetWriter, fn func(*features.Table) error) (int, error) {
	name := t.historyName()
	asOf, validFrom, trainTo := w.AsOf.UnixMicro(), w.ValidFrom.UnixMicro(), w.TrainTo.UnixMicro()
	from := w.From.UnixMicro()
	var rows int64
	if tr, ok := history.(timeRanger); ok {
		minT, maxT, n, err := tr.TimeRange(ctx)
		if err != nil {
			return 0, exitcode.AsInput(fmt.Errorf("history %s: %w", name, err))
		}
		rows = n
		if rows == 0 {
			return 0, exitcode.Inputf("history %s has no rows", name)
		}
		if minT >= asOf {
			return 0, exitcode.Inputf("history %s starts at %s, after --as-of %s: the training window is empty",
				name, evaluate.FormatMicros(minT), w.AsOf.Format(time.RFC3339))
		}
		if maxT < validFrom {
			return 0, exitcode.Inputf("history %s ends at %s, before the validation window [%s, %s): export more recent history or set --as-of",
				name, evaluate.FormatMicros(maxT), evaluate.FormatMicros(validFrom), evaluate.FormatMicros(asOf))
		}
		if warm := minT + t.cfg.Warmup.Microseconds(); warm > from {
			from = warm
			t.log.Info("the first sends of the history only warm the feature state", "warmup", t.cfg.Warmup.String(), "examples_from", evaluate.FormatMicros(from))
		}
		if from >= trainTo {
			return 0, exitcode.Inputf("history %s starts at %s: after --warmup %s no training window is left before %s",
				name, evaluate.FormatMicros(minT), t.cfg.Warmup, evaluate.FormatMicros(trainTo))
		}
	}
	t.log.Info("building features", "from", evaluate.FormatMicros(from), "to", evaluate.FormatMicros(asOf), "history_rows", rows)
	began := time.Now()
	fbar := t.console.newBar(t.progress && rows > 0, rows, "features", "rows")
	src := &asOfSource{src: history, asOf: asOf, onBatch: fbar.add}
	built := 0
	err := features.BuildTrainingChunks(ctx, src, w.Features, from, asOf, func(part *features.Table) error {
		if out != nil {
			if err := out.Write(part); err != nil {
				return &featuresOutError{err}
			}
		}
		built += part.Rows
		if err := fn(part); err != nil {
			return &consumerError{err}
		}
		return nil
	})
	fbar.finish()
	if err != nil {
		var se *pipeline.SchemaError
		var fe *featuresOutError
		var ce *consumerError
		switch {
		case errors.As(err, &fe):
			return 0, fmt.Errorf("--features-out: %w", fe.err)
		case errors.As(err, &ce):
			return 0, ce.err
		case errors.As(err, &se) || errors.Is(err, os.ErrNotExist):
			return 0, exitcode.AsInput(fmt.Errorf("history: %w", err))
		}
		if ctx.Err() != nil {
			return 0, err
		}
		return 0, exitcode.AsInput(fmt.Errorf("building features from %s: %w", name, err))
	}
	t.log.Info("features built", "rows", built, "features", len(features.Names()), "history_events_read", src.scanned.Load(), "seconds", time.Since(began).Round(time.Millisecond).Seconds())
	if built == 0 {
		return 0, exitcode.Inputf("no sends in the training window [%s, %s) of %s", evaluate.FormatMicros(w.From.UnixMicro()), evaluate.FormatMicros(asOf), name)
	}
	return built, nil
}

// featuresOutError is a failure writing --features-out during the
// feature build, told apart from a failure reading the history.
type featuresOutError struct{ err error }

func (e *featuresOutError) Error() string { return e.err.Error() }

// consumerError is a failure of what takes the built rows (binning them,
// say), returned as it is.
type consumerError struct{ err error }

func (e *consumerError) Error() string { return e.err.Error() }

// backtestSet returns the rows the champion comparison's backtest refits
// on: Backtest for a streamed set (built on the first call), else Table
// with Train and Valid.
func (s *Tables) backtestSet() (tab *features.Table, train, valid []int) {
	if s.Backtest == nil && s.buildBacktest != nil {
		s.Backtest, s.BacktestTrain, s.BacktestValid = s.buildBacktest()
		s.buildBacktest = nil
	}
	if len(s.Train) == 0 && s.Backtest != nil {
		return s.Backtest, s.BacktestTrain, s.BacktestValid
	}
	return s.Table, s.Train, s.Valid
}

// split splits tab in time at the validation window and checks that both
// sides can train and rank models.
func (t *trainer) split(tab *features.Table, w Windows) (*Tables, error) {
	tab = t.rules.drop(tab)
	validFrom := w.ValidFrom.UnixMicro()
	train, valid, err := evaluate.TimeSplit(tab.Time, validFrom, w.Gap)
	if err != nil {
		return nil, exitcode.AsInput(fmt.Errorf("time split at %s: %w", evaluate.FormatMicros(validFrom), err))
	}
	X := models.Matrix{Rows: tab.Rows, Cols: len(tab.Names), Data: tab.X}
	s := &Tables{Windows: w, Table: tab, RuleRows: t.rules.total(), Train: train, Valid: valid, TrainX: selectRows(X, train), ValidX: selectRows(X, valid)}
	s.TrainLabels = pick(tab.Failed, train)
	s.ValidLabels = pick(tab.Failed, valid)
	s.TrainFailures, s.ValidFailures = count(s.TrainLabels), count(s.ValidLabels)
	s.TrainRows = len(train)
	s.TrainFrom, s.TrainLast = evaluate.Window(tab.Time, train)
	s.Sample, s.SampleLabels = s.TrainX, s.TrainLabels
	s.FamilyX, s.FamilyY, s.FamilyWeight = t.familyRows(tab, X, failedRows(tab, train))
	s.LikelyCodes = likelyCodes(tab, train)
	if err := t.checkSplit(s); err != nil {
		return nil, err
	}
	return s, nil
}

// familyRows returns the error-family model's rows of the failed rows of
// tab: of each family up to Config.MaxFamilyRows (0: all) drawn with the
// seed, with the weights of Tables.FamilyWeight.
func (t *trainer) familyRows(tab *features.Table, X models.Matrix, failed []int) (models.Matrix, []float32, []float32) {
	var byFamily [pipeline.NumFamilies][]int
	for _, i := range failed {
		f := tab.Family[i]
		byFamily[f] = append(byFamily[f], i)
	}
	var rows []int
	var fw []float32
	for f, fr := range byFamily {
		kept := fr
		if t.cfg.MaxFamilyRows > 0 {
			kept = SampleRows(fr, t.cfg.MaxFamilyRows, t.cfg.Seed+uint64(f))
		}
		if len(kept) < len(fr) && fw == nil {
			fw = slices.Repeat([]float32{1}, len(rows)) // the families before were kept whole
		}
		rows = append(rows, kept...)
		if fw != nil {
			fw = append(fw, slices.Repeat([]float32{float32(len(fr)) / float32(len(kept))}, len(kept))...)
		}
	}
	return X.SelectRows(rows), familyY(tab, rows), fw
}

// checkSplit logs the time split and checks that both sides can train
// and rank models.
func (t *trainer) checkSplit(s *Tables) error {
	w := s.Windows
	validFrom := w.ValidFrom.UnixMicro()
	train, valid := s.TrainRows, len(s.Valid)
	t.log.Info("time split", "train_rows", train, "train_failures", s.TrainFailures,
		"valid_rows", valid, "valid_failures", s.ValidFailures,
		"valid_from", evaluate.FormatMicros(validFrom), "gap", w.Gap.String())
	switch {
	case train < t.cfg.MinRows:
		return exitcode.Inputf("only %d training rows before %s, want at least --min-rows %d", train, evaluate.FormatMicros(w.TrainTo.UnixMicro()), t.cfg.MinRows)
	case s.TrainFailures == 0:
		return exitcode.Inputf("no failed sends among the %d training rows: nothing to learn (is the history missing its failed statuses?)", train)
	case s.TrainFailures < t.cfg.MinFailures:
		return exitcode.Inputf("only %d failed sends among the %d training rows, want at least --min-failures %d", s.TrainFailures, train, t.cfg.MinFailures)
	case s.ValidFailures == 0:
		return exitcode.Inputf("no failed sends among the %d validation rows from %s: PR-AUC is undefined; widen --valid-days", valid, evaluate.FormatMicros(validFrom))
	case s.ValidFailures == valid:
		return exitcode.Inputf("every one of the %d validation rows failed: the validation window cannot rank models", valid)
	}
	if vs := s.ValidSampling; vs != nil {
		t.log.Info("validation rows sampled uniformly", "share", vs.Share, "rows_kept", vs.RowsKept, "rows", vs.RowsBefore, "max_valid_rows", vs.MaxRows)
	}
	if sp := s.Sampling; sp != nil {
		t.log.Info("training rows down-sampled", "success_share", sp.SuccessShare, "success_weight", sp.SuccessWeight,
			"rows_kept", sp.RowsKept, "rows", sp.RowsBefore, "failures_kept", sp.FailuresKept, "max_train_rows", sp.MaxRows)
	}
	return nil
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

// handOffDepth is how many built chunks may wait for the training set's
// goroutine (ChunkRows rows each).
const handOffDepth = 4

// handOff runs fn over the values sent to it, in order, on a goroutine of
// its own. After fn fails, it is not called again, and send and close
// return its error.
type handOff[T any] struct {
	ch     chan T
	failed chan struct{} // closed when fn has failed; err is set before
	done   chan struct{} // closed when the goroutine has returned
	err    error
}

func startHandOff[T any](depth int, fn func(T) error) *handOff[T] {
	h := &handOff[T]{ch: make(chan T, depth), failed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for v := range h.ch {
			if h.err != nil {
				continue // drain what was sent before send saw the failure
			}
			if err := fn(v); err != nil {
				h.err = err
				close(h.failed)
			}
		}
	}()
	return h
}

// send hands v on, waiting while depth values wait; it returns fn's error
// once fn has failed.
func (h *handOff[T]) send(v T) error {
	select {
	case <-h.failed:
		return h.err
	default:
	}
	select {
	case h.ch <- v:
		return nil
	case <-h.failed:
		return h.err
	}
}

// close waits for every value sent to be taken and returns fn's error.
// It must be called once, after the last send.
func (h *handOff[T]) close() error {
	close(h.ch)
	<-h.done
	return h.err
}
