package training

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

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

// compare scores the champion on the challenger's validation rows
// (challenger holds the challenger's P(fail) of them) and decides whether
// the challenger is promoted. It fills the decision fields of res.
func (t *trainer) compare(ctx context.Context, reg *registry.Registry, s *Tables, challenger []float64, rounds int, res *Result) {
	version, dir, err := reg.Current()
	switch {
	case errors.Is(err, registry.ErrNoChampion):
		res.Promoted, res.Reason = true, "no champion yet"
		t.log.Info("no champion yet: the challenger will be published")
		return
	case err != nil:
		res.ChampionVersion = version
		res.Promoted, res.Reason = true, fmt.Sprintf("the champion cannot be read (%v)", err)
		t.log.Warn("the current champion cannot be read; the challenger will replace it", "err", err)
		return
	}
	res.ChampionVersion = version
	champ, err := bundle.LoadFor(dir, modelWant(s.Table.Names))
	if err != nil {
		res.Promoted = true
		if errors.Is(err, artifact.ErrSchemaMismatch) {
			res.Reason = "the champion was trained on another feature schema and cannot be evaluated on this validation window"
			t.log.Info("champion cannot be evaluated: its feature schema differs from this build's; promoting the challenger",
				"champion", version, "err", err)
		} else {
			res.Reason = fmt.Sprintf("the champion cannot be loaded (%v)", err)
			t.log.Warn("champion cannot be loaded; promoting the challenger", "champion", version, "err", err)
		}
		return
	}
	scores, _ := champ.Predict(s.ValidX)
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
	t.log.Info("champion compared over the rolling-origin backtest", "folds", len(bc.Folds), "mean_difference", round4(bc.MeanDifference),
		"difference_95_low", round4(bc.Low), "difference_95_high", round4(bc.High), "verdict", bc.Verdict, "newer_data", newer,
		"seconds", math.Round(bc.Seconds*10)/10)
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
	default:
		res.Reason = what + ": a tie on the same data (as-of); the champion stays"
		t.force(res, res.ChampionVersion)
	}
}
