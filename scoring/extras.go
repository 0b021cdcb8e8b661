package scoring

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/models/drift"
)

// DriftFile is the run's drift metrics: every feature's PSI of the plan
// against the model's training rows (docs/predictions.md).
const DriftFile = "drift.json"

// DriftReport is the plan's feature drift from the model's training
// distributions (package models/drift): PSI per feature over the training
// rows' quantile bins, drifted above drift.Drifted (0.2).
type DriftReport struct {
	// Reference is false when the model stores no training distributions
	// (trained by a build before drift): nothing was measured.
	Reference bool  `json:"reference"`
	Rows      int64 `json:"rows"` // plan sends measured
	// Share is the share of the plan's sends measured (DriftShare): 1
	// for plans of at most 2 x DriftSampleSends sends; 0 when nothing
	// was measured.
	Share     float64  `json:"share"`
	Threshold float64  `json:"threshold"` // PSI above which a feature is drifted
	Moderate  float64  `json:"moderate"`  // PSI from which a shift is moderate
	MinRows   int      `json:"min_rows"`  // fewer plan sends are not assessed
	Drifted   []string `json:"drifted"`   // drifted features, largest PSI first
	// Material are the drifted features the model leans on: at least
	// MaterialShare of its P(fail) trees' split gain. A 2-day plan differs
	// from weeks of training by construction in many features (calendar,
	// per-entity rates of a few accounts); the ones the model hardly uses
	// cannot move its predictions much, so only these are warned about.
	Material      []string             `json:"material"`
	MaterialShare float64              `json:"material_share"`
	Features      []drift.FeatureDrift `json:"features"` // every feature, in model order
}

// DriftSampleSends is about how many plan sends drift is measured on
// when the plan has more than twice as many: a hashed draw of a share
// DriftShare of them (drift.Meter.SetShare), the same on every run.
// Counting every send of a 1M-send plan cost about 6% of a warm run's
// CPU. A plan's sends come in campaigns that share most features, so the
// draw's noise is that of a sample of campaigns: on bench/bigplan's
// 1M-send plan, from a quarter of it, PSI moved by up to 0.004 near the
// thresholds (0.1, 0.2) and no feature changed status.
const DriftSampleSends = 250_000

// DriftShare returns the share of a plan of n sends that drift is
// measured on: 1 up to 2 x DriftSampleSends sends, then a power of two
// (1/2, 1/4, ...) that keeps at least DriftSampleSends of them.
func DriftShare(n int) float64 {
	share := 1.0
	for float64(n)*share >= 2*DriftSampleSends {
		share /= 2
	}
	return share
}

// MaterialDriftShare is the share of the P(fail) model's split gain from
// which a drifted feature is material (DriftReport.Material).
const MaterialDriftShare = 0.02

// materialDrift returns the drifted features in d whose share of the
// model's split gain is at least minShare, largest PSI first.
func materialDrift(d []drift.FeatureDrift, importance []float64, minShare float64) []drift.FeatureDrift {
	total := 0.0
	for _, v := range importance {
		total += v
	}
	share := map[string]float64{}
	if total > 0 {
		for j, d := range d {
			if j < len(importance) {
				share[d.Name] = importance[j] / total
			}
		}
	}
	var out []drift.FeatureDrift
	for _, x := range drift.DriftedOf(d) {
		if share[x.Name] >= minShare {
			out = append(out, x)
		}
	}
	return out
}

// prepareExtras sets up what a run computes besides predictions: reasons
// (Config.Reasons, which needs the model's node cover) and the drift
// meter (when the model stores training distributions).
func (m *model) prepareExtras(o Config, log *slog.Logger) error {
	if err := checkReasons(o.Reasons, m.Fail, m.version); err != nil {
		return err
	}
	m.reasons = newReasoner(o.Reasons, m.Fail, m.Metadata.FeatureNames)
	ref, err := m.DriftReference()
	if err != nil {
		return exitcode.Inputf("model %s: %w", m.version, err)
	}
	if ref == nil {
		log.Info("the model stores no training feature distributions (trained by an earlier build): drift is not measured", "model", m.version)
		return nil
	}
	m.drift = drift.NewMeter(ref)
	return nil
}

// writeDrift fills r.Drift from the model's meter, logs the drifted
// features and writes drift.json to out.
func (r *Result) writeDrift(out *OutputDir, m *model, log *slog.Logger) error {
	rep := &DriftReport{Threshold: drift.Drifted, Moderate: drift.Moderate, MinRows: drift.MinRows, Drifted: []string{},
		Material: []string{}, MaterialShare: MaterialDriftShare}
	if m.drift != nil {
		rep.Reference, rep.Rows, rep.Share, rep.Features = true, m.drift.Rows(), m.drift.Share(), m.drift.Result()
		for _, x := range drift.DriftedOf(rep.Features) {
			rep.Drifted = append(rep.Drifted, x.Name)
		}
		material := materialDrift(rep.Features, m.Fail.FeatureImportance(), MaterialDriftShare)
		for _, x := range material {
			rep.Material = append(rep.Material, x.Name)
		}
		if len(material) > 0 {
			log.Warn("plan features the model leans on drifted from its training data (PSI > 0.2): predictions are less reliable",
				"features", drift.Format(material, 0), "drifted_in_all", len(rep.Drifted), "file", out.Path(DriftFile))
		} else if rep.Rows < drift.MinRows {
			log.Info("too few plan sends to measure drift", "sends", rep.Rows, "min", drift.MinRows)
		}
	}
	r.Drift = rep
	w, err := out.Create(DriftFile)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write %s: %w", DriftFile, err)
	}
	return nil
}

// writeDriftSummary writes the summary's drift line.
func (r *Result) writeDriftSummary(w io.Writer) {
	d := r.Drift
	switch {
	case d == nil:
		return
	case !d.Reference:
		fmt.Fprintf(w, "drift: not measured (the model stores no training feature distributions; retrain to get them)\n")
	case d.Rows < int64(d.MinRows):
		fmt.Fprintf(w, "drift: not assessed (%d sends, fewer than %d)\n", d.Rows, d.MinRows)
	case len(d.Drifted) == 0:
		fmt.Fprintf(w, "drift: no feature drifted from training (largest PSI %.3f; drifted above %g)\n", drift.MaxPSI(d.Features), d.Threshold)
	case len(d.Material) == 0:
		fmt.Fprintf(w, "drift: %d %s drifted from training (PSI > %g), none of them one the model leans on (>= %.0f%% of its split gain); see %s\n",
			len(d.Drifted), plural(float64(len(d.Drifted)), "feature", "features"), d.Threshold, 100*d.MaterialShare, DriftFile)
	default:
		var material []drift.FeatureDrift
		for _, x := range drift.DriftedOf(d.Features) {
			if slices.Contains(d.Material, x.Name) {
				material = append(material, x)
			}
		}
		fmt.Fprintf(w, "drift: %d %s the model leans on drifted from training (PSI > %g): %s (%d drifted in all; see %s)\n",
			len(d.Material), plural(float64(len(d.Material)), "feature", "features"), d.Threshold, drift.Format(material, 5), len(d.Drifted), DriftFile)
	}
}
