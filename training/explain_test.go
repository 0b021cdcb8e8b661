package training

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/registry"
	"github.com/failcast/failcast/models/report"
)

// TestTrainSavesCoverAndDriftReference: the saved fail model has node
// cover (scoring's reasons need it), the bundle stores the training rows'
// feature distributions, and report.md and the log report the validation
// window's drift.
func TestTrainSavesCoverAndDriftReference(t *testing.T) {
	hist := history(t)
	reg := filepath.Join(t.TempDir(), "registry")
	code, log := runTrain(t, fastConfig(hist, reg))
	if code != exitcode.OK {
		t.Fatalf("exit %d\n%s", code, log)
	}
	dir := filepath.Join(reg, registry.VersionsDir, current(t, reg))
	b, err := bundle.Load(dir, features.SchemaHash())
	if err != nil {
		t.Fatal(err)
	}
	if !b.Fail.HasCover() {
		t.Error("the saved fail model has no node cover: reasons cannot be computed")
	}
	ref, err := b.DriftReference()
	if err != nil || ref == nil || len(ref.Features) != len(b.Metadata.FeatureNames) || ref.Rows != b.Metadata.Rows.Train {
		t.Fatalf("drift reference %+v, %v; want every feature over %d training rows", ref, err, b.Metadata.Rows.Train)
	}
	md, _ := os.ReadFile(filepath.Join(dir, report.FileName))
	if !strings.Contains(string(md), "Feature drift, validation window against training") {
		t.Errorf("report.md does not report drift:\n%s", md)
	}
	if !strings.Contains(log, "training and validation windows") {
		t.Errorf("log does not report drift:\n%s", log)
	}
}
