package lowerbound

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSearchEqualsBinarySearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 40; n++ {
		edges := make([]float64, n)
		for i := range edges {
			edges[i] = float64(rng.IntN(20))
		}
		slices.Sort(edges)
		edges32 := make([]float32, n)
		for i, e := range edges {
			edges32[i] = float32(e)
		}
		for _, v := range []float64{-1, 0, 0.5, 3, 7, 19, 19.5, 25, math.Inf(1), math.Inf(-1), math.NaN()} {
			want, _ := slices.BinarySearch(edges, v)
			if got := Search(edges, v); got != want {
				t.Fatalf("Search(%v, %v) = %d, want %d", edges, v, got, want)
			}
			if got := Search(edges32, float32(v)); got != want {
				t.Fatalf("Search(float32 %v, %v) = %d, want %d", edges32, v, got, want)
			}
		}
	}
}

func ExampleSearch() {
	edges := []float64{1, 2, 4}
	for _, v := range []float64{0, 1, 3, 9} {
		fmt.Println(v, "->", Search(edges, v))
	}
	// Output:
	// 0 -> 0
	// 1 -> 0
	// 3 -> 2
	// 9 -> 3
}
