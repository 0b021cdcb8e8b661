package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/simulate"
	"github.com/failcast/failcast/training"
)

func TestReadPredictions(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int
		out     []float64
		wantErr string
	}{
		{"plain", "0.1\n0.9\n", 2, []float64{0.1, 0.9}, ""},
		{"blank lines and spaces", "\n 0.25 \n\n1\n0\n", 3, []float64{0.25, 1, 0}, ""},
		{"exponent", "1e-05\n", 1, []float64{1e-5}, ""},
		{"too few", "0.1\n", 2, nil, "has 1 predictions, want 2"},
		{"too many", "0.1\n0.2\n0.3\n", 2, nil, "has 3 predictions, want 2"},
		{"not a number", "0.1\nabc\n", 2, nil, "line 2: want a probability"},
		{"above one", "1.5\n", 1, nil, "not a probability"},
		{"negative", "-0.1\n", 1, nil, "not a probability"},
		{"NaN", "NaN\n", 1, nil, "not a probability"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readPredictions(strings.NewReader(tt.in), "p.pred", tt.want)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "p.pred") {
					t.Fatalf("err = %v, want one naming p.pred and containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.out) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.out)
			}
		})
	}
}

func FuzzReadPredictions(f *testing.F) {
	for _, s := range []string{"0.1\n0.9\n", "", "1e-300\n", "nan\n", "0.5\r\n0.5", "\n\n\n", "+Inf\n"} {
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, in string, want int) {
		if want < 0 || want > 1000 {
			return
		}
		got, err := readPredictions(strings.NewReader(in), "f", want)
		if err != nil {
			return
		}
		if len(got) != want {
			t.Fatalf("%d predictions accepted, want %d", len(got), want)
		}
		for _, v := range got {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("accepted %v", v)
			}
		}
	})
}

func TestParseTrainingLoopTime(t *testing.T) {
	tests := []struct {
		name    string
		log     string
		want    float64
		wantErr bool
	}{
		{"one line", "[23:38:06] INFO: ./src/cli_main.cc:263: Complete Training loop time: 1.18346 sec\n", 1.18346, false},
		{"last of two", "Complete Training loop time: 1 sec\nComplete Training loop time: 2.5 sec\n", 2.5, false},
		{"missing", "[0]\n[1]\nupdate end, 1.18 sec in all\n", 0, true},
		{"garbage number", "Complete Training loop time: 1.2.3 sec\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTrainingLoopTime([]byte(tt.log))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseTrainingLoopTime = %v, %v; want %v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzParseTrainingLoopTime(f *testing.F) {
	f.Add("Complete Training loop time: 1.18346 sec")
	f.Add("Complete Training loop time: -1 sec")
	f.Add("Complete Training loop time: 1e999 sec")
	f.Fuzz(func(t *testing.T, log string) {
		v, err := parseTrainingLoopTime([]byte(log))
		if err == nil && (v < 0 || math.IsInf(v, 0) || math.IsNaN(v)) {
			t.Fatalf("accepted %v", v)
		}
	})
}

func TestParseHGBReport(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    hgbReport
		wantErr string
	}{
		{"report", `{"fit_seconds": 4.5, "predict_rows_per_s": 4000.5, "rounds": 20, "sklearn_version": "1.2.1"}`,
			hgbReport{4.5, 4000.5, 20, "1.2.1"}, ""},
		{"warnings before", "UserWarning: something\n  warn()\n" + `{"fit_seconds": 1, "predict_rows_per_s": 2, "rounds": 3, "sklearn_version": "1.4"}` + "\n",
			hgbReport{1, 2, 3, "1.4"}, ""},
		{"not JSON", "Traceback (most recent call last):\nValueError: x", hgbReport{}, "want a JSON report"},
		{"no rounds", `{"fit_seconds": 1, "predict_rows_per_s": 2, "rounds": 0}`, hgbReport{}, "rounds >= 1"},
		{"negative fit", `{"fit_seconds": -1, "predict_rows_per_s": 2, "rounds": 3}`, hgbReport{}, "fit_seconds >= 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHGBReport([]byte(tt.out))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func FuzzParseHGBReport(f *testing.F) {
	f.Add(`{"fit_seconds": 4.5, "predict_rows_per_s": 4000.5, "rounds": 20, "sklearn_version": "1.2.1"}`)
	f.Add("")
	f.Add("\n\n{}")
	f.Fuzz(func(t *testing.T, out string) {
		r, err := parseHGBReport([]byte(out))
		if err == nil && (r.FitSeconds < 0 || !(r.PredictRowsPerS > 0) || r.Rounds < 1) {
			t.Fatalf("accepted %+v", r)
		}
	})
}

func TestWriteMatrices(t *testing.T) {
	X := models.Matrix{Rows: 2, Cols: 3, Data: []float32{0, 1.5, 1e6, -1, 0.017789721, 3}}
	y := []bool{false, true}
	dir := t.TempDir()
	if err := writeCSV(filepath.Join(dir, "m.csv"), X, y); err != nil {
		t.Fatal(err)
	}
	if err := writeF32(filepath.Join(dir, "m.f32"), X, y); err != nil {
		t.Fatal(err)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "m.csv"))
	if want := "0,0,1.5,1e+06\n1,-1,0.017789721,3\n"; string(csv) != want {
		t.Errorf("CSV = %q, want %q", csv, want)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "m.f32"))
	got := make([]float32, len(raw)/4)
	if err := binary.Read(bytes.NewReader(raw), binary.LittleEndian, got); err != nil {
		t.Fatal(err)
	}
	if want := []float32{0, 0, 1.5, 1e6, 1, -1, 0.017789721, 3}; !slices.Equal(got, want) {
		t.Errorf("f32 = %v, want %v", got, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d files in the directory, want 2 (no temporary files left)", len(entries))
	}
}

func TestFormatting(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567.4, "1,234,567"}, {-4500, "-4,500"}, {math.NaN(), "-"}} {
		if got := thousands(tt.v); got != tt.want {
			t.Errorf("thousands(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	for _, tt := range []struct {
		a, b float64
		want string
	}{{1, 2, "0.500"}, {3, 0, "-"}, {math.NaN(), 1, "-"}} {
		if got := ratio(tt.a, tt.b); got != tt.want {
			t.Errorf("ratio(%v, %v) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestWriteMarkdown(t *testing.T) {
	rep := &report{AsOf: "2026-11-01T00:00:00Z", Settings: settings{rounds: 10, depth: 3, eta: 0.1, bins: 255, threads: 2},
		Features: 97, TrainRows: 100, ValidRows: 20, TrainRate: 0.05, ValidRate: 0.1,
		Results: []result{
			{Model: "failcast gbdt", Tool: "models/gbdt", TrainRows: 100, FitSeconds: 2, PredictRowsPerS: 1e6, PRAUC: 0.8, ROCAUC: 0.9, LogLoss: 0.2},
			{Model: "XGBoost", Tool: "xgboost", TrainRows: 100, FitSeconds: 4, PredictRowsPerS: 5e5, PRAUC: 0.8, ROCAUC: 0.9, LogLoss: 0.25},
		},
		Skipped:  []string{"scikit-learn HGB: not installed"},
		OursName: "failcast gbdt", PeerNames: []string{"XGBoost", "scikit-learn HGB"},
	}
	var b strings.Builder
	if err := rep.writeMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| failcast gbdt | models/gbdt | 100 | 2.00 | 1,000,000 | 0.8000 | 0.9000 | 0.2000 |  |",
		"| failcast gbdt / XGBoost | 0.500 | 2.000 | 1.000 | 1.000 | 0.800 |",
		"- scikit-learn HGB: not installed",
		"10 rounds, depth 3",
		"XGBoost and scikit-learn with OMP_WAIT_POLICY inherited.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "/ scikit-learn HGB |") {
		t.Errorf("a ratio against a skipped peer:\n%s", out)
	}
}

// memorySource is an in-memory history in time order.
type memorySource []pipeline.Event

func (m memorySource) Scan(ctx context.Context, opts pipeline.ScanOptions, fn func([]pipeline.Event) error) error {
	lo, hi := 0, len(m)
	for lo < hi && opts.From != 0 && m[lo].Timestamp < opts.From {
		lo++
	}
	for hi > lo && opts.To != 0 && m[hi-1].Timestamp >= opts.To {
		hi--
	}
	for i := lo; i < hi; i += 4096 {
		if err := fn(m[i:min(i+4096, hi)]); err != nil {
			return err
		}
	}
	return nil
}

// TestCompareSimulated runs the whole comparison on a small simulated
// world, with the peers made unavailable so that it does not depend on
// what the machine has installed.
func TestCompareSimulated(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a world and fits every Go model")
	}
	cfg := simulate.DefaultConfig().Scaled(0.1)
	var events memorySource
	if _, err := simulate.Run(context.Background(), cfg, simulate.SinkFunc(func(b []pipeline.Event) error {
		events = append(events, b...)
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	o := options{history: "memory", dir: t.TempDir(), asOf: cfg.AsOf,
		s:       settings{rounds: 20, depth: 4, eta: 0.2, bins: 64, threads: 2, seed: 1},
		xgboost: "no-such-xgboost-binary", python: "no-such-python", hgb: "hgb.py", repeats: 2}
	rep, err := compare(context.Background(), events, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) != 2 {
		t.Errorf("skipped = %v, want XGBoost and scikit-learn", rep.Skipped)
	}
	byName := map[string]result{}
	for _, r := range rep.Results {
		byName[r.Model] = r
		if r.FitSeconds <= 0 || r.PredictRowsPerS <= 0 || r.PRAUC <= 0 || r.ROCAUC <= 0.5 || r.LogLoss <= 0 {
			t.Errorf("%s: implausible result %+v", r.Model, r)
		}
	}
	ours, rule := byName["failcast gbdt"], byName["rule: "+training.RuleFeature]
	if ours.Model == "" || rule.Model == "" || len(byName) != 4 {
		t.Fatalf("results = %v, want the GBDT, logistic regression, random forest and the rule", rep.Results)
	}
	if ours.PRAUC <= rule.PRAUC {
		t.Errorf("GBDT PR-AUC %.4f is not above the rule's %.4f", ours.PRAUC, rule.PRAUC)
	}
	if len(ours.Runs) != 2 || !strings.Contains(ours.Note, "median of 2 repeats") {
		t.Errorf("GBDT runs %+v, note %q; want 2 repeats noted", ours.Runs, ours.Note)
	}
	if ours.TrainRows != rep.TrainRows || rep.ValidRows == 0 {
		t.Errorf("GBDT trained on %d rows of %d, %d validation rows", ours.TrainRows, rep.TrainRows, rep.ValidRows)
	}
	for _, f := range []string{"train.csv", "valid.csv", "train.f32", "valid.f32"} {
		if st, err := os.Stat(filepath.Join(o.dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	st, _ := os.Stat(filepath.Join(o.dir, "valid.f32"))
	if want := int64(4 * rep.ValidRows * (rep.Features + 1)); st != nil && st.Size() != want {
		t.Errorf("valid.f32 has %d bytes, want %d", st.Size(), want)
	}
}

func TestXGBPredictRate(t *testing.T) {
	tests := []struct {
		name            string
		rows, rounds    int
		full, one, want float64
	}{
		{"scaled to all rounds", 1000, 2, 3, 2, 500},
		{"200 rounds", 199_000, 200, 2.5, 0.5, 199_000 / (2 * 200.0 / 199)},
		{"no difference", 1000, 200, 1, 1, math.NaN()},
		{"one-round run slower", 1000, 200, 1, 1.2, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := xgbPredictRate(tt.rows, tt.rounds, tt.full, tt.one)
			if math.IsNaN(tt.want) != math.IsNaN(got) || !math.IsNaN(got) && math.Abs(got-tt.want) > 1e-6*tt.want {
				t.Errorf("xgbPredictRate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRepeatFile(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	if err := os.WriteFile(src, []byte("1,2\n3,4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := repeatFile(src, dst, 3); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); string(got) != "1,2\n3,4\n1,2\n3,4\n1,2\n3,4\n" {
		t.Errorf("repeated file = %q", got)
	}
}

func TestSpreadOf(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		in          []float64
		med, lo, hi float64
		n           int
	}{
		{[]float64{3}, 3, 3, 3, 1},
		{[]float64{9, 1, 4}, 4, 1, 9, 3},
		{[]float64{7, 1, 4, 2}, 3, 1, 7, 4},
		{[]float64{nan, 2, math.Inf(-1), 6}, 4, 2, 6, 2},
		{nil, nan, nan, nan, 0},
	}
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	for _, tt := range tests {
		s := spreadOf(tt.in)
		if !same(s.median, tt.med) || !same(s.min, tt.lo) || !same(s.max, tt.hi) || s.n != tt.n {
			t.Errorf("spreadOf(%v) = %+v, want median %v, range %v-%v, n %d", tt.in, s, tt.med, tt.lo, tt.hi, tt.n)
		}
	}
}

// fakeModel is a repeater whose repeats return the given fit seconds, or
// fail where errs says so, and logs the order it ran in.
func fakeModel(name string, fits []float64, errs map[int]bool, fatal bool, log *[]string, labels []bool) *repeater {
	n := 0
	p := &repeater{res: result{Model: name}, fatal: fatal}
	p.once = func(context.Context) (float64, float64, []float64, string, error) {
		n++
		*log = append(*log, fmt.Sprintf("%s%d", name, n))
		if errs[n] {
			return 0, 0, nil, "", fmt.Errorf("exit status 1\tin repeat %d", n)
		}
		pred := make([]float64, len(labels))
		for i, y := range labels {
			if y {
				pred[i] = 0.9
			}
		}
		return fits[n-1], 1000 / fits[n-1], pred, "", nil
	}
	return p
}

func TestRunRepeated(t *testing.T) {
	labels := []bool{true, false, false, true}
	var order []string
	ours := fakeModel("ours", []float64{4, 5, 3, 6}, nil, true, &order, labels)
	theirs := fakeModel("theirs", []float64{8, 1, 6, 12}, map[int]bool{2: true}, false, &order, labels)
	rs, err := runRepeated(context.Background(), []*repeater{ours, theirs}, 4, labels)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ours1", "theirs1", "theirs2", "ours2", "ours3", "theirs3", "theirs4", "ours4"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v (turns swapped every repeat)", order, want)
	}
	o, x := rs[0], rs[1]
	if o.FitSeconds != 4.5 || len(o.Runs) != 4 || o.PRAUC != 1 {
		t.Errorf("ours = %+v, want the median 4.5 of 4 repeats and PR-AUC 1", o)
	}
	// theirs: repeat 2 failed; 8, 6, 12 left: median 8.
	if x.FitSeconds != 8 || !strings.Contains(x.Note, "repeat 2 failed: exit status 1 in repeat 2") || !strings.Contains(x.Note, "median of 3 repeats: fit 6.00-12.00 s") {
		t.Errorf("theirs = %+v", x)
	}
	// Per-repeat fit ratios 4/8, 3/6, 6/12 (repeat 2 left out).
	if got := pairedRatio(o, x, func(r repeatRun) float64 { return r.FitSeconds }, o.FitSeconds, x.FitSeconds); got != "0.500 (0.500-0.500)" {
		t.Errorf("paired fit ratio = %q", got)
	}
	if got := pairedRatio(o, result{FitSeconds: 9}, func(r repeatRun) float64 { return r.FitSeconds }, o.FitSeconds, 9); got != "0.500" {
		t.Errorf("ratio against a model run once = %q, want ours' median over its value", got)
	}

	var b strings.Builder
	rep := &report{ValidRows: 4, Results: rs}
	if err := rep.writeTSV(&b, "1"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 16 {
		t.Fatalf("%d TSV lines, want 16 (fit and predict of 2 models x 4 repeats):\n%s", len(lines), b.String())
	}
	for _, l := range lines {
		if f := strings.Split(l, "\t"); len(f) != 13 {
			t.Errorf("%d fields, want 13: %q", len(f), l)
		}
	}
	for _, want := range []string{
		"1\t\tpeers: ours fit\t0\trows\t4.0000\t\t\t",
		"\tok\tPR-AUC 1.0000\t1",
		"1\t\tpeers: ours predict\t4\trows\t0.016000\t250.0\t\t",
		"\tfailed: exit status 1 in repeat 2\t\t2\t\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("TSV lacks %q:\n%s", want, b.String())
		}
	}

	// Ours failing is a bug: the comparison stops; a peer failing in
	// every repeat is an error too.
	order = nil
	bad := fakeModel("ours", []float64{1}, map[int]bool{1: true}, true, &order, labels)
	if _, err := runRepeated(context.Background(), []*repeater{bad}, 1, labels); err == nil || !strings.Contains(err.Error(), "ours, repeat 1") {
		t.Errorf("err = %v, want ours' failure", err)
	}
	never := fakeModel("theirs", []float64{1, 1}, map[int]bool{1: true, 2: true}, false, &order, labels)
	if _, err := runRepeated(context.Background(), []*repeater{never}, 2, labels); err == nil || !strings.Contains(err.Error(), "no repeat finished") {
		t.Errorf("err = %v, want no repeat finished", err)
	}
}

func TestParseXGBPredictReport(t *testing.T) {
	tests := []struct {
		name, out, wantErr string
		rate               float64
	}{
		{"report", `{"predict_rows_per_s": 700000.5, "pass_seconds": [0.08, 0.07, 0.075], "xgboost_version": "1.7.4"}`, "", 700000.5},
		{"warnings before", "WARNING: x\n" + `{"predict_rows_per_s": 5, "pass_seconds": [1], "xgboost_version": "2.0"}` + "\n", "", 5},
		{"not JSON", "Traceback (most recent call last):", "want a JSON report", 0},
		{"no passes", `{"predict_rows_per_s": 5, "pass_seconds": []}`, "pass_seconds", 0},
		{"zero rate", `{"predict_rows_per_s": 0, "pass_seconds": [1]}`, "predict_rows_per_s > 0", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseXGBPredictReport([]byte(tt.out))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || r.PredictRowsPerS != tt.rate {
				t.Fatalf("got %+v, %v; want rate %v", r, err, tt.rate)
			}
		})
	}
}

func TestTimingMatrix(t *testing.T) {
	small := models.Matrix{Rows: 2, Cols: 2, Data: []float32{1, 2, 3, 4}}
	got := timingMatrix(small)
	if got.Rows != predictTimingMinRows || got.Cols != 2 || len(got.Data) != 2*predictTimingMinRows {
		t.Fatalf("timing matrix of 2 rows: %d rows x %d, %d values; want %d rows", got.Rows, got.Cols, len(got.Data), predictTimingMinRows)
	}
	if !slices.Equal(got.Row(0), small.Row(0)) || !slices.Equal(got.Row(3), small.Row(1)) || !slices.Equal(got.Row(got.Rows-1), small.Row(1)) {
		t.Errorf("rows not repeated in order: %v %v %v", got.Row(0), got.Row(3), got.Row(got.Rows-1))
	}
	for _, tt := range []struct{ rows, want int }{{1, predictTimingMinRows}, {52_162, 5}, {predictTimingMinRows, 1}, {3 * predictTimingMinRows, 1}, {0, 1}} {
		if got := timingRepeats(tt.rows); got != tt.want {
			t.Errorf("timingRepeats(%d) = %d, want %d", tt.rows, got, tt.want)
		}
	}
	big := models.Matrix{Rows: predictTimingMinRows, Cols: 1, Data: make([]float32, predictTimingMinRows)}
	if got := timingMatrix(big); &got.Data[0] != &big.Data[0] {
		t.Error("a matrix large enough was copied")
	}
}
