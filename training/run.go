package training

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/internal/memlimit"
	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/drift"
	"github.com/failcast/failcast/models/gbdt"
	"github.com/failcast/failcast/models/metrics"
	"github.com/failcast/failcast/models/registry"
	"github.com/failcast/failcast/pipeline"
)

// lockOwner is written into the registry lock.
const lockOwner = "failcast train"

// Result is what a finished run did.
type Result struct {
	Version    string // the new version's name (it is stored even when kept out)
	VersionDir string // its directory in the registry
	Promoted   bool   // published as the champion
	Forced     bool   // promoted by Force although worse than the champion
	Reason     string // why it was promoted or kept out
	// Unchanged: the run's inputs (history fingerprint, settings, build)
	// equal the champion's, so it trained nothing and wrote no version
	// (Version is ""); ChampionVersion names the champion.
	Unchanged bool
	// ChampionUnloadable: the champion could not be loaded; the run got
	// this far only with Force, and published without comparison.
	ChampionUnloadable bool
	// Inputs is the fingerprint of the run's history and settings, stored
	// in the new version's metadata.json (artifact.Metadata.Inputs).
	Inputs *artifact.Inputs

	TrainRows, ValidRows int
	ValidPRAUC           float64         // the challenger's validation PR-AUC
	Metrics              metrics.Summary // the challenger's validation metrics
	Candidates           []Candidate     // every model compared, the challenger first

	ChampionVersion   string            // the champion compared with, "" if none
	ChampionPRAUC     float64           // NaN when not evaluated
	ChampionEvaluated bool              // the champion was scored on the same validation rows
	Paired            *metrics.PairedAP // bootstrap of challenger - champion PR-AUC; nil when not evaluated
	Pruned            []string          // versions removed by Keep

	Drift []drift.FeatureDrift // validation window against training, per feature (PSI)

	// Warnings are what validation cannot support (thresholds, base-rate
	// shift); they are logged and written to report.md and metadata.json.
	Warnings []string
	// Backtest is the champion comparison over the rolling-origin folds;
	// nil when it did not run.
	Backtest *BacktestComparison
}

// Candidate is one model's validation result.
type Candidate struct {
	Name              string
	Summary           metrics.Summary
	RecallAtPrecision float64 // at TargetPrecision
	FitSeconds        float64
	TrainRows         int
	Note              string
}

// Run trains the failure and error-family models on cfg.History as of
// cfg.AsOf, evaluates them and the baselines on the validation window,
// compares the challenger with the registry's champion on the same rows,
// writes a new version and promotes it if it is good enough. It logs the
// outcome and, with cfg.MetricsFile, writes the metrics file whatever
// happens.
//
// Nothing at or after as-of is read (see BuildTables). On error nothing
// visible in the registry has changed, and the error carries its exit
// class (exitcode.Of): Usage for a bad Config, Input for bad or missing
// history, Locked when another run holds the registry, Internal
// otherwise (an interrupted run included).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	start := time.Now()
	log := cfg.logger()
	var res *Result
	err := cfg.Validate()
	if err == nil {
		limit := MemoryLimit(cfg.MemoryLimit)
		if limit > 0 {
			log.Debug("soft memory limit", "bytes", limit)
		}
		defer memlimit.Set(limit)()
		gc0, cpu0 := memlimit.GCTime()
		t := newTrainer(cfg)
		res, err = t.run(ctx)
		err = classify(err)
		if gc1, cpu1 := memlimit.GCTime(); limit > 0 && cpu1-cpu0 > 0 && (gc1-gc0)/(cpu1-cpu0) > gcWarnShare {
			log.Warn("the garbage collector took much of the run's CPU under the soft memory limit: the live heap came near or above it; raise --memory-limit (or GOMEMLIMIT) if the machine has the memory",
				"gc_cpu_share", math.Round(100*(gc1-gc0)/(cpu1-cpu0))/100, "memory_limit", memlimit.Format(limit))
		}
	}
	code := exitcode.Of(err)
	logOutcome(log, res, err, code, time.Since(start))
	if cfg.MetricsFile != "" {
		m := RunMetrics{Duration: time.Since(start), ValidPRAUC: math.NaN(), ExitCode: code, Finished: time.Now()}
		if res != nil {
			m.Rows, m.ValidPRAUC, m.Promoted = res.TrainRows, res.ValidPRAUC, res.Promoted
		}
		m.Decision, m.ChampionUnloadable = decision(res, err)
		if err := WriteMetricsFile(cfg.MetricsFile, m); err != nil {
			log.Warn("metrics file", "err", err)
		}
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// DefaultMemoryLimit is the soft memory limit of a run when neither
// --memory-limit, GOMEMLIMIT nor a container's memory limit gives one:
// a 50M-event run's live heap tops out at about 2.8 GB, and the Go
// collector, left to let the heap grow to twice what is live, peaks at
// 5.6-6.2 GB resident; under this limit it peaks at 3.6 GB. A run whose
// live heap is bigger than the limit slows down (the collector runs
// more; Run warns when it took more than gcWarnShare of the CPU), it
// does not fail.
const DefaultMemoryLimit int64 = 3500 << 20

// gcWarnShare is the share of a run's CPU time spent collecting garbage
// above which Run warns that the soft memory limit is too low.
const gcWarnShare = 0.25

// MemoryLimit returns the soft memory limit of a run given
// Config.MemoryLimit: limit when positive, else GOMEMLIMIT, else three
// quarters of the container's memory limit (memlimit.Auto), else
// DefaultMemoryLimit or three quarters of the machine's memory,
// whichever is smaller.
func MemoryLimit(limit int64) int64 {
	if limit > 0 {
		return limit
	}
	if auto := memlimit.Auto(); auto > 0 {
		return auto
	}
	if phys := memlimit.Physical() / 4 * 3; phys > 0 {
		return min(DefaultMemoryLimit, phys)
	}
	return DefaultMemoryLimit
}

// classify gives err its exit class where the code below did not: an
// interrupted run is an internal failure whatever stage it reached, a
// held lock is Locked.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return exitcode.Wrap(exitcode.Internal, err)
	case errors.Is(err, registry.ErrLocked):
		return exitcode.Wrap(exitcode.Locked, err)
	}
	return err
}

// trainer runs one training job.
type trainer struct {
	cfg      Config
	log      *slog.Logger
	console  *Console // shared by the log and the progress bars; nil without progress
	progress bool

	baselineFirst int // rows of a baseline's first fit; 0: firstBaselineRows (tests set it)
	stoppingRows  int // cap of the early-stopping rows; 0: maxStoppingRows (tests set it)

	rules *ruleFilter // the sends a deterministic rule decides, left out of the models' rows
}

func newTrainer(cfg Config) *trainer {
	t := &trainer{cfg: cfg, log: cfg.logger(), rules: &ruleFilter{}}
	if cfg.Progress != nil {
		t.progress = true
		if c, ok := cfg.Progress.(*Console); ok {
			t.console = c
		} else {
			t.console = NewConsole(cfg.Progress)
		}
	}
	return t
}

// run trains, evaluates, writes a new version and promotes it if it is
// good enough. On error nothing visible in the registry has changed.
func (t *trainer) run(ctx context.Context) (*Result, error) {
	cfg := t.cfg
	w := cfg.Windows()
	started := cfg.now()
	t.log.Info("training run starting", "history", cfg.History, "registry", cfg.Registry, "as_of", w.AsOf.Format(time.RFC3339),
		"train_days", cfg.TrainDays, "valid_days", cfg.ValidDays, "lead", cfg.Lead.String(), "seed", cfg.Seed)

	reg := registry.Open(cfg.Registry, registry.WithLogger(t.log))
	lock, err := reg.Lock(ctx, lockOwner, cfg.Wait)
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
	var ds *pipeline.Dataset
	var inputs *artifact.Inputs // nil for a given table (RunTable): no rerun check
	if cfg.table == nil {
		if ds, err = pipeline.OpenDataset(cfg.History); err != nil {
			return nil, exitcode.AsInput(fmt.Errorf("history: %w", err))
		}
		if err := pipeline.CheckHashKey(ds, cfg.HashKey, cfg.HashKeyFrom); err != nil {
			return nil, err
		}
		if inputs, err = t.inputsFingerprint(ds.Files(), w); err != nil {
			return nil, err
		}
	}
	// The champion gate, before any training: an unloadable champion
	// refuses the run (unless --force), and a rerun of the champion's
	// inputs has nothing to do.
	champ, err := t.loadChampion(reg)
	if err != nil {
		return nil, err
	}
	if inputs != nil {
		if res := t.unchanged(champ, inputs); res != nil {
			return res, nil
		}
	}
	var featuresOut *features.ParquetWriter
	if cfg.FeaturesOut != "" {
		if featuresOut, err = features.NewParquetWriter(cfg.FeaturesOut, features.Names()); err != nil {
			return nil, fmt.Errorf("--features-out: %w", err)
		}
		defer featuresOut.Abort() // a failed run leaves an earlier file as it was
	}
	split, err := t.trainingSet(ctx, ds, w, featuresOut)
	if err != nil {
		return nil, err
	}
	if n := t.rules.total(); n > 0 {
		t.log.Info("sends a deterministic rule decides are left out of the models' training and validation rows (scoring decides them by the rule)", "rows", n, "rules", t.rules.String())
	}
	bar := t.console.newBar(t.progress, 5, "fail model", "")
	defer bar.finish()
	if featuresOut != nil {
		if err := featuresOut.Close(); err != nil {
			return nil, fmt.Errorf("--features-out: %w", err)
		}
		t.log.Info("wrote the training feature table", "path", cfg.FeaturesOut, "rows", featuresOut.Rows())
	}

	// 2. Candidates.
	prep := t.startServing(split)
	defer prep.wait()
	cands, err := t.fitCandidates(ctx, split, bar)
	if err != nil {
		return nil, err
	}
	main := cands.main
	res := &Result{TrainRows: split.TrainRows, ValidRows: len(split.Valid), ValidPRAUC: main.summary.PRAUC, Metrics: main.summary,
		ChampionPRAUC: math.NaN(), Inputs: inputs}
	for _, c := range cands.all {
		res.Candidates = append(res.Candidates, Candidate{Name: c.name, Summary: c.summary, RecallAtPrecision: c.recallAtP,
			FitSeconds: c.fitSeconds, TrainRows: c.trainRows, Note: c.note})
	}

	// 3. Champion comparison on the same validation rows.
	bar.step("champion")
	t.compare(ctx, champ, split, main.valid, cands.fail.NumRounds(), res)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// 4. Write the version (a temporary directory until committed).
	bar.step("write")
	res.Version = reg.NewVersionName(started)
	stage, err := reg.Stage(res.Version)
	if err != nil {
		return nil, err
	}
	defer stage.Abort()
	cal := t.calibrate(split, main.valid, cands.familyEval.pFamily)
	thresholds, warnings := t.thresholds(cal.model, split.ValidLabels, split.trainFailureRate())
	res.Warnings = append(res.Warnings, warnings...)
	meta := t.metadata(res, w, split, cands, thresholds, cal, started)
	if err := t.finishServing(prep, &meta, res); err != nil {
		return nil, err
	}
	// artifact.Write creates the directory itself, atomically.
	if err := os.Remove(stage.Dir()); err != nil {
		return nil, fmt.Errorf("prepare the staging directory: %w", err)
	}
	if err := bundle.Save(stage.Dir(), meta, cands.fail, cands.family); err != nil {
		return nil, err
	}
	if err := t.writeReport(stage.Dir(), res, w, split, cands, thresholds, cal, started); err != nil {
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
		if cfg.beforePromote != nil {
			if err := cfg.beforePromote(); err != nil {
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

// gbdtParams returns the GBDT parameters of the config.
func (t *trainer) gbdtParams() gbdt.Params {
	p := gbdt.DefaultParams()
	p.NumRounds = t.cfg.Rounds
	p.MaxDepth = t.cfg.Depth
	p.LearningRate = t.cfg.LearningRate
	p.EarlyStoppingRounds = t.cfg.EarlyStop
	p.Seed = t.cfg.Seed
	return p
}
