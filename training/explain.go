package training

import (
	"context"
	"fmt"
	"strings"

	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/drift"
	"github.com/failcast/failcast/models/gbdt"
)

// prepareServing readies the fail model and the metadata for what scoring
// reports besides predictions: the fail model's node cover over its
// training rows (TreeSHAP reasons per send need it, and it is saved with
// the model) and the training rows' feature distributions (scoring's
// drift check reads them). It also measures the validation window's
// drift from the training window into res.Drift and logs the drifted
// features.
func (t *trainer) prepareServing(ctx context.Context, s *Tables, c *candidateSet, md *artifact.Metadata, res *Result) error {
	// Cover over the rows the model was fitted on: the binned,
	// down-sampled set of a streamed run, or the training rows.
	fitted := gbdt.Dataset{X: s.TrainX}
	if s.Binned != nil {
		fitted = *s.Binned
	}
	if err := c.fail.SetCoverDataset(ctx, fitted); err != nil {
		return fmt.Errorf("fail model: node cover for reasons: %w", err)
	}
	// Distributions of the training window: its rows, or when they were
	// streamed, their uniform sample (taken before down-sampling).
	trainRows := s.TrainX
	if trainRows.Rows == 0 {
		trainRows = s.Sample
	}
	ref, err := drift.Fit(trainRows, s.Table.Names, drift.Bins)
	if err != nil {
		return fmt.Errorf("training feature distributions: %w", err)
	}
	bundle.SetDrift(md, ref)
	m := drift.NewMeter(ref)
	if err := m.Add(s.ValidX); err != nil {
		return fmt.Errorf("validation drift: %w", err)
	}
	res.Drift = m.Result()
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
