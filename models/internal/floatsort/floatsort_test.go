package floatsort

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestFloat32sMatchesSlicesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inf := float32(math.Inf(1))
	tests := []struct {
		name string
		vals []float32
	}{
		{"empty", nil},
		{"short, insertion path", []float32{3, -1, 2, 0, -0.5}},
		{"infinities and extremes", append(repeat(300, func(i int) float32 { return float32(i%7) - 3 }),
			inf, -inf, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32)},
		{"subnormal and tiny", repeat(3000, func(int) float32 { return float32((rng.Float64() - 0.5) * 1e-40) })},
		// Keys sharing digits: a pass over a digit every key shares is
		// skipped, the others must still sort.
		{"constant", repeat(3000, func(int) float32 { return 3 })},
		{"two values", repeat(3000, func(int) float32 { return float32(rng.IntN(2)) })},
		{"small ints", repeat(3000, func(int) float32 { return float32(rng.IntN(40)) })},
		{"narrow", repeat(3000, func(int) float32 { return 1 + float32(rng.IntN(1<<12))*(1.0/(1<<23)) })},
		{"signs", repeat(3000, func(int) float32 { return float32(rng.IntN(3) - 1) })},
		{"high digits", repeat(3000, func(int) float32 { return math.Float32frombits(uint32(rng.IntN(4))<<22 | 0x3f800000) })},
		{"few distinct", repeat(5000, func(i int) float32 { return float32(i % 3) })},
		{"random normal", repeat(100_000, func(int) float32 { return float32(rng.NormFloat64() * 1e3) })},
		{"random bits", repeat(20_000, func(int) float32 {
			for {
				if v := math.Float32frombits(rng.Uint32()); v == v {
					return v
				}
			}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Clone(tt.vals)
			Float32s(got)
			want := slices.Clone(tt.vals)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("Float32s differs from slices.Sort")
			}
		})
	}
}

func TestFloat64sMatchesSlicesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name string
		f    func(i int) float64
		n    int
	}{
		{"short, insertion path", func(i int) float64 { return float64(i%5) - 2 }, 10},
		{"probabilities", func(int) float64 { return rng.Float64() }, 100_000},
		{"probabilities with ties", func(int) float64 { return math.Round(rng.Float64()*100) / 100 }, 50_000},
		{"one value", func(int) float64 { return 0.25 }, 3000},
		{"signs and infinities", func(i int) float64 {
			return []float64{math.Inf(1), math.Inf(-1), -1e300, 1e-310, -1e-310, 0}[i%6] * float64(1+i%3)
		}, 3000},
		{"random bits", func(int) float64 {
			for {
				if v := math.Float64frombits(rng.Uint64()); v == v {
					return v
				}
			}
		}, 20_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals := make([]float64, tt.n)
			for i := range vals {
				vals[i] = tt.f(i)
			}
			want := slices.Clone(vals)
			slices.Sort(want)
			Float64s(vals)
			if !slices.Equal(vals, want) {
				t.Fatal("Float64s differs from slices.Sort")
			}
		})
	}
}

func repeat(n int, f func(int) float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func BenchmarkFloat32s(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	src := repeat(200_000, func(int) float32 { return float32(rng.ExpFloat64()) })
	vals := make([]float32, len(src))
	for b.Loop() {
		copy(vals, src)
		Float32s(vals)
	}
}
