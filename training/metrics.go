package training

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metric names of the textfile (node_exporter textfile collector format).
const (
	metricDuration    = "failcast_train_duration_seconds"
	metricRows        = "failcast_train_rows"
	metricValidPRAUC  = "failcast_train_valid_pr_auc"
	metricPromoted    = "failcast_train_promoted"
	metricLastSuccess = "failcast_train_last_success_timestamp_seconds"
	metricExitCode    = "failcast_train_exit_code"
)

// RunMetrics is what one run reports in the metrics file.
type RunMetrics struct {
	Duration   time.Duration
	Rows       int     // training rows; 0 if the run failed before counting
	ValidPRAUC float64 // NaN if the run failed before evaluating
	Promoted   bool
	ExitCode   int
	Finished   time.Time
}

// WriteMetricsFile writes m to path atomically (node_exporter textfile
// format). Run calls it with Config.MetricsFile; a command calls it for a
// run that failed before Run, such as on a bad flag. A successful run (exit 0)
// sets the last success time to m.Finished; a failed run carries over the
// previous file's value, so an alert on its age fires when runs keep
// failing (and the metric stays absent until a first success).
func WriteMetricsFile(path string, m RunMetrics) error {
	lastSuccess := math.NaN()
	var warning error
	if m.ExitCode == exitcode.OK {
		lastSuccess = float64(m.Finished.UnixMilli()) / 1000
	} else {
		prev, err := readGauge(path, metricLastSuccess)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			// Write the file anyway (without the value), but say so.
			warning = fmt.Errorf("metrics file %s: previous %s lost: %w", path, metricLastSuccess, err)
		}
		lastSuccess = prev
	}
	reg := prometheus.NewRegistry()
	gauge := func(name, help string, v float64) {
		if math.IsNaN(v) {
			return
		}
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		g.Set(v)
		reg.MustRegister(g)
	}
	gauge(metricDuration, "Wall time of the last failcast training run.", m.Duration.Seconds())
	gauge(metricRows, "Training rows of the last failcast training run.", float64(m.Rows))
	gauge(metricValidPRAUC, "Validation PR-AUC of the last challenger model.", m.ValidPRAUC)
	gauge(metricPromoted, "1 if the last training run published its model as champion, else 0.", b2f(m.Promoted))
	gauge(metricLastSuccess, "Unix time of the last training run that exited 0.", lastSuccess)
	gauge(metricExitCode, "Exit code of the last failcast training run (0 ok, 1 internal, 2 usage, 3 input data, 4 locked).", float64(m.ExitCode))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	return warning
}

// readGauge returns the value of an unlabelled gauge in a textfile, or
// NaN if the file does not have it.
func readGauge(path, name string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return math.NaN(), err
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(f)
	if err != nil {
		return math.NaN(), fmt.Errorf("parse: %w", err)
	}
	mf, ok := families[name]
	if !ok || len(mf.GetMetric()) == 0 {
		return math.NaN(), nil
	}
	m := mf.GetMetric()[0]
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue(), nil
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue(), nil
	}
	return math.NaN(), nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
