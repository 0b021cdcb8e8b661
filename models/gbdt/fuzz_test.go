package gbdt

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"testing"

	"github.com/failcast/failcast/models"
)

// fuzzSeedModels returns the files of a small binary and softmax model,
// without and with node cover.
func fuzzSeedModels(f *testing.F) [][]byte {
	X := uniformMatrix(300, 3, 31)
	y := labelBy(X, func(x []float32) bool { return x[0] > 0.1 })
	p := DefaultParams()
	p.NumRounds, p.MaxDepth = 3, 2
	bm, err := Fit(context.Background(), p, Dataset{X: X, Y: y}, nil)
	if err != nil {
		f.Fatal(err)
	}
	ym := make([]float32, X.Rows)
	for i := range ym {
		ym[i] = float32(int(X.At(i, 1)+1.5) % 3)
	}
	p.Objective, p.NumClass, p.ClassWeights = Softmax, 3, []float64{1, 2, 1}
	sm, err := Fit(context.Background(), p, Dataset{X: X, Y: ym}, nil)
	if err != nil {
		f.Fatal(err)
	}
	a, _ := bm.MarshalBinary()
	b, _ := sm.MarshalBinary()
	// The same models with the cover section.
	if err := bm.SetCover(context.Background(), X); err != nil {
		f.Fatal(err)
	}
	if err := sm.SetCover(context.Background(), X); err != nil {
		f.Fatal(err)
	}
	ac, _ := bm.MarshalBinary()
	bc, _ := sm.MarshalBinary()
	return [][]byte{a, b, ac, bc}
}

// checkParsed asserts what any accepted model must satisfy: it predicts
// finite scores without panicking and writes back the bytes it was read
// from.
func checkParsed(t *testing.T, m *Model, file []byte) {
	X := models.NewMatrix(4, m.NumFeatures())
	for i := range X.Data {
		X.Data[i] = float32(i%7) - 3
	}
	for _, s := range m.PredictRaw(X) {
		if math.IsNaN(s) {
			t.Fatal("accepted model predicts NaN")
		}
	}
	m.FeatureImportance()
	if m.HasCover() {
		var c Contributions
		if err := m.Contributions(context.Background(), X, &c); err != nil {
			t.Fatalf("accepted model with cover: Contributions: %v", err)
		}
	}
	if file != nil {
		again, _ := m.MarshalBinary()
		if !bytes.Equal(again, file) {
			t.Fatal("accepted model does not write back the bytes it was read from")
		}
	}
}

func FuzzRead(f *testing.F) {
	for _, s := range fuzzSeedModels(f) {
		f.Add(s)
		f.Add(s[:len(s)-5])
		f.Add(s[:headerLen])
	}
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		checkParsed(t, m, data)
	})
}

// FuzzParseBody skips the checksum so the fuzzer reaches the decoder's
// bounds and consistency checks.
func FuzzParseBody(f *testing.F) {
	for _, s := range fuzzSeedModels(f) {
		f.Add(s[headerLen : len(s)-trailerLen])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseBody(body, FormatVersion)
		if err != nil {
			return
		}
		file := append([]byte(Magic), binary.LittleEndian.AppendUint32(nil, FormatVersion)...)
		file = append(file, body...)
		file = binary.LittleEndian.AppendUint32(file, crc32Of(file))
		checkParsed(t, m, file)
	})
}

func FuzzQuantileEdges(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 0, 64}, uint8(4))
	f.Add([]byte{}, uint8(255))
	f.Fuzz(func(t *testing.T, raw []byte, maxBins uint8) {
		if maxBins < 2 {
			return
		}
		var vals []float32
		for i := 0; i+4 <= len(raw); i += 4 {
			v := math.Float32frombits(binary.LittleEndian.Uint32(raw[i:]))
			if v == v {
				vals = append(vals, v)
			}
		}
		edges := quantileEdges(append([]float32(nil), vals...), int(maxBins))
		if len(edges) > int(maxBins)-1 {
			t.Fatalf("%d edges for %d bins", len(edges), maxBins)
		}
		for i := 1; i < len(edges); i++ {
			if !(edges[i] > edges[i-1]) {
				t.Fatalf("edges not increasing: %v", edges)
			}
		}
		bm := &binMapper{edges: [][]float32{edges}}
		ix := newEdgeIndex(edges)
		for _, v := range vals {
			b := int(bm.bin(0, v))
			if b < len(edges) && !(v <= edges[b]) || b > 0 && !(v > edges[b-1]) {
				t.Fatalf("value %v in bin %d outside edges %v", v, b, edges)
			}
			if got := int(ix.bin(v)); got != b {
				t.Fatalf("value %v: edge index gives bin %d, binary search %d (edges %v)", v, got, b, edges)
			}
		}
	})
}

// FuzzCodedBuilder: whatever the values (extremes, ±0, ±Inf), a coded
// set's edges increase, number at most MaxBins-1, and every row's bin is
// the one its raw value falls in against them; NaN is refused.
func FuzzCodedBuilder(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 0, 64, 0, 0, 128, 255}, uint8(4))
	f.Add([]byte{0, 0, 0, 128, 0, 0, 0, 0}, uint8(2))
	f.Fuzz(func(t *testing.T, raw []byte, maxBins uint8) {
		if maxBins < 2 {
			return
		}
		var vals []float32
		hasNaN := false
		for i := 0; i+4 <= len(raw); i += 4 {
			v := math.Float32frombits(binary.LittleEndian.Uint32(raw[i:]))
			hasNaN = hasNaN || v != v
			vals = append(vals, v)
		}
		if len(vals) == 0 {
			return
		}
		p := DefaultParams()
		p.MaxBins = int(maxBins)
		cb, err := NewCodedBuilder(p, 1)
		if err != nil {
			t.Fatal(err)
		}
		err = cb.AppendColumns([][]float32{vals}, nil, make([]float32, len(vals)))
		if hasNaN {
			if err == nil {
				t.Fatalf("values %v with a NaN: no error", vals)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		d, err := cb.Dataset(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		edges, bins := d.binned.bm.edges[0], d.binned.bins.cols[0]
		if len(edges) > int(maxBins)-1 {
			t.Fatalf("%d edges for %d bins", len(edges), maxBins)
		}
		for i := 1; i < len(edges); i++ {
			if !(edges[i] > edges[i-1]) {
				t.Fatalf("edges not increasing: %v", edges)
			}
		}
		for r, v := range vals {
			if want := binOf(edges, v); bins[r] != want {
				t.Fatalf("row %d value %v: bin %d, its value falls in bin %d (edges %v)", r, v, bins[r], want, edges)
			}
		}
	})
}
