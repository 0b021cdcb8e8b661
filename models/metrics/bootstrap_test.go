package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// noisyScores returns labels with base rate 0.2 and scores that separate
// them with the given noise (rounded to two decimals: many ties).
func noisyScores(rng *rand.Rand, labels []bool, noise float64) []float64 {
	s := make([]float64, len(labels))
	for i, l := range labels {
		v := rng.NormFloat64() * noise
		if l {
			v++
		}
		s[i] = math.Round(v*100) / 100
	}
	return s
}

func randomLabels(rng *rand.Rand, n int) []bool {
	l := make([]bool, n)
	for i := range l {
		l[i] = rng.Float64() < 0.2
	}
	return l
}

// TestWeightedAPMatchesDuplicatedRows: AP with row weights equals the AP
// of the rows repeated that many times, ties included.
func TestWeightedAPMatchesDuplicatedRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 20 {
		labels := randomLabels(rng, 300)
		scores := noisyScores(rng, labels, 0.8)
		w := make([]uint8, len(labels))
		var dupS []float64
		var dupL []bool
		for i := range w {
			w[i] = poisson1(rng.Float64())
			for range w[i] {
				dupS, dupL = append(dupS, scores[i]), append(dupL, labels[i])
			}
		}
		want, err := AveragePrecision(dupS, dupL)
		if err != nil {
			t.Fatal(err)
		}
		if got := newRankedRows(scores, labels).ap(w); math.Abs(got-want) > 1e-12 {
			t.Fatalf("trial %d: weighted AP %v, AP of the duplicated rows %v", trial, got, want)
		}
	}
}

func TestComparePR(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	labels := randomLabels(rng, 5000)
	weak, strong := noisyScores(rng, labels, 1.5), noisyScores(rng, labels, 0.4)
	alsoWeak := noisyScores(rng, labels, 1.5)
	tests := []struct {
		name            string
		a, b            []float64
		check           func(PairedAP) bool
		wantDescription string
	}{
		{"a scorer against itself", weak, weak, func(p PairedAP) bool {
			return p.Diff == 0 && p.Low == 0 && p.High == 0 && p.ProbBetter == 0
		}, "no difference in any replicate"},
		{"strong against weak", weak, strong, func(p PairedAP) bool {
			return p.Diff > 0.2 && p.Low > 0.1 && p.ProbBetter == 1
		}, "a clear, certain gain"},
		{"two equally weak scorers", weak, alsoWeak, func(p PairedAP) bool {
			return p.Low < 0 && p.High > 0 && p.ProbBetter > 0.02 && p.ProbBetter < 0.98
		}, "an interval around 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ComparePR(tc.a, tc.b, labels, 300, 7)
			if err != nil {
				t.Fatal(err)
			}
			wa, _ := AveragePrecision(tc.a, labels)
			wb, _ := AveragePrecision(tc.b, labels)
			if math.Abs(p.A-wa) > 1e-12 || math.Abs(p.B-wb) > 1e-12 {
				t.Fatalf("point estimates %v, %v; AveragePrecision gives %v, %v", p.A, p.B, wa, wb)
			}
			if p.Low > p.High {
				t.Fatalf("interval [%v, %v]", p.Low, p.High)
			}
			if !tc.check(p) {
				t.Fatalf("%+v: want %s", p, tc.wantDescription)
			}
			again, _ := ComparePR(tc.a, tc.b, labels, 300, 7)
			if again != p {
				t.Fatalf("same seed, other result: %+v then %+v", p, again)
			}
		})
	}
}

func TestComparePRErrors(t *testing.T) {
	labels := []bool{true, false, true}
	s := []float64{0.9, 0.1, 0.5}
	if _, err := ComparePR(s, s[:2], labels, 10, 1); err == nil {
		t.Error("scores of unequal length: no error")
	}
	if _, err := ComparePR(s, s, labels, 0, 1); err == nil {
		t.Error("no replicates: no error")
	}
	if _, err := ComparePR(s, s, []bool{true, true, true}, 10, 1); !errors.Is(err, ErrOneClass) {
		t.Errorf("one class: err = %v, want ErrOneClass", err)
	}
}
