package artifact

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/models/metrics"
)

const schema = "schema-abc123"

func sampleMetadata() Metadata {
	sum := metrics.Compute([]float64{0.9, 0.2, 0.7, 0.1}, []bool{true, false, false, false})
	high, _ := metrics.ThresholdForPrecision([]float64{0.9, 0.2, 0.7, 0.1}, []bool{true, false, false, false}, 0.9)
	return Metadata{
		FeatureSchemaHash: schema,
		FeatureNames:      []string{"recipient_fail_rate_7d", "template_age_days"},
		TrainWindow:       WindowFromMicros(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC).UnixMicro(), time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC).UnixMicro()),
		ValidWindow:       WindowFromMicros(time.Date(2026, 10, 22, 0, 0, 0, 0, time.UTC).UnixMicro(), time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC).UnixMicro()),
		LeadTime:          Duration(24 * time.Hour),
		Rows:              Rows{Train: 1000, Valid: 4, TrainPositives: 50, ValidPositives: 1},
		Hyperparameters:   map[string]any{"trees": 300.0, "learning_rate": 0.05},
		Seed:              42,
		Metrics:           Metrics{Binary: &sum},
		Thresholds:        map[string]Threshold{"high": {Threshold: high, Note: "precision 0.9 on the validation window"}},
		Extra:             map[string]any{"note": "test"},
	}
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "model")
	md := sampleMetadata()
	files := map[string]func(io.Writer) error{
		"model.gbdt":  writeString(strings.Repeat("tree bytes ", 10000)),
		"logreg.json": writeString(`{"weights":[1,2]}`),
	}
	if err := Write(dir, md, files); err != nil {
		t.Fatal(err)
	}
	a, err := Open(dir, schema)
	if err != nil {
		t.Fatal(err)
	}
	got := a.Metadata
	if got.FormatVersion != FormatVersion || got.CodeVersion == "" || got.CreatedAt.IsZero() {
		t.Errorf("Write did not fill the defaults: %+v", got)
	}
	if !regexp.MustCompile(`^\d{8}T\d{6}Z-[0-9a-f]{8}$`).MatchString(got.ModelVersion) {
		t.Errorf("model version %q, want like 20261101T020000Z-3fa2c1d9", got.ModelVersion)
	}
	if len(got.Files) != 2 || len(got.Files["model.gbdt"]) != 64 {
		t.Errorf("files = %v", got.Files)
	}
	if got.LeadTime != md.LeadTime || got.Seed != 42 || got.Rows != md.Rows || !got.TrainWindow.From.Equal(md.TrainWindow.From) ||
		got.FeatureNames[1] != "template_age_days" || got.Hyperparameters["trees"] != 300.0 {
		t.Errorf("metadata changed in the round trip:\n got %+v\nwant %+v", got, md)
	}
	if got.Metrics.Binary == nil || got.Metrics.Binary.ROCAUC != md.Metrics.Binary.ROCAUC || got.Metrics.Binary.Rows != 4 {
		t.Errorf("binary metrics = %+v", got.Metrics.Binary)
	}
	h := got.Thresholds["high"]
	if h.Note != md.Thresholds["high"].Note || h.Value != md.Thresholds["high"].Value || h.Rule != metrics.RulePrecision || h.Target != 0.9 {
		t.Errorf("threshold = %+v, want %+v", h, md.Thresholds["high"])
	}
	b, err := a.ReadFile("logreg.json")
	if err != nil || string(b) != `{"weights":[1,2]}` {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
	if _, err := a.Open("missing.bin"); err == nil || !strings.Contains(err.Error(), "logreg.json, model.gbdt") {
		t.Errorf("unknown file: %v", err)
	}
	// Nothing but the model directory is left in the parent.
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("parent holds %d entries, want only the model directory", len(entries))
	}
	// The metadata is readable JSON with the documented names.
	raw, _ := os.ReadFile(filepath.Join(dir, MetadataFile))
	for _, key := range []string{`"format_version": 2`, `"lead_time": "24h0m0s"`, `"feature_schema_hash"`, `"roc_auc"`, `"files"`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("metadata.json lacks %s", key)
		}
	}
}

func TestWriteRefusesExistingDir(t *testing.T) {
	dir := t.TempDir() // exists, empty: a rename would silently replace it
	err := Write(dir, sampleMetadata(), map[string]func(io.Writer) error{"m": writeString("x")})
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("err = %v, want fs.ErrExist", err)
	}
}

func TestInterruptedWriteLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "model")
	boom := errors.New("disk full")
	err := Write(dir, sampleMetadata(), map[string]func(io.Writer) error{
		"a.bin": writeString(strings.Repeat("a", 1<<20)),
		"b.bin": func(w io.Writer) error { io.WriteString(w, "half"); return boom },
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "b.bin") {
		t.Fatalf("err = %v, want the callback's error naming b.bin", err)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 0 {
		t.Errorf("interrupted write left %v", entries)
	}
}

func TestWriteRejects(t *testing.T) {
	ok := writeString("x")
	noSchema := sampleMetadata()
	noSchema.FeatureSchemaHash = ""
	tests := []struct {
		name  string
		md    Metadata
		files map[string]func(io.Writer) error
	}{
		{"no files", sampleMetadata(), nil},
		{"path in name", sampleMetadata(), map[string]func(io.Writer) error{"../evil": ok}},
		{"metadata name", sampleMetadata(), map[string]func(io.Writer) error{MetadataFile: ok}},
		{"hidden name", sampleMetadata(), map[string]func(io.Writer) error{".x": ok}},
		{"nil writer", sampleMetadata(), map[string]func(io.Writer) error{"m": nil}},
		{"no schema hash", noSchema, map[string]func(io.Writer) error{"m": ok}},
	}
	for _, tc := range tests {
		parent := t.TempDir()
		if err := Write(filepath.Join(parent, "model"), tc.md, tc.files); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 0 {
			t.Errorf("%s: left %v", tc.name, entries)
		}
	}
}

// written returns a fresh model directory.
func written(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model")
	if err := Write(dir, sampleMetadata(), map[string]func(io.Writer) error{
		"model.gbdt":  writeString("the trees"),
		"logreg.json": writeString("{}"),
	}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestOpenTampered(t *testing.T) {
	dir := written(t)
	if err := os.WriteFile(filepath.Join(dir, "model.gbdt"), []byte("the treez"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, schema)
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "model.gbdt") {
		t.Errorf("err = %v, want ErrChecksum naming model.gbdt", err)
	}

	dir = written(t)
	if err := os.Remove(filepath.Join(dir, "logreg.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, schema); err == nil || !strings.Contains(err.Error(), "logreg.json") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestChangedAfterOpen(t *testing.T) {
	dir := written(t)
	a, err := Open(dir, schema)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.gbdt"), []byte("other trees"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ReadFile("model.gbdt"); !errors.Is(err, ErrChecksum) {
		t.Errorf("err = %v, want ErrChecksum", err)
	}
}

func TestOpenWrongSchema(t *testing.T) {
	dir := written(t)
	a, _ := Open(dir, "")
	_, err := Open(dir, "schema-def456")
	want := fmt.Sprintf("model %s was trained on feature schema %s, this build computes schema-def456: retrain or use a matching build", a.Metadata.ModelVersion, schema)
	if !errors.Is(err, ErrSchemaMismatch) || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want ErrSchemaMismatch saying %q", err, want)
	}
}

// setFormatVersion rewrites metadata.json with another format_version.
func setFormatVersion(t *testing.T, dir string, v any) {
	t.Helper()
	path := filepath.Join(dir, MetadataFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if v == nil {
		delete(m, "format_version")
	} else {
		m["format_version"] = v
	}
	raw, _ = json.Marshal(m)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenFormatVersion(t *testing.T) {
	tests := []struct {
		name    string
		version any
		text    string
	}{
		{"future", FormatVersion + 1, "this build reads versions up to 2"},
		{"zero", 0, "unknown format version 0"},
		{"missing", nil, "no format_version"},
	}
	for _, tc := range tests {
		dir := written(t)
		setFormatVersion(t, dir, tc.version)
		_, err := Open(dir, schema)
		if !errors.Is(err, ErrFormatVersion) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: err = %v, want ErrFormatVersion saying %q", tc.name, err, tc.text)
		}
	}
	dir := written(t)
	os.WriteFile(filepath.Join(dir, MetadataFile), []byte("{not json"), 0o644)
	if _, err := Open(dir, schema); err == nil || !strings.Contains(err.Error(), MetadataFile) {
		t.Errorf("broken metadata: %v", err)
	}
}

func TestOpenRejectsPathInFiles(t *testing.T) {
	dir := written(t)
	path := filepath.Join(dir, MetadataFile)
	raw, _ := os.ReadFile(path)
	var m map[string]any
	json.Unmarshal(raw, &m)
	m["files"] = map[string]any{"../../etc/passwd": strings.Repeat("0", 64)}
	raw, _ = json.Marshal(m)
	os.WriteFile(path, raw, 0o644)
	if _, err := Open(dir, schema); err == nil || !strings.Contains(err.Error(), "without directories") {
		t.Errorf("path in files: err = %v", err)
	}
}

func TestThresholdJSONWithoutNote(t *testing.T) {
	th := Threshold{Threshold: metrics.Threshold{Rule: metrics.RuleBudget, Target: 0.05, Reached: true, Value: 0.3, Precision: math.NaN(), Recall: 0.5}}
	b, err := json.Marshal(th)
	if err != nil {
		t.Fatal(err)
	}
	var back Threshold
	if err := json.Unmarshal(b, &back); err != nil || back.Value != 0.3 || back.Rule != metrics.RuleBudget || !math.IsNaN(back.Precision) || back.Note != "" {
		t.Errorf("round trip of %s = %+v, %v", b, back, err)
	}
}

func ExampleWrite() {
	parent, _ := os.MkdirTemp("", "artifact-example")
	defer os.RemoveAll(parent)
	dir := filepath.Join(parent, "20261101T020000Z")

	md := Metadata{
		CreatedAt:         time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC),
		FeatureSchemaHash: "f00d",
		FeatureNames:      []string{"a", "b"},
		LeadTime:          Duration(24 * time.Hour),
		Seed:              1,
	}
	err := Write(dir, md, map[string]func(io.Writer) error{
		"model.bin": func(w io.Writer) error { _, err := w.Write([]byte("weights")); return err },
	})
	if err != nil {
		panic(err)
	}
	a, err := Open(dir, "f00d")
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Metadata.ModelVersion)
	fmt.Println(a.Metadata.Files["model.bin"])
	// Output:
	// 20261101T020000Z-a2392d76
	// 9a129038d9a00aed0cf6a7ea059ca50a813449061ab87848cf1a13eafdf33b2c
}
