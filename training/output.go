package training

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/evaluate"
	"github.com/failcast/failcast/models/metrics"
	"github.com/failcast/failcast/models/report"
	"github.com/failcast/failcast/pipeline"
)

// metadata fills the bundle's metadata.json.
func (t *trainer) metadata(res *Result, w Windows, s *Tables, c *candidateSet,
	th map[string]metrics.Threshold, cal calibration, started time.Time) artifact.Metadata {
	tab := s.Table
	binary := metrics.Compute(c.main.valid, s.ValidLabels)
	md := artifact.Metadata{
		ModelVersion:      res.Version,
		CreatedAt:         started.UTC().Truncate(time.Second),
		FeatureSchemaHash: features.SchemaHash(),
		FeatureNames:      tab.Names,
		TrainWindow:       artifact.WindowFromMicros(s.TrainFrom, s.TrainLast),
		ValidWindow:       artifact.WindowFromMicros(evaluate.Window(tab.Time, s.Valid)),
		LeadTime:          artifact.Duration(w.Gap),
		Sampling:          s.Sampling,
		Rows: artifact.Rows{Train: s.TrainRows, Valid: len(s.Valid),
			TrainPositives: s.TrainFailures, ValidPositives: s.ValidFailures},
		Hyperparameters: map[string]any{
			"rounds": t.cfg.Rounds, "depth": t.cfg.Depth, "learning_rate": t.cfg.LearningRate, "early_stop": t.cfg.EarlyStop,
			"fail_rounds_kept": c.fail.NumRounds(), "family_rounds_kept": c.family.NumRounds(),
			"train_days": t.cfg.TrainDays, "valid_days": t.cfg.ValidDays, "tolerance": t.cfg.Tolerance,
		},
		Seed:    t.cfg.Seed,
		Metrics: artifact.Metrics{Binary: &binary, Family: c.familyEval.summary},
		Thresholds: map[string]artifact.Threshold{
			bundle.ThresholdHigh: {Threshold: th[bundle.ThresholdHigh],
				Note: fmt.Sprintf("lowest P(fail) with precision >= %g on validation", t.cfg.TargetPrecision)},
			bundle.ThresholdMedium: {Threshold: th[bundle.ThresholdMedium],
				Note: fmt.Sprintf("flags at most %g of validation sends (alert budget) when below high; else the lowest P(fail) with precision >= %g (half the target), else the largest validation P(fail) below high: always below high", t.cfg.AlertBudget, t.cfg.TargetPrecision/2)},
		},
		Champion: &artifact.Champion{
			ComparedWith: res.ChampionVersion, Metric: "pr_auc", ChampionValue: finiteOr(res.ChampionPRAUC, 0),
			ChallengerValue: res.ValidPRAUC, Promoted: res.Promoted, Reason: res.Reason, DecidedAt: t.cfg.now().UTC().Truncate(time.Second),
		},
		Inputs: res.Inputs,
	}
	bundle.SetServing(&md, cal.serving(bundle.Serving{Lead: t.cfg.Lead, Refresh: t.cfg.Refresh, LikelyCodes: c.likelyCode}))
	if len(res.Warnings) > 0 {
		md.Extra["warnings"] = res.Warnings
	}
	md.Extra["as_of"] = w.AsOf.Format(time.RFC3339)
	if vs := s.ValidSampling; vs != nil {
		md.Extra["validation_sampling"] = vs
	}
	md.Extra["champion_evaluated"] = res.ChampionEvaluated
	if pc := res.Paired; pc != nil {
		md.Extra["champion_difference_95"] = []float64{round4(pc.Low), round4(pc.High)}
		md.Extra["challenger_better_share"] = round4(pc.ProbBetter)
	}
	md.Extra["forced"] = res.Forced
	md.Extra["champion_unloadable"] = res.ChampionUnloadable
	if bc := res.Backtest; bc != nil {
		var folds []map[string]any
		for _, f := range bc.Folds {
			folds = append(folds, map[string]any{"valid_from": evaluate.FormatMicros(f.ValidFrom), "valid_to": evaluate.FormatMicros(f.ValidTo),
				"train_rows": f.TrainRows, "valid_rows": f.ValidRows, "valid_positives": f.ValidPositives,
				"challenger_pr_auc": nullable(f.ChallengerPRAUC), "champion_pr_auc": nullable(f.ChampPRAUC), "difference": nullable(f.Difference),
				"bootstrap_95": []any{nullable(f.BootLow), nullable(f.BootHigh)}})
		}
		md.Extra["champion_backtest"] = map[string]any{"folds": folds, "mean_difference": nullable(bc.MeanDifference),
			"difference_95": []any{nullable(bc.Low), nullable(bc.High)}, "verdict": bc.Verdict, "seconds": bc.Seconds}
	}
	imp := map[string]any{}
	for i, v := range c.fail.FeatureImportance() {
		if v > 0 {
			imp[tab.Names[i]] = v
		}
	}
	md.Extra["feature_importance"] = imp
	reliability := func(scores []float64) []map[string]any {
		bins, err := metrics.Reliability(scores, s.ValidLabels, 10)
		if err != nil {
			return nil
		}
		var out []map[string]any
		for _, b := range bins {
			out = append(out, map[string]any{"lower": b.Lower, "upper": b.Upper, "count": b.Count,
				"mean_predicted": nullable(b.MeanPredicted), "observed_rate": nullable(b.ObservedRate)})
		}
		return out
	}
	if bins := reliability(cal.before); bins != nil {
		md.Extra["calibration"] = bins
	}
	if cal.platt != nil {
		if bins := reliability(cal.after); bins != nil {
			md.Extra["calibration_after"] = bins
		}
	}
	md.Extra["calibration_check"] = cal.metadata(float64(s.ValidFailures))
	md.Extra["family_calibration_check"] = cal.family.metadata()
	if n := t.rules.total(); n > 0 {
		md.Extra["rule_rows_left_out"] = map[string]any{"rows": n, "rules": t.rules.String()}
	}
	var cands []map[string]any
	for _, x := range c.all {
		cands = append(cands, map[string]any{
			"name": x.name, "pr_auc": nullable(x.summary.PRAUC), "roc_auc": nullable(x.summary.ROCAUC),
			"log_loss": nullable(x.summary.LogLoss), "brier": nullable(x.summary.Brier),
			"recall_at_target_precision": nullable(x.recallAtP), "fit_seconds": x.fitSeconds, "train_rows": x.trainRows, "note": x.note,
		})
	}
	md.Extra["candidates"] = cands
	return md
}

// writeReport writes report.md and its charts into dir.
func (t *trainer) writeReport(dir string, res *Result, w Windows, s *Tables, c *candidateSet,
	th map[string]metrics.Threshold, cal calibration, started time.Time) error {
	tab := s.Table
	r := &report.Report{
		Title:           "failcast model",
		Version:         res.Version,
		Generated:       started,
		TargetPrecision: t.cfg.TargetPrecision,
		Thresholds:      map[string]float64{},
		ClassTitle:      "Error families",
	}
	r.Summary = []report.Field{
		{Name: "as of", Value: w.AsOf.Format(time.RFC3339)},
		{Name: "training sends", Value: fmt.Sprintf("%d (%d failed), %s to %s", s.TrainRows, s.TrainFailures,
			evaluate.FormatMicros(w.From.UnixMicro()), evaluate.FormatMicros(w.TrainTo.UnixMicro()))},
		{Name: "validation sends", Value: fmt.Sprintf("%d (%d failed), %s to %s", len(s.Valid), s.ValidFailures,
			evaluate.FormatMicros(w.ValidFrom.UnixMicro()), evaluate.FormatMicros(w.AsOf.UnixMicro()))},
		{Name: "gap (lead)", Value: w.Gap.String()},
		{Name: "features", Value: fmt.Sprintf("%d (schema %.12s)", len(tab.Names), features.SchemaHash())},
		{Name: "seed", Value: fmt.Sprint(t.cfg.Seed)},
		{Name: "GBDT", Value: fmt.Sprintf("depth %d, learning rate %g, %d of at most %d rounds kept (early stopping %d)",
			t.cfg.Depth, t.cfg.LearningRate, c.fail.NumRounds(), t.cfg.Rounds, t.cfg.EarlyStop)},
	}
	for name, v := range th {
		r.Thresholds[name] = v.Value
	}
	for _, x := range c.all {
		r.Candidates = append(r.Candidates, report.Candidate{
			Name: x.name, PRAUC: x.summary.PRAUC, ROCAUC: x.summary.ROCAUC, LogLoss: x.summary.LogLoss, Brier: x.summary.Brier,
			RecallAtPrecision: x.recallAtP, FitSeconds: x.fitSeconds, TrainRows: x.trainRows, Note: x.note,
		})
		if pr, err := metrics.PRCurve(x.valid, s.ValidLabels); err == nil {
			pts := make([]report.Point, len(pr))
			for i, p := range pr {
				pts[i] = report.Point{X: p.Recall, Y: p.Precision}
			}
			r.PR = append(r.PR, report.Curve{Name: x.name, Points: pts, AUC: x.summary.PRAUC})
		}
		if roc, err := metrics.ROCCurve(x.valid, s.ValidLabels); err == nil {
			pts := make([]report.Point, len(roc))
			for i, p := range roc {
				pts[i] = report.Point{X: p.FPR, Y: p.TPR}
			}
			r.ROC = append(r.ROC, report.Curve{Name: x.name, Points: pts, AUC: x.summary.ROCAUC})
		}
	}
	reliability := func(scores []float64) []report.CalibrationBin {
		bins, err := metrics.Reliability(scores, s.ValidLabels, 10)
		if err != nil {
			return nil
		}
		out := make([]report.CalibrationBin, len(bins))
		for i, b := range bins {
			out[i] = report.CalibrationBin{MeanPredicted: b.MeanPredicted, Observed: b.ObservedRate, Count: b.Count}
		}
		return out
	}
	r.Calibration = reliability(cal.before)
	if cal.platt != nil {
		r.Calibrated = reliability(cal.after)
	}
	r.CalibrationNote = cal.note
	if cal.family.note != "" {
		r.CalibrationNote += " " + cal.family.note
	}
	if n := t.rules.total(); n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d sends a deterministic rule decides (features/mechanism) are left out of the models' training and validation rows, and so of every metric above: scoring decides them by the rule. They were: %s.", n, t.rules.String()))
	}
	if bc := res.Backtest; bc != nil {
		line := fmt.Sprintf("Champion comparison over a rolling-origin backtest (%d folds of %d days, each recipe refitted on at most %d of the most recent rows before the fold, %.0f s): mean difference %+.4f, 95%% interval [%+.4f, %+.4f], verdict %s. Folds:",
			len(bc.Folds), t.cfg.ValidDays, t.cfg.BacktestRows, bc.Seconds, bc.MeanDifference, bc.Low, bc.High, bc.Verdict)
		for _, f := range bc.Folds {
			line += fmt.Sprintf(" from %s challenger %.4f champion %.4f (%+.4f, bootstrap [%+.4f, %+.4f]);",
				evaluate.FormatMicros(f.ValidFrom), f.ChallengerPRAUC, f.ChampPRAUC, f.Difference, f.BootLow, f.BootHigh)
		}
		r.Notes = append(r.Notes, line)
	}
	r.Warnings = res.Warnings
	for i, v := range c.fail.FeatureImportance() {
		r.Importance = append(r.Importance, report.Importance{Feature: tab.Names[i], Value: v})
	}
	for _, f := range c.familyEval.perFamily {
		r.Classes = append(r.Classes, report.ClassResult{Name: f.family.String(), Support: f.support,
			PRAUC: f.prAUC, ROCAUC: f.rocAUC, Precision: f.precision, Recall: f.recall})
	}
	r.Comparison = &report.Comparison{
		ChampionVersion: res.ChampionVersion, Evaluated: res.ChampionEvaluated, ChampionPRAUC: res.ChampionPRAUC,
		ChallengerPRAUC: res.ValidPRAUC, Tolerance: t.cfg.Tolerance, Promoted: res.Promoted, Forced: res.Forced, Reason: res.Reason,
	}
	if pc := res.Paired; pc != nil {
		r.Comparison.DiffLow, r.Comparison.DiffHigh, r.Comparison.ProbBetter, r.Comparison.Replicates = pc.Low, pc.High, pc.ProbBetter, pc.Replicates
	}
	if ms := c.familyEval.summary; ms != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("Error-family model on the %d failed validation sends: accuracy %.3f, macro F1 %.3f, log-loss %.3f. "+
			"The per-family chart scores P(family) = P(fail) x P(family | fail) one-vs-rest on all validation sends; precision and recall are those of the family model's top class on failed sends.",
			ms.Rows, ms.Accuracy, ms.MacroF1, ms.LogLoss))
	}
	r.Notes = append(r.Notes, driftNotes(res.Drift)...)
	if codes := c.likelyCode; len(codes) > 0 {
		names := make([]string, 0, len(codes))
		for n := range codes {
			names = append(names, n)
		}
		sort.Strings(names)
		line := "Most frequent error code per family in training:"
		for _, n := range names {
			fam, _ := pipeline.ParseFamily(n)
			info, _ := pipeline.LookupCode(codes[n])
			line += fmt.Sprintf(" %s %d (%s);", fam, codes[n], info.Title)
		}
		r.Notes = append(r.Notes, line)
	}
	if _, err := report.Write(dir, r); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return nil
}

// nullable turns NaN and infinities into nil so that encoding/json can
// write them (as null).
func nullable(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

func finiteOr(v, fallback float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fallback
	}
	return v
}
