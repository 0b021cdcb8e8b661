package bundle

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/artifact"
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
	SetExtras(&md, 4*time.Hour, 24*time.Hour, map[string]int32{"throttle": 130429, "recipient": 131026})
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
