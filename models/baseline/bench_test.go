package baseline

import (
	"fmt"
	"testing"
)

// Benchmarks at the sizes the training command sees. Run with
// -benchtime=1x: one forest fit at 100k x 60 takes tens of seconds.

func BenchmarkLogRegFit(b *testing.B) {
	for _, rows := range []int{100_000, 200_000} {
		X, y := linearTask(1, rows, 60)
		b.Run(fmt.Sprintf("%dx60", rows), func(b *testing.B) {
			for b.Loop() {
				var m LogReg
				if err := m.Fit(X, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkForestFit(b *testing.B) {
	X, y := linearTask(1, 100_000, 60)
	b.Run("100000x60", func(b *testing.B) {
		for b.Loop() {
			f := Forest{Seed: 1}
			if err := f.Fit(X, y); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkForestPredict(b *testing.B) {
	X, y := linearTask(1, 20_000, 60)
	f := Forest{Seed: 1}
	if err := f.Fit(X, y); err != nil {
		b.Fatal(err)
	}
	Xp, _ := linearTask(2, 100_000, 60)
	b.Run("100000x60", func(b *testing.B) {
		for b.Loop() {
			f.PredictProba(Xp)
		}
	})
}
