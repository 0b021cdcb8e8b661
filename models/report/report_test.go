package report

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	pr := []Point{{0, 1}, {0.5, 0.8}, {1, 0.1}}
	roc := []Point{{0, 0}, {0.1, 0.7}, {1, 1}}
	var imp []Importance
	for i := 0; i < 25; i++ {
		imp = append(imp, Importance{Feature: "f" + string(rune('a'+i)), Value: float64(i)})
	}
	return &Report{
		Title:           "failcast model",
		Version:         "20261124T021500Z",
		Generated:       time.Date(2026, 11, 24, 2, 15, 0, 0, time.UTC),
		Summary:         []Field{{"as of", "2026-11-24"}, {"rows", "1000"}},
		TargetPrecision: 0.8,
		Thresholds:      map[string]float64{"high": 0.7, "medium": 0.4},
		Candidates: []Candidate{
			{Name: "gbdt", PRAUC: 0.61, ROCAUC: 0.9, LogLoss: 0.2, Brier: 0.05, RecallAtPrecision: 0.4, FitSeconds: 1.5, TrainRows: 1000},
			{Name: "rule | x", PRAUC: math.NaN(), ROCAUC: 0.6, TrainRows: 1000, Note: "row cap"},
		},
		Comparison: &Comparison{ChampionVersion: "20261123T021500Z", Evaluated: true, ChampionPRAUC: 0.55, ChallengerPRAUC: 0.61, Tolerance: 0.01, Promoted: true, Reason: "better"},
		PR:         []Curve{{Name: "gbdt", Points: pr, AUC: 0.61}, {Name: "logreg", Points: pr, AUC: math.NaN()}},
		ROC:        []Curve{{Name: "gbdt", Points: roc, AUC: 0.9}},
		Calibration: []CalibrationBin{
			{MeanPredicted: 0.05, Observed: 0.04, Count: 800}, {MeanPredicted: 0.5, Observed: 0.45, Count: 150}, {MeanPredicted: 0.9, Observed: math.NaN(), Count: 0},
		},
		Importance: imp,
		ClassTitle: "Error families",
		Classes:    []ClassResult{{Name: "throttle", Support: 30, PRAUC: 0.7, ROCAUC: 0.95, Precision: math.NaN(), Recall: math.NaN()}, {Name: "recipient", Support: 10, PRAUC: math.NaN()}},
		Notes:      []string{"a note"},
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name       string
		report     *Report
		wantFiles  []string
		wantInMD   []string
		wantNotInM []string
	}{
		{
			name:      "full",
			report:    sampleReport(),
			wantFiles: []string{CalibrationChart, ClassChart, ImportanceChart, PRChart, ROCChart, FileName},
			wantInMD: []string{
				"# failcast model 20261124T021500Z", "**Promoted.**", "| champion | 20261123T021500Z | 0.5500 |",
				"recall at precision 0.8000", `| rule \| x | n/a |`, "![precision-recall curves](pr_curve.png)",
				"## Feature importance (top 20)", "| fy | 24.0000 |", "## Error families", "| throttle | 30 |", "| high | 0.7000 |", "- a note",
			},
			wantNotInM: []string{"| fa |", "| fe |"}, // below the top 20
		},
		{
			name:       "minimal, kept out, champion not evaluated",
			report:     &Report{Version: "v2", Comparison: &Comparison{ChampionVersion: "v1", ChallengerPRAUC: 0.3, Reason: "schema differs"}},
			wantFiles:  []string{FileName},
			wantInMD:   []string{"# Model report v2", "**Kept out", "| champion | v1 | not evaluated |"},
			wantNotInM: []string{"![", "## Candidates"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files, err := Write(dir, tc.report)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(files, ",") != strings.Join(tc.wantFiles, ",") {
				t.Fatalf("files %v, want %v", files, tc.wantFiles)
			}
			for _, f := range files {
				data, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasSuffix(f, ".png") {
					img, err := png.Decode(bytes.NewReader(data))
					if err != nil {
						t.Fatalf("%s is not a PNG: %v", f, err)
					}
					if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
						t.Fatalf("%s is %v", f, b)
					}
				}
			}
			md, _ := os.ReadFile(filepath.Join(dir, FileName))
			for _, s := range tc.wantInMD {
				if !bytes.Contains(md, []byte(s)) {
					t.Errorf("report.md lacks %q", s)
				}
			}
			for _, s := range tc.wantNotInM {
				if bytes.Contains(md, []byte(s)) {
					t.Errorf("report.md has %q", s)
				}
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != len(tc.wantFiles) {
				t.Fatalf("directory holds %d entries (temporary files left?)", len(entries))
			}
		})
	}
}

func TestWriteMissingDir(t *testing.T) {
	if _, err := Write(filepath.Join(t.TempDir(), "nope"), &Report{}); err == nil {
		t.Fatal("Write into a missing directory succeeded")
	}
}

func TestThin(t *testing.T) {
	pts := make([]Point, 1000)
	for i := range pts {
		pts[i] = Point{X: float64(i)}
	}
	tests := []struct {
		in, n, want int
	}{{1000, 400, 400}, {10, 400, 10}, {1000, 2, 2}}
	for _, tc := range tests {
		got := thin(pts[:tc.in], tc.n)
		if len(got) != tc.want || got[0].X != 0 || got[len(got)-1].X != float64(tc.in-1) {
			t.Errorf("thin(%d, %d): %d points, ends %v %v", tc.in, tc.n, len(got), got[0], got[len(got)-1])
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	r := sampleReport()
	curve := make([]Point, 20000)
	for i := range curve {
		x := float64(i) / float64(len(curve))
		curve[i] = Point{X: x, Y: 1 - x*x}
	}
	r.PR[0].Points = curve
	r.ROC[0].Points = curve
	dir := b.TempDir()
	for b.Loop() {
		if _, err := Write(dir, r); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWriteCalibrationBeforeAfterAndWarnings(t *testing.T) {
	dir := t.TempDir()
	r := &Report{
		Title:           "m",
		Calibration:     []CalibrationBin{{MeanPredicted: 0.146, Observed: 0.596, Count: 100}},
		Calibrated:      []CalibrationBin{{MeanPredicted: 0.58, Observed: 0.596, Count: 100}},
		CalibrationNote: "fitted on validation",
		Warnings:        []string{"few failed sends in the validation window"},
	}
	if _, err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Warnings\n\n- few failed sends", "fitted on validation", "Before (without the calibration map):", "After (with the calibration map):", "| 0.5800 |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, CalibrationChart)); err != nil {
		t.Errorf("no calibration chart: %v", err)
	}
}
