package training

import (
	"fmt"
	"strings"

	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/drift"
)

// servingPrep readies the fail model and the metadata for what scoring
// reports besides predictions: the fail model's node cover over its
// training rows (TreeSHAP reasons per send need it, and it is saved with
// the model) and the training rows' feature distributions (scoring's
// drift check reads them), with the validation window's drift from the
// training window. Neither needs the calibration or the thresholds: the
// drift runs on a goroutine of its own beside the run's other work from
// when the tables are built (it needs no model). finish waits for it.
type servingPrep struct {
	driftDone chan struct{}
	ref       *drift.Reference
	drift     []drift.FeatureDrift
	driftErr  error
}

// startServing starts measuring the training rows' feature distributions
// and the validation window's drift from them.
func (t *trainer) startServing(s *Tables) *servingPrep {
	p := &servingPrep{driftDone: make(chan struct{})}
	go func() {
		defer close(p.driftDone)
		// Distributions of the training window: its rows, or when they
		// were streamed, their uniform sample (taken before down-sampling).
		trainRows := s.TrainX
		if trainRows.Rows == 0 {
			trainRows = s.Sample
		}
		ref, err := drift.Fit(trainRows, s.Table.Names, drift.Bins)
		if err != nil {
			p.driftErr = fmt.Errorf("training feature distributions: %w", err)
			return
		}
		m := drift.NewMeter(ref)
		if err := m.Add(s.ValidX); err != nil {
			p.driftErr = fmt.Errorf("validation drift: %w", err)
			return
		}
		p.ref, p.drift = ref, m.Result()
	}()
	return p
}

// wait waits for what was started (on every return path of a run, so
// that no goroutine outlives it).
func (p *servingPrep) wait() {
	if p == nil {
		return
	}
	<-p.driftDone
}

// finish waits for the drift, stores the training distributions in md
// and the validation drift in res.Drift, and logs the drifted features.
func (t *trainer) finishServing(p *servingPrep, md *artifact.Metadata, res *Result) error {
	p.wait()
	if p.driftErr != nil {
		return p.driftErr
	}
	bundle.SetDrift(md, p.ref)
	res.Drift = p.drift
	if d := drift.DriftedOf(res.Drift); len(d) > 0 {
		t.log.Warn("features drifted between the training and validation windows (PSI > 0.2)",
			"features", drift.Format(d, 0), "threshold", drift.Drifted)
	} else {
		t.log.Info("no feature drifted between the training and validation windows", "max_psi", round4(drift.MaxPSI(res.Drift)))
	}
	return nil
}

// driftNotes are report.md's lines on the validation window's drift.
func driftNotes(ds []drift.FeatureDrift) []string {
	if len(ds) == 0 {
		return nil
	}
	d := drift.DriftedOf(ds)
	head := fmt.Sprintf("Feature drift, validation window against training (PSI over %d quantile bins of the training rows; above %g drifted, %g to %g moderate): ",
		drift.Bins, drift.Drifted, drift.Moderate, drift.Drifted)
	if len(d) == 0 {
		return []string{head + fmt.Sprintf("no feature drifted (largest PSI %.3f).", drift.MaxPSI(ds))}
	}
	var moderate []string
	for _, x := range ds {
		if x.Status == drift.StatusModerate {
			moderate = append(moderate, fmt.Sprintf("%s %.3f", x.Name, x.PSI))
		}
	}
	line := head + fmt.Sprintf("%d drifted: %s.", len(d), drift.Format(d, 0))
	if len(moderate) > 0 {
		line += " Moderate: " + strings.Join(moderate, ", ") + "."
	}
	return []string{line}
}
