package training

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/metrics"
	"github.com/failcast/failcast/models/registry"
	"github.com/failcast/failcast/pipeline"
)

// modelWant is what the champion must offer to be compared: what the
// scorer requires of a model (the feature schema this build computes and
// names, the error families it knows, valid thresholds), so that a
// champion the scorer would refuse is replaced.
func modelWant(names []string) bundle.Want {
	return bundle.Want{SchemaHash: features.SchemaHash(), FeatureNames: names, MaxClasses: pipeline.NumFamilies, Thresholds: true}
}

// compareReplicates is the number of bootstrap replicates of the
// champion comparison (metrics.ComparePR).
const compareReplicates = 200

// championState is the registry's champion as a run found it before
// training: none, loaded, loadable but not comparable by this build, or
// unloadable.
type championState struct {
	version string
	dir     string
	bundle  *bundle.Bundle // nil unless loaded
	// incomparable: the champion was written for another feature schema
	// or lacks what this build's scorer needs (artifact.ErrSchemaMismatch,
	// bundle.ErrIncompatible). The scorer refuses it too, so it is
	// replaced without a comparison.
	incomparable error
	// unloadable: current points outside the registry or at a missing
	// version, or the champion's files are corrupt or unreadable. Nothing
	// is promoted over it without --force (see ChampionError).
	unloadable error
}

// ChampionError is the error of a run that refused to promote because
// the champion cannot be loaded and --force was not given: the registry
// needs a look (a corrupt file, a current link moved by hand), and
// replacing the champion without a comparison would hide it. Its exit
// class is exitcode.Internal.
type ChampionError struct {
	Version string // the champion's version name as the current link gives it ("" if unknown)
	Dir     string // where the current link points
	Err     error  // what is wrong
}

func (e *ChampionError) Error() string {
	return fmt.Sprintf("the champion %s (%s) cannot be loaded: %v; refusing to promote a challenger without comparing it: "+
		"repair the registry (failcast registry list / rollback VERSION) or pass --force to publish without comparison",
		e.Version, e.Dir, e.Err)
}

func (e *ChampionError) Unwrap() error { return e.Err }

// loadChampion reads and checks the champion. An unloadable champion
// is an error (a *ChampionError, exit class Internal) unless
// Config.Force.
func (t *trainer) loadChampion(reg *registry.Registry) (*championState, error) {
	version, dir, err := reg.Current()
	st := &championState{version: version, dir: dir}
	switch {
	case errors.Is(err, registry.ErrNoChampion):
		return &championState{}, nil
	case err != nil:
		st.unloadable = err
	default:
		st.unloadable = insideRegistry(reg, version, dir)
	}
	if st.unloadable == nil {
		b, err := bundle.LoadFor(dir, modelWant(features.Names()))
		switch {
		case err == nil:
			st.bundle = b
		case errors.Is(err, artifact.ErrSchemaMismatch) || errors.Is(err, bundle.ErrIncompatible):
			st.incomparable = err
		default:
			st.unloadable = err
		}
	}
	if st.unloadable != nil {
		ce := &ChampionError{Version: version, Dir: dir, Err: st.unloadable}
		if !t.cfg.Force {
			return nil, exitcode.Wrap(exitcode.Internal, ce)
		}
		t.log.Warn("the champion cannot be loaded; --force: the challenger will be published without comparison",
			"champion", version, "dir", dir, "err", st.unloadable)
	}
	return st, nil
}

// insideRegistry checks that the champion's directory is the registry's
// own version directory of that name: a current link moved by hand to
// another directory (another registry, a scratch copy) is not trusted.
func insideRegistry(reg *registry.Registry, version, dir string) error {
	want := reg.VersionDir(version)
	got, err1 := filepath.EvalSymlinks(dir)
	exp, err2 := filepath.EvalSymlinks(want)
	if err := errors.Join(err1, err2); err != nil || got != exp {
		return fmt.Errorf("the current link points at %s, outside the registry's versions (want %s)", dir, want)
	}
	return nil
}

// compare scores the champion on the challenger's validation rows
// (challenger holds the challenger's P(fail) of them) and decides whether
// the challenger is promoted. It fills the decision fields of res.
func (t *trainer) compare(ctx context.Context, cs *championState, s *Tables, challenger []float64, rounds int, res *Result) {
	version := cs.version
	res.ChampionVersion = version
	switch {
	case version == "" && cs.unloadable == nil:
		res.Promoted, res.Reason = true, "no champion yet"
		t.log.Info("no champion yet: the challenger will be published")
		return
	case cs.unloadable != nil: // only with --force: loadChampion refused otherwise
		res.ChampionUnloadable = true
		res.Promoted, res.Forced = true, true
		res.Reason = fmt.Sprintf("the champion cannot be loaded (%v); published without comparison (--force)", cs.unloadable)
		return
	case cs.incomparable != nil:
		res.Promoted = true
		if errors.Is(cs.incomparable, artifact.ErrSchemaMismatch) {
			res.Reason = "the champion was trained on another feature schema and cannot be evaluated on this validation window"
			t.log.Info("champion cannot be evaluated: its feature schema differs from this build's; promoting the challenger",
				"champion", version, "err", cs.incomparable)
		} else {
			res.Reason = fmt.Sprintf("the champion cannot be used by this build (%v)", cs.incomparable)
			t.log.Warn("champion cannot be used by this build's scorer; promoting the challenger", "champion", version, "err", cs.incomparable)
		}
		return
	}
	champ := cs.bundle
	if err := champ.Check(modelWant(s.Table.Names)); err != nil {
		res.Promoted, res.Reason = true, fmt.Sprintf("the champion cannot be evaluated on this table (%v)", err)
		t.log.Info("champion cannot be evaluated on this feature table; promoting the challenger", "champion", version, "err", err)
		return
	}
	scores := champ.Fail.PredictProba(s.ValidX) // the fail models, like for like: the challenger's PR-AUC is its fail model's
	champPR, err := metrics.AveragePrecision(scores, s.ValidLabels)
	if err != nil {
		res.Promoted, res.Reason = true, fmt.Sprintf("the champion's PR-AUC cannot be computed (%v)", err)
		return
	}
	res.ChampionEvaluated, res.ChampionPRAUC = true, champPR
	diff := res.ValidPRAUC - champPR
	// How much of the difference is the noise of the validation rows
	// drawn: reported, not part of the decision.
	if pc, err := metrics.ComparePR(scores, challenger, s.ValidLabels, compareReplicates, t.cfg.Seed); err == nil {
		res.Paired = &pc
	} else {
		t.log.Warn("bootstrap of the champion comparison failed", "err", err)
	}
	args := []any{"champion", version, "champion_pr_auc", round4(champPR), "challenger_pr_auc", round4(res.ValidPRAUC),
		"difference", round4(diff), "tolerance", t.cfg.Tolerance}
	if pc := res.Paired; pc != nil {
		args = append(args, "difference_95_low", round4(pc.Low), "difference_95_high", round4(pc.High), "challenger_better_share", round4(pc.ProbBetter))
	}
	t.log.Info("champion evaluated on the same validation window", args...)
	if t.cfg.BacktestFolds > 0 {
		if rc, ok := t.championRecipe(champ.Metadata); ok {
			bc, err := t.backtestCompare(ctx, s, t.challengerRecipe(rounds), rc)
			if err == nil {
				res.Backtest = bc
				t.decideBacktest(champ.Metadata, res)
				return
			}
			if ctx.Err() != nil {
				return
			}
			t.log.Warn("the backtest comparison failed; deciding on the validation window alone", "err", err)
		} else {
			t.log.Warn("the champion's metadata lacks its recipe (depth, learning_rate, fail_rounds_kept); deciding on the validation window alone", "champion", version)
		}
	}
	if res.ValidPRAUC >= champPR-t.cfg.Tolerance {
		res.Promoted = true
		res.Reason = fmt.Sprintf("challenger PR-AUC %.4f is not worse than the champion's %.4f (tolerance %g)", res.ValidPRAUC, champPR, t.cfg.Tolerance)
		return
	}
	res.Reason = fmt.Sprintf("challenger PR-AUC %.4f is below the champion's %.4f by %.4f, more than the tolerance %g",
		res.ValidPRAUC, champPR, math.Abs(diff), t.cfg.Tolerance)
	t.force(res, version)
}

// force promotes a kept-out challenger with --force.
func (t *trainer) force(res *Result, version string) {
	if t.cfg.Force {
		res.Promoted, res.Forced = true, true
		res.Reason += "; promoted anyway (--force)"
		t.log.Warn("the challenger is not promoted by the rule; promoting it because of --force", "champion", version)
	}
}

// decideBacktest decides on res.Backtest (see backtest.go).
func (t *trainer) decideBacktest(champ artifact.Metadata, res *Result) {
	bc := res.Backtest
	newer := false
	if a, ok := champ.Extra["as_of"].(string); ok {
		if champAsOf, err := time.Parse(time.RFC3339, a); err == nil {
			newer = t.cfg.Windows().AsOf.After(champAsOf)
		}
	}
	// Another build's champion: the backtest refits both recipes with this
	// build's code, so it compares their settings, not what the builds do
	// beyond the trees (calibration, mechanisms, the saved model's
	// contents). In a tie the installed build's model serves.
	build := artifact.CodeVersion()
	otherBuild := champ.CodeVersion != build
	t.log.Info("champion compared over the rolling-origin backtest", "folds", len(bc.Folds), "mean_difference", round4(bc.MeanDifference),
		"difference_95_low", round4(bc.Low), "difference_95_high", round4(bc.High), "verdict", bc.Verdict, "newer_data", newer,
		"other_build", otherBuild, "seconds", math.Round(bc.Seconds*10)/10)
	what := fmt.Sprintf("over %d backtest folds the challenger's recipe differs from the champion's by %+.4f PR-AUC (95%% interval [%+.4f, %+.4f])",
		len(bc.Folds), bc.MeanDifference, bc.Low, bc.High)
	switch {
	case bc.Verdict == "better":
		res.Promoted, res.Reason = true, what+": better"
	case bc.Verdict == "worse":
		res.Reason = fmt.Sprintf("%s: worse by more than the tolerance %g", what, t.cfg.Tolerance)
		t.force(res, res.ChampionVersion)
	case newer:
		res.Promoted, res.Reason = true, what+": a tie, and the challenger is trained on newer data"
	case otherBuild:
		res.Promoted, res.Reason = true, fmt.Sprintf("%s: a tie, and the challenger is this build's (code %s; the champion's: %s)",
			what, build, champ.CodeVersion)
	default:
		res.Reason = what + ": a tie on the same data (as-of) and build; the champion stays"
		t.force(res, res.ChampionVersion)
	}
}

// unchanged returns the result of a rerun whose inputs equal the
// champion's (history fingerprint, settings, build): the run would train
// the same model again, so it writes nothing and exits 0. nil when the
// run must go on. --force always goes on (it retrains and publishes).
func (t *trainer) unchanged(cs *championState, inputs *artifact.Inputs) *Result {
	if cs.bundle == nil || !inputs.Same(cs.bundle.Metadata.Inputs) {
		if cs.bundle != nil && cs.bundle.Metadata.Inputs != nil {
			t.log.Info("the inputs differ from the champion's: training", "champion", cs.version,
				"differences", inputsDiff(cs.bundle.Metadata.Inputs, inputs))
		}
		return nil
	}
	if t.cfg.Force {
		t.log.Warn("the inputs equal the champion's; training anyway (--force)", "champion", cs.version)
		return nil
	}
	md := cs.bundle.Metadata
	res := &Result{Unchanged: true, ChampionVersion: cs.version, Inputs: inputs, ValidPRAUC: math.NaN(), ChampionPRAUC: math.NaN(),
		TrainRows: md.Rows.Train, ValidRows: md.Rows.Valid,
		Reason: fmt.Sprintf("the history (%d files), settings and build equal the champion %s's (inputs %.12s): a rerun would train the same model",
			len(inputs.Files), cs.version, inputs.Digest)}
	if md.Metrics.Binary != nil {
		res.ValidPRAUC, res.ChampionPRAUC = md.Metrics.Binary.PRAUC, md.Metrics.Binary.PRAUC
	}
	return res
}

// inputsDiff names what differs between two fingerprints (for the log):
// settings by name, files by path, at most a few of each.
func inputsDiff(old, cur *artifact.Inputs) []string {
	var out []string
	add := func(s string) {
		if len(out) < 8 {
			out = append(out, s)
		}
	}
	if old.Method != cur.Method {
		add("fingerprint method " + old.Method + " -> " + cur.Method)
	}
	for k, v := range cur.Settings {
		if old.Settings[k] != v {
			add(fmt.Sprintf("%s %q -> %q", k, old.Settings[k], v))
		}
	}
	for k := range old.Settings {
		if _, ok := cur.Settings[k]; !ok {
			add("setting " + k + " dropped")
		}
	}
	files := map[string]artifact.InputFile{}
	for _, f := range old.Files {
		files[f.Path] = f
	}
	for _, f := range cur.Files {
		o, ok := files[f.Path]
		switch {
		case !ok:
			add("file " + f.Path + " added")
		case o != f:
			add("file " + f.Path + " changed")
		}
		delete(files, f.Path)
	}
	for p := range files {
		add("file " + p + " removed")
	}
	slices.Sort(out)
	return out
}

// decision names a run's outcome for the metrics file (the label of
// failcast_train_decision), and whether the champion was unloadable.
func decision(res *Result, err error) (string, bool) {
	var ce *ChampionError
	switch {
	case errors.As(err, &ce):
		return DecisionRefused, true
	case err != nil || res == nil:
		return DecisionFailed, false
	case res.Unchanged:
		return DecisionUnchanged, false
	case res.Forced:
		return DecisionForced, res.ChampionUnloadable
	case res.Promoted && res.ChampionVersion == "":
		return DecisionFirst, false
	case res.Promoted:
		return DecisionPromoted, false
	}
	return DecisionKept, false
}

// Decisions of a run, as the metrics file names them.
const (
	DecisionFirst     = "first"     // no champion yet: published
	DecisionPromoted  = "promoted"  // the comparison promoted the challenger (or the champion was not comparable)
	DecisionKept      = "kept"      // the comparison kept the champion; the challenger is stored
	DecisionForced    = "forced"    // published by --force (worse, tied, or over an unloadable champion)
	DecisionUnchanged = "unchanged" // inputs equal the champion's: no new version
	DecisionRefused   = "refused"   // the champion cannot be loaded: nothing published (exit 1)
	DecisionFailed    = "failed"    // the run failed otherwise
)
