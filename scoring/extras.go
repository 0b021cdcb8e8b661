package scoring

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"

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
	Reference bool                 `json:"reference"`
	Rows      int64                `json:"rows"`      // plan sends measured
	Threshold float64              `json:"threshold"` // PSI above which a feature is drifted
	Moderate  float64              `json:"moderate"`  // PSI from which a shift is moderate
	MinRows   int                  `json:"min_rows"`  // fewer plan sends are not assessed
	Drifted   []string             `json:"drifted"`   // drifted features, largest PSI first
	Features  []drift.FeatureDrift `json:"features"`  // every feature, in model order
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
	rep := &DriftReport{Threshold: drift.Drifted, Moderate: drift.Moderate, MinRows: drift.MinRows, Drifted: []string{}}
	if m.drift != nil {
		rep.Reference, rep.Rows, rep.Features = true, m.drift.Rows(), m.drift.Result()
		d := drift.DriftedOf(rep.Features)
		for _, x := range d {
			rep.Drifted = append(rep.Drifted, x.Name)
		}
		if len(d) > 0 {
			log.Warn("plan features drifted from the model's training data (PSI > 0.2): predictions on them are less reliable",
				"features", formatDrift(d, 0), "file", out.Path(DriftFile))
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
		fmt.Fprintf(w, "drift: no feature drifted from training (largest PSI %.3f; drifted above %g)\n", maxDriftPSI(d.Features), d.Threshold)
	default:
		fmt.Fprintf(w, "drift: %d %s drifted from training (PSI > %g): %s\n", len(d.Drifted), plural(float64(len(d.Drifted)), "feature", "features"),
			d.Threshold, formatDrift(drift.DriftedOf(d.Features), 5))
	}
}

// formatDrift names features with their PSI, "a (0.41), b (0.23)"; at most
// n (0: all) and how many more.
func formatDrift(d []drift.FeatureDrift, n int) string {
	var parts []string
	for i, x := range d {
		if n > 0 && i == n {
			parts = append(parts, fmt.Sprintf("%d more", len(d)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%.3f)", x.Name, x.PSI))
	}
	return strings.Join(parts, ", ")
}

func maxDriftPSI(ds []drift.FeatureDrift) float64 {
	m := 0.0
	for _, d := range ds {
		if !math.IsNaN(d.PSI) {
			m = max(m, d.PSI)
		}
	}
	return m
}
