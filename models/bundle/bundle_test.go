package bundle

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/calibrate"
	"github.com/failcast/failcast/models/gbdt"
	"github.com/failcast/failcast/models/metrics"
)

const testSchema = "schema-v1"

// fitPair trains a small fail model and a 4-class family model on
// synthetic data where column 0 drives failure and column 1 the class.
func fitPair(t testing.TB) (X models.Matrix, fail, family *gbdt.Model) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	n := 600
	X = models.NewMatrix(n, 3)
	yFail := make([]float32, n)
	var famRows []int
	var yFam []float32
	for i := 0; i < n; i++ {
		a, b := rng.Float32(), rng.Float32()
		X.Row(i)[0], X.Row(i)[1], X.Row(i)[2] = a, b, rng.Float32()
		if a > 0.7 {
			yFail[i] = 1
			famRows = append(famRows, i)
			yFam = append(yFam, float32(1+int(b*3))) // classes 1..3
		}
	}
	p := gbdt.DefaultParams()
	p.NumRounds, p.MaxDepth, p.Seed = 20, 3, 7
	var err error
	fail, err = gbdt.Fit(context.Background(), p, gbdt.Dataset{X: X, Y: yFail}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Objective, p.NumClass = gbdt.Softmax, 4
	family, err = gbdt.Fit(context.Background(), p, gbdt.Dataset{X: X.SelectRows(famRows), Y: yFam}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return X, fail, family
}

// saveModel saves a bundle of md and the two models in a new directory
// and returns it.
func saveModel(t testing.TB, md artifact.Metadata, fail, family *gbdt.Model) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model")
	if err := Save(dir, md, fail, family); err != nil {
		t.Fatal(err)
	}
	return dir
}

func testMetadata() artifact.Metadata {
	md := artifact.Metadata{
		ModelVersion:      "v1",
		FeatureSchemaHash: testSchema,
		FeatureNames:      []string{"a", "b", "c"},
		Thresholds: map[string]artifact.Threshold{
			ThresholdHigh:   {Threshold: metrics.Threshold{Rule: metrics.RulePrecision, Target: 0.8, Reached: true, Value: 0.6}},
			ThresholdMedium: {Threshold: metrics.Threshold{Rule: metrics.RuleBudget, Target: 0.1, Reached: true, Value: 0.4}},
		},
	}
	SetServing(&md, Serving{Lead: 4 * time.Hour, Refresh: 24 * time.Hour, LikelyCodes: map[string]int32{"throttle": 130429, "recipient": 131026}})
	return md
}

func TestSaveLoadPredict(t *testing.T) {
	X, fail, family := fitPair(t)
	dir := filepath.Join(t.TempDir(), "model")
	if err := Save(dir, testMetadata(), fail, family); err != nil {
		t.Fatal(err)
	}
	b, err := Load(dir, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	if b.Lead != 4*time.Hour || b.Refresh != 24*time.Hour || b.LikelyCodes["throttle"] != 130429 || len(b.LikelyCodes) != 2 {
		t.Fatalf("extras: lead %v refresh %v codes %v", b.Lead, b.Refresh, b.LikelyCodes)
	}
	if v, ok := b.Threshold(ThresholdHigh); !ok || v != 0.6 {
		t.Fatalf("high threshold %v %v", v, ok)
	}
	if _, ok := b.Threshold("nope"); ok {
		t.Fatal("unknown threshold found")
	}
	pFail, pFamily := b.Predict(X)
	want := fail.PredictProba(X)
	var sepHigh, sepLow float64
	for i := range want {
		if pFail[i] != want[i] {
			t.Fatalf("row %d: loaded model predicts %v, trained %v", i, pFail[i], want[i])
		}
		sum := 0.0
		for _, p := range pFamily[i] {
			sum += p
		}
		if math.Abs(sum-1) > 1e-9 || math.Abs(pFamily[i][0]-(1-pFail[i])) > 1e-12 {
			t.Fatalf("row %d: class probabilities %v (sum %v) do not match P(fail) %v", i, pFamily[i], sum, pFail[i])
		}
		if X.At(i, 0) > 0.7 {
			sepHigh += pFail[i]
		} else {
			sepLow += pFail[i]
		}
	}
	if b.NumClass() != 4 {
		t.Fatalf("NumClass %d", b.NumClass())
	}
	// The models learned something: failing rows score higher.
	if sepHigh/180 < 2*sepLow/420 {
		t.Fatalf("fail model does not separate: mean %.3f vs %.3f", sepHigh/180, sepLow/420)
	}
	// PredictInto gives the same, batch after batch, in buffers it reuses.
	// P(fail) too: after the first, largest batch no output is allocated.
	var s Scratch
	var first *float64
	for _, rows := range [][2]int{{0, X.Rows}, {0, 7}, {100, 350}, {X.Rows - 1, X.Rows}} {
		sub := models.Matrix{Rows: rows[1] - rows[0], Cols: X.Cols, Data: X.Data[rows[0]*X.Cols : rows[1]*X.Cols]}
		gotFail, gotFamily := b.PredictInto(&s, sub)
		if !slices.Equal(gotFail, pFail[rows[0]:rows[1]]) || !slices.EqualFunc(gotFamily, pFamily[rows[0]:rows[1]], slices.Equal) {
			t.Fatalf("rows %v: PredictInto differs from Predict", rows)
		}
		if first == nil {
			first = &gotFail[0]
		} else if &gotFail[0] != first {
			t.Fatalf("rows %v: PredictInto allocated a new P(fail) slice", rows)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	_, fail, family := fitPair(t)
	root := t.TempDir()
	good := filepath.Join(root, "good")
	if err := Save(good, testMetadata(), fail, family); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     func() string
		schema  string
		wantErr error
	}{
		{"schema mismatch", func() string { return good }, "other-schema", artifact.ErrSchemaMismatch},
		{"corrupt model file", func() string {
			d := filepath.Join(root, "corrupt")
			Save(d, testMetadata(), fail, family)
			os.WriteFile(filepath.Join(d, FailFile), []byte("garbage"), 0o644)
			return d
		}, testSchema, artifact.ErrChecksum},
		{"missing dir", func() string { return filepath.Join(root, "none") }, testSchema, os.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.dir(), tc.schema)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestSaveRejects(t *testing.T) {
	_, fail, family := fitPair(t)
	md := testMetadata()
	short := testMetadata()
	short.FeatureNames = short.FeatureNames[:2]
	tests := []struct {
		name         string
		md           artifact.Metadata
		fail, family *gbdt.Model
	}{
		{"missing family", md, fail, nil},
		{"swapped models", md, family, fail},
		{"feature count", short, fail, family},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "m")
			if err := Save(dir, tc.md, tc.fail, tc.family); err == nil {
				t.Fatal("Save succeeded")
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatal("a rejected Save left a directory")
			}
		})
	}
}

func TestCombineFamily(t *testing.T) {
	tests := []struct {
		name  string
		pFail float64
		cond  []float64
		want  []float64
	}{
		{"renormalises without class 0", 0.5, []float64{0.2, 0.4, 0.4}, []float64{0.5, 0.25, 0.25}},
		{"no failure", 0, []float64{0, 0.9, 0.1}, []float64{1, 0, 0}},
		{"zero mass spreads evenly", 0.4, []float64{1, 0, 0}, []float64{0.6, 0.2, 0.2}},
		{"certain failure", 1, []float64{0, 0.25, 0.75}, []float64{0, 0.25, 0.75}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CombineFamily([]float64{tc.pFail}, [][]float64{tc.cond})[0]
			for c := range tc.want {
				if math.Abs(got[c]-tc.want[c]) > 1e-12 {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestParseExtras(t *testing.T) {
	tests := []struct {
		name    string
		extra   map[string]any
		wantErr bool
	}{
		{"absent", nil, false},
		{"json numbers", map[string]any{"likely_codes": map[string]any{"media": 131053.0}, "lead": "2h"}, false},
		{"fractional code", map[string]any{"likely_codes": map[string]any{"media": 1.5}}, true},
		{"bad duration", map[string]any{"lead": "soon"}, true},
		{"wrong type", map[string]any{"refresh": 3.0}, true},
		{"codes not an object", map[string]any{"likely_codes": []any{1.0}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := parseExtras(tc.extra)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

// wantAll is what a scorer of testMetadata's bundles asks for.
var wantAll = Want{SchemaHash: testSchema, FeatureNames: []string{"a", "b", "c"}, MaxClasses: 4, Thresholds: true}

func TestLoadForChecks(t *testing.T) {
	_, fail, family := fitPair(t)
	save := func(edit func(*artifact.Metadata)) string {
		md := testMetadata()
		if edit != nil {
			edit(&md)
		}
		return saveModel(t, md, fail, family)
	}
	threshold := func(v float64) artifact.Threshold {
		return artifact.Threshold{Threshold: metrics.Threshold{Rule: metrics.RuleBudget, Reached: true, Value: v}}
	}
	tests := []struct {
		name    string
		edit    func(*artifact.Metadata)
		want    func(Want) Want
		wantErr error
		wantMsg string
	}{
		{"fits", nil, nil, nil, ""},
		{"schema hash", nil, func(w Want) Want { w.SchemaHash = "schema-v2"; return w }, artifact.ErrSchemaMismatch, "feature schema"},
		{"feature names", nil, func(w Want) Want { w.FeatureNames = []string{"a", "c", "b"}; return w }, artifact.ErrSchemaMismatch, "feature names differ"},
		{"names not checked", nil, func(w Want) Want { w.FeatureNames = nil; return w }, nil, ""},
		{"too many classes", nil, func(w Want) Want { w.MaxClasses = 3; return w }, ErrIncompatible, "4 classes"},
		{"no thresholds", func(md *artifact.Metadata) { md.Thresholds = nil }, nil, ErrIncompatible, `no "high" and "medium" thresholds`},
		{"thresholds not asked for", func(md *artifact.Metadata) { md.Thresholds = nil }, func(w Want) Want { w.Thresholds = false; return w }, nil, ""},
		{"zero threshold", func(md *artifact.Metadata) { md.Thresholds[ThresholdMedium] = threshold(0) }, nil, ErrIncompatible, "positive"},
		{"medium above high", func(md *artifact.Metadata) { md.Thresholds[ThresholdMedium] = threshold(0.9) }, nil, ErrIncompatible, "above high"},
		{"high not reached", func(md *artifact.Metadata) {
			md.Thresholds[ThresholdHigh] = artifact.Threshold{Threshold: metrics.Threshold{Rule: metrics.RulePrecision, Value: math.Inf(1)}}
		}, nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := save(tc.edit)
			want := wantAll
			if tc.want != nil {
				want = tc.want(want)
			}
			b, err := LoadFor(dir, want)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if want.Thresholds {
					th, err := b.Thresholds()
					if err != nil || th.Medium != 0.4 || th.Medium > th.High {
						t.Fatalf("thresholds %+v, %v", th, err)
					}
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("got %v, want %v containing %q", err, tc.wantErr, tc.wantMsg)
			}
		})
	}
}

// TestOlderMetadata loads metadata.json as earlier builds wrote it: the
// serving settings as Extra keys, or none at all; a malformed field is
// named.
func TestOlderMetadata(t *testing.T) {
	_, fail, family := fitPair(t)
	tests := []struct {
		name    string
		extra   map[string]any // replaces metadata.json's "extra"
		want    Serving
		wantErr string
	}{
		{"written by the previous build", map[string]any{"lead": "4h0m0s", "refresh": "24h0m0s", "likely_codes": map[string]any{"throttle": 130429},
			"as_of": "2026-11-01T00:00:00Z", "forced": false}, Serving{Lead: 4 * time.Hour, Refresh: 24 * time.Hour, LikelyCodes: map[string]int32{"throttle": 130429}}, ""},
		{"no extra at all", nil, Serving{LikelyCodes: map[string]int32{}}, ""},
		{"lead as a number", map[string]any{"lead": 14400}, Serving{}, "extra.lead is float64"},
		{"refresh not a duration", map[string]any{"refresh": "daily"}, Serving{}, "extra.refresh"},
		{"likely code not an integer", map[string]any{"likely_codes": map[string]any{"throttle": "130429"}}, Serving{}, "extra.likely_codes[throttle]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "m")
			if err := Save(dir, testMetadata(), fail, family); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, artifact.MetadataFile)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			delete(m, "extra")
			if tc.extra != nil {
				m["extra"] = tc.extra
			}
			raw, _ = json.Marshal(m)
			if err := os.WriteFile(path, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			b, err := LoadFor(dir, wantAll)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), artifact.MetadataFile) {
					t.Fatalf("got %v, want an error naming %s and %q", err, artifact.MetadataFile, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Lead != tc.want.Lead || b.Refresh != tc.want.Refresh || !maps.Equal(b.LikelyCodes, tc.want.LikelyCodes) {
				t.Fatalf("serving %+v, want %+v", b.Serving, tc.want)
			}
		})
	}
}

func TestCalibrationRoundTrip(t *testing.T) {
	_, fail, family := fitPair(t)
	tests := []struct {
		name    string
		extra   any // written over extra.probability_calibration after SetServing; nil keeps it
		want    *calibrate.Platt
		wantErr string
	}{
		{name: "absent", want: nil},
		{name: "stored", want: &calibrate.Platt{A: 1.25, B: 0.5}},
		{name: "unknown method", extra: map[string]any{"method": "isotonic", "a": 1.0, "b": 0.0}, wantErr: "this build knows"},
		{name: "decreasing", extra: map[string]any{"method": "platt", "a": -1.0, "b": 0.0}, wantErr: "not monotone"},
		{name: "not an object", extra: "platt", wantErr: "want an object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			md := testMetadata()
			s := Serving{Lead: time.Hour, Calibration: tc.want, CalibrationRows: 1234}
			SetServing(&md, s)
			if tc.extra != nil {
				md.Extra[ExtraCalibration] = tc.extra
			}
			dir := saveModel(t, md, fail, family)
			b, err := Load(dir, testSchema)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == nil && b.Calibration != nil:
				t.Fatalf("calibration %+v, want none", *b.Calibration)
			case tc.want != nil && (b.Calibration == nil || *b.Calibration != *tc.want || b.CalibrationRows != 1234):
				t.Fatalf("calibration %+v (%d rows), want %+v", b.Calibration, b.CalibrationRows, *tc.want)
			}
		})
	}
}

// TestCombineFamilyMapped: a class's probability goes through its map
// and P(fail) becomes the classes' sum.
func TestCombineFamilyMapped(t *testing.T) {
	pFail := []float64{0.5, 0.4}
	cond := [][]float64{{0.2, 0.4, 0.4}, {1, 0, 0}}
	m := calibrate.FamilyMaps{calibrate.Identity, {A: 1, B: math.Log(0.5)}}
	got := CombineFamilyMapped(pFail, cond, m)
	first := m.ApplyClass(1, 0.25)
	want := []float64{1 - first - 0.25, first, 0.25}
	for c := range want {
		if math.Abs(got[0][c]-want[c]) > 1e-12 {
			t.Fatalf("mapped row %v, want %v", got[0], want)
		}
	}
	if math.Abs(pFail[0]-(first+0.25)) > 1e-12 || first >= 0.25 {
		t.Errorf("P(fail) %v, want %v (the first class lowered)", pFail[0], first+0.25)
	}
	// A row without a split keeps P(fail) and spreads it evenly.
	if pFail[1] != 0.4 || math.Abs(got[1][1]-0.2) > 1e-12 {
		t.Errorf("zero-mass row: P(fail) %v, row %v", pFail[1], got[1])
	}
}

// TestFamilyMapsRoundTrip: the family maps survive SetServing, Save and
// Load, and Predict applies them; malformed ones fail Load.
func TestFamilyMapsRoundTrip(t *testing.T) {
	X, fail, family := fitPair(t)
	maps := calibrate.FamilyMaps{calibrate.Identity, {A: 2, B: -1}, calibrate.Identity, {A: 1, B: math.Log(0.25)}}
	md := testMetadata()
	SetServing(&md, Serving{Lead: time.Hour, FamilyMaps: maps, FamilyMapRows: 99})
	dir := saveModel(t, md, fail, family)
	b, err := Load(dir, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.FamilyMaps, maps) || b.FamilyMapRows != 99 {
		t.Fatalf("maps %v (%d rows), want %v", b.FamilyMaps, b.FamilyMapRows, maps)
	}
	pFail, pFamily := b.Predict(X)
	raw := fail.PredictProba(X)
	want := CombineFamilyMapped(slices.Clone(raw), family.PredictProbaMulti(X), maps)
	lower := 0
	for i := range pFail {
		if pFail[i] < raw[i]-1e-12 {
			lower++
		}
		for c := range pFamily[i] {
			if math.Abs(pFamily[i][c]-want[i][c]) > 1e-12 {
				t.Fatalf("row %d: %v, want %v", i, pFamily[i], want[i])
			}
		}
	}
	if lower == 0 {
		t.Error("no row's P(fail) was lowered by the maps")
	}
	for _, tc := range []struct {
		name  string
		extra any
	}{
		{"decreasing", map[string]any{"method": "platt_min", "maps": []any{[]any{1.0, 0.0}, []any{-1.0, 0.0}}}},
		{"unknown method", map[string]any{"method": "isotonic", "maps": []any{}}},
		{"too many classes", map[string]any{"method": "platt_min", "maps": []any{[]any{1.0, 0.0}, []any{1.0, 0.0}, []any{1.0, 0.0}, []any{1.0, 0.0}, []any{1.0, -1.0}}}},
		{"not pairs", map[string]any{"method": "platt_min", "maps": []any{"a"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := testMetadata()
			md.Extra[ExtraFamilyCal] = tc.extra
			dir := saveModel(t, md, fail, family)
			if _, err := Load(dir, testSchema); err == nil || !strings.Contains(err.Error(), ExtraFamilyCal) {
				t.Fatalf("Load: %v, want an error naming %s", err, ExtraFamilyCal)
			}
		})
	}
}
