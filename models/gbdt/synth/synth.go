package synth

import (
	"math"
	"math/rand/v2"

	"github.com/failcast/failcast/models"
)

// MinCols is the fewest columns Binary and Multiclass accept: the first
// MinCols carry the signal, the rest are noise of the same kinds.
const MinCols = 16

// Binary returns n rows in time order with cols >= MinCols features and
// 0/1 labels with about 5% positives. The label depends non-linearly on
// a handful of features (thresholds, an interaction, a periodic term, a
// count) plus noise, and the base rate drifts slowly over the rows, as a
// real history does. Values are rounded to 3 decimals or are integers,
// like the feature layer's rates and counts. Feature cols-1 is constant.
func Binary(n, cols int, seed uint64) (models.Matrix, []float32) {
	if cols < MinCols {
		panic("synth: need at least MinCols columns")
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	X := models.NewMatrix(n, cols)
	y := make([]float32, n)
	for i := 0; i < n; i++ {
		row := X.Row(i)
		fillRow(rng, row)
		t := float64(i) / float64(max(n-1, 1))
		x := func(j int) float64 { return float64(row[j]) }
		logit := -5.5 + 0.4*t
		logit += 1.6 * step(x(0) > 0.8)                   // threshold rule
		logit += 1.2 * step((x(1) > 0) != (x(2) > 0))     // XOR-like interaction
		logit += 0.9 * math.Sin(3*x(3))                   // periodic
		logit += 0.35 * math.Min(x(4), 6)                 // count (saturating)
		logit += 0.8 * x(5) * x(6)                        // product interaction
		logit += 1.0 * step(x(7) == 1) * step(x(8) > 0.5) // flag AND rate
		logit += 0.9 * step(x(9) == 3 || x(9) == 7)       // category code
		logit -= 0.6 * step(x(11) < -1)
		if rng.Float64() < 1/(1+math.Exp(-logit)) {
			y[i] = 1
		}
	}
	return X, y
}

// Multiclass returns n rows with cols >= MinCols features and labels in
// 0..k-1 (k >= 2): each class prefers a region of the first features,
// with overlap, and class frequencies fall off like error families do.
func Multiclass(n, cols, k int, seed uint64) (models.Matrix, []float32) {
	if cols < MinCols || k < 2 {
		panic("synth: need at least MinCols columns and 2 classes")
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	X := models.NewMatrix(n, cols)
	y := make([]float32, n)
	logits := make([]float64, k)
	for i := 0; i < n; i++ {
		row := X.Row(i)
		fillRow(rng, row)
		for c := range logits {
			a, b := float64(row[c%10]), float64(row[(c+3)%10])
			logits[c] = -0.3*float64(c) + 1.5*math.Tanh(a) - 0.8*step(b > 0.5) + 0.6*math.Sin(float64(c)+2*a*b)
		}
		y[i] = float32(sampleSoftmax(rng, logits))
	}
	return X, y
}

func sampleSoftmax(rng *rand.Rand, logits []float64) int {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, v)
	}
	sum := 0.0
	for _, v := range logits {
		sum += math.Exp(v - mx)
	}
	u := rng.Float64() * sum
	for c, v := range logits {
		u -= math.Exp(v - mx)
		if u <= 0 {
			return c
		}
	}
	return len(logits) - 1
}

// fillRow draws one row: a mix of rates, normal scores, counts, flags and
// small category codes, cycling over the columns; the last is constant.
func fillRow(rng *rand.Rand, row []float32) {
	for j := range row {
		var v float64
		switch {
		case j == len(row)-1:
			v = 1
		case j == 4:
			v = float64(poisson(rng, 1.5))
		case j == 7:
			v = step(rng.Float64() < 0.3)
		case j == 0 || j == 8:
			v = round3(rng.Float64())
		default:
			switch j % 5 {
			case 0:
				v = round3(rng.Float64())
			case 1, 2, 3:
				v = round3(rng.NormFloat64())
			case 4:
				v = float64(rng.IntN(12))
			}
		}
		row[j] = float32(v)
	}
}

func poisson(rng *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func step(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
