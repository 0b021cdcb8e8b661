package synth

import (
	"math"
	"testing"
)

func TestBinaryShape(t *testing.T) {
	X, y := Binary(200_000, 20, 7)
	if X.Rows != 200_000 || X.Cols != 20 || len(y) != X.Rows {
		t.Fatalf("shape %dx%d with %d labels", X.Rows, X.Cols, len(y))
	}
	pos := 0.0
	for _, v := range y {
		pos += float64(v)
	}
	rate := pos / float64(len(y))
	if rate < 0.035 || rate > 0.07 {
		t.Errorf("positive rate %.4f, want about 0.05", rate)
	}
	if testing.Verbose() {
		t.Logf("positive rate %.4f", rate)
	}
	for i := 0; i < X.Rows; i++ {
		if X.At(i, X.Cols-1) != 1 {
			t.Fatalf("row %d: last column %v, want constant 1", i, X.At(i, X.Cols-1))
		}
	}
}

func TestReproducible(t *testing.T) {
	tests := []struct {
		name string
		gen  func(seed uint64) ([]float32, []float32)
	}{
		{"binary", func(s uint64) ([]float32, []float32) { X, y := Binary(1000, 16, s); return X.Data, y }},
		{"multiclass", func(s uint64) ([]float32, []float32) { X, y := Multiclass(1000, 16, 5, s); return X.Data, y }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, ya := tc.gen(3)
			b, yb := tc.gen(3)
			c, _ := tc.gen(4)
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					t.Fatalf("value %d differs for the same seed", i)
				}
			}
			for i := range ya {
				if ya[i] != yb[i] {
					t.Fatalf("label %d differs for the same seed", i)
				}
			}
			same := true
			for i := range a {
				if a[i] != c[i] {
					same = false
					break
				}
			}
			if same {
				t.Error("different seeds gave the same data")
			}
		})
	}
}

func TestMulticlassUsesEveryClass(t *testing.T) {
	_, y := Multiclass(50_000, 16, 12, 1)
	seen := make([]int, 12)
	for _, v := range y {
		seen[int(v)]++
	}
	for c, n := range seen {
		if n == 0 {
			t.Errorf("class %d never drawn", c)
		}
	}
}
