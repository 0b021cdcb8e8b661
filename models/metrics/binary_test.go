package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

const tol = 1e-9

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= tol
}

func TestRankingMetrics(t *testing.T) {
	T, F := true, false
	tests := []struct {
		name    string
		scores  []float64
		labels  []bool
		auc, ap float64
	}{
		// scikit-learn's documented example: roc_auc 0.75, average_precision 0.8333.
		{"sklearn example", []float64{0.1, 0.4, 0.35, 0.8}, []bool{F, F, T, T}, 0.75, 5.0 / 6},
		{"perfect", []float64{0.9, 0.8, 0.2, 0.1}, []bool{T, T, F, F}, 1, 1},
		// Inverted: positives lowest. AP = 1/2*1/3 + 1/2*2/4.
		{"inverted", []float64{0.9, 0.8, 0.2, 0.1}, []bool{F, F, T, T}, 0, 1.0/6 + 1.0/4},
		{"constant scorer", []float64{0.5, 0.5, 0.5, 0.5}, []bool{T, F, T, F}, 0.5, 0.5},
		// One tied pos/neg pair counts 1/2: (1+1+0.5+1)/4.
		{"tie across classes", []float64{0.9, 0.5, 0.5, 0.1}, []bool{T, T, F, F}, 0.875, 0.5 + 0.5*2.0/3},
		{"scores need not be probabilities", []float64{-3, 10, 250, 7}, []bool{F, T, T, F}, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			auc, err := ROCAUC(tc.scores, tc.labels)
			if err != nil || !near(auc, tc.auc) {
				t.Errorf("ROCAUC = %v, %v; want %v", auc, err, tc.auc)
			}
			ap, err := AveragePrecision(tc.scores, tc.labels)
			if err != nil || !near(ap, tc.ap) {
				t.Errorf("AveragePrecision = %v, %v; want %v", ap, err, tc.ap)
			}
		})
	}
}

func TestInputErrors(t *testing.T) {
	T, F := true, false
	tests := []struct {
		name   string
		scores []float64
		labels []bool
		want   error // nil: any error
	}{
		{"all positive", []float64{0.1, 0.9}, []bool{T, T}, ErrOneClass},
		{"all negative", []float64{0.1, 0.9}, []bool{F, F}, ErrOneClass},
		{"empty", nil, nil, ErrEmpty},
		{"length mismatch", []float64{0.1, 0.9}, []bool{T}, nil},
		{"NaN score", []float64{0.1, math.NaN()}, []bool{T, F}, nil},
	}
	funcs := map[string]func([]float64, []bool) error{
		"ROCAUC":           func(s []float64, l []bool) error { _, err := ROCAUC(s, l); return err },
		"AveragePrecision": func(s []float64, l []bool) error { _, err := AveragePrecision(s, l); return err },
		"ROCCurve":         func(s []float64, l []bool) error { _, err := ROCCurve(s, l); return err },
		"PRCurve":          func(s []float64, l []bool) error { _, err := PRCurve(s, l); return err },
		"ThresholdForPrecision": func(s []float64, l []bool) error {
			_, err := ThresholdForPrecision(s, l, 0.5)
			return err
		},
	}
	for _, tc := range tests {
		for name, f := range funcs {
			err := f(tc.scores, tc.labels)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("%s on %s: err = %v, want %v", name, tc.name, err, tc.want)
			}
		}
	}
	// Log-loss and Brier are defined on one class.
	if _, err := LogLoss([]float64{0.2, 0.3}, []bool{T, T}); err != nil {
		t.Errorf("LogLoss on one class: %v", err)
	}
}

func TestLogLossBrier(t *testing.T) {
	T, F := true, false
	tests := []struct {
		name         string
		probs        []float64
		labels       []bool
		logLoss, bri float64
	}{
		{"hand", []float64{0.8, 0.3}, []bool{T, F}, -(math.Log(0.8) + math.Log(0.7)) / 2, (0.04 + 0.09) / 2},
		{"confident miss is clipped", []float64{0, 1}, []bool{T, T}, -math.Log(LogLossEpsilon) / 2, 0.5},
		{"perfect", []float64{1, 0}, []bool{T, F}, -math.Log(1 - LogLossEpsilon), 0},
	}
	for _, tc := range tests {
		ll, err := LogLoss(tc.probs, tc.labels)
		if err != nil || math.Abs(ll-tc.logLoss) > 1e-6 {
			t.Errorf("%s: LogLoss = %v, %v; want %v", tc.name, ll, err, tc.logLoss)
		}
		b, err := Brier(tc.probs, tc.labels)
		if err != nil || !near(b, tc.bri) {
			t.Errorf("%s: Brier = %v, %v; want %v", tc.name, b, err, tc.bri)
		}
	}
}

func TestReliability(t *testing.T) {
	T, F := true, false
	bins, err := Reliability([]float64{0.05, 0.15, 0.12, 1.0}, []bool{F, T, F, T}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) != 10 {
		t.Fatalf("%d bins, want 10", len(bins))
	}
	want := map[int]Bin{
		0: {Lower: 0, Upper: 0.1, Count: 1, MeanPredicted: 0.05, ObservedRate: 0},
		1: {Lower: 0.1, Upper: 0.2, Count: 2, MeanPredicted: 0.135, ObservedRate: 0.5},
		9: {Lower: 0.9, Upper: 1, Count: 1, MeanPredicted: 1, ObservedRate: 1}, // p = 1 falls in the last bin
	}
	for i, b := range bins {
		w, ok := want[i]
		if !ok {
			if b.Count != 0 || !math.IsNaN(b.MeanPredicted) {
				t.Errorf("bin %d = %+v, want empty", i, b)
			}
			continue
		}
		if b.Count != w.Count || !near(b.MeanPredicted, w.MeanPredicted) || !near(b.ObservedRate, w.ObservedRate) || !near(b.Lower, w.Lower) || !near(b.Upper, w.Upper) {
			t.Errorf("bin %d = %+v, want %+v", i, b, w)
		}
	}
	if ece := ECE(bins); !near(ece, (0.05+2*0.365+0)/4) {
		t.Errorf("ECE = %v, want %v", ece, (0.05+2*0.365)/4)
	}
	if _, err := Reliability([]float64{1.5}, []bool{T}, 10); err == nil {
		t.Error("probability 1.5 accepted")
	}
	if _, err := Reliability([]float64{0.5}, []bool{T}, 0); err == nil {
		t.Error("0 bins accepted")
	}
}

func TestCurves(t *testing.T) {
	T, F := true, false
	scores := []float64{0.9, 0.5, 0.5, 0.1}
	labels := []bool{T, T, F, F}
	roc, err := ROCCurve(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	wantROC := []ROCPoint{{math.Inf(1), 0, 0}, {0.9, 0, 0.5}, {0.5, 0.5, 1}, {0.1, 1, 1}}
	if len(roc) != len(wantROC) {
		t.Fatalf("ROC = %v, want %v", roc, wantROC)
	}
	for i := range roc {
		if !near(roc[i].Threshold, wantROC[i].Threshold) || !near(roc[i].FPR, wantROC[i].FPR) || !near(roc[i].TPR, wantROC[i].TPR) {
			t.Errorf("ROC[%d] = %v, want %v", i, roc[i], wantROC[i])
		}
	}
	pr, err := PRCurve(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	wantPR := []PRPoint{{0.9, 0.5, 1}, {0.5, 1, 2.0 / 3}, {0.1, 1, 0.5}}
	for i := range wantPR {
		if !near(pr[i].Threshold, wantPR[i].Threshold) || !near(pr[i].Recall, wantPR[i].Recall) || !near(pr[i].Precision, wantPR[i].Precision) {
			t.Errorf("PR[%d] = %v, want %v", i, pr[i], wantPR[i])
		}
	}
}

// pairwiseAUC is the O(n^2) definition: the share of (positive, negative)
// pairs ranked correctly, ties counting one half.
func pairwiseAUC(scores []float64, labels []bool) float64 {
	var num, den float64
	for i := range scores {
		if !labels[i] {
			continue
		}
		for j := range scores {
			if labels[j] {
				continue
			}
			den++
			switch {
			case scores[i] > scores[j]:
				num++
			case scores[i] == scores[j]:
				num += 0.5
			}
		}
	}
	return num / den
}

// pointwiseAP is average precision by its other definition: the mean over
// positive rows of the precision at that row's score (ties included).
func pointwiseAP(scores []float64, labels []bool) float64 {
	var sum float64
	pos := 0
	for i := range scores {
		if !labels[i] {
			continue
		}
		pos++
		tp, n := 0, 0
		for j := range scores {
			if scores[j] >= scores[i] {
				n++
				if labels[j] {
					tp++
				}
			}
		}
		sum += float64(tp) / float64(n)
	}
	return sum / float64(pos)
}

func randomCase(r *rand.Rand, n int) ([]float64, []bool) {
	scores := make([]float64, n)
	labels := make([]bool, n)
	for i := range scores {
		scores[i] = math.Round(r.Float64()*10) / 10 // many ties
		labels[i] = r.Float64() < 0.2+0.5*scores[i]
	}
	labels[0], labels[1] = true, false
	return scores, labels
}

func TestAUCMatchesPairwise(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		scores, labels := randomCase(r, 2+r.IntN(80))
		auc, err := ROCAUC(scores, labels)
		if err != nil {
			t.Fatal(err)
		}
		if want := pairwiseAUC(scores, labels); math.Abs(auc-want) > 1e-12 {
			t.Fatalf("trial %d: ROCAUC = %v, pairwise = %v (scores %v labels %v)", trial, auc, want, scores, labels)
		}
		ap, err := AveragePrecision(scores, labels)
		if err != nil {
			t.Fatal(err)
		}
		if want := pointwiseAP(scores, labels); math.Abs(ap-want) > 1e-12 {
			t.Fatalf("trial %d: AveragePrecision = %v, pointwise = %v", trial, ap, want)
		}
	}
}

func TestRandomScorer(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 20000
	scores := make([]float64, n)
	labels := make([]bool, n)
	pos := 0
	for i := range scores {
		scores[i] = r.Float64()
		labels[i] = r.Float64() < 0.05
		if labels[i] {
			pos++
		}
	}
	auc, _ := ROCAUC(scores, labels)
	if math.Abs(auc-0.5) > 0.03 {
		t.Errorf("random scorer AUC = %v, want about 0.5", auc)
	}
	ap, _ := AveragePrecision(scores, labels)
	if base := float64(pos) / float64(n); math.Abs(ap-base) > 0.015 {
		t.Errorf("random scorer AP = %v, want about the base rate %v", ap, base)
	}
}

func FuzzROCAUC(f *testing.F) {
	f.Add([]byte{10, 1, 20, 0, 20, 1, 5, 0})
	f.Add([]byte{0, 0, 0, 1})
	f.Add([]byte{255, 1, 0, 0, 128, 1, 128, 0, 7, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 2
		scores := make([]float64, n)
		labels := make([]bool, n)
		for i := range n {
			scores[i] = float64(data[2*i]) / 16
			labels[i] = data[2*i+1]&1 == 1
		}
		auc, err := ROCAUC(scores, labels)
		if err != nil {
			if !errors.Is(err, ErrOneClass) && !errors.Is(err, ErrEmpty) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if want := pairwiseAUC(scores, labels); math.Abs(auc-want) > 1e-12 {
			t.Fatalf("ROCAUC = %v, pairwise = %v", auc, want)
		}
		ap, err := AveragePrecision(scores, labels)
		if err != nil || ap < 0 || ap > 1+1e-12 {
			t.Fatalf("AveragePrecision = %v, %v", ap, err)
		}
	})
}
