package gbdt

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"
)

// resum replaces the trailing CRC-32C of a model file.
func resum(file []byte) []byte {
	body := file[:len(file)-trailerLen]
	return binary.LittleEndian.AppendUint32(slices.Clone(body), crc32Of(body))
}

func TestCoverRoundTrip(t *testing.T) {
	for _, obj := range []Objective{Binary, Softmax} {
		m, X := fittedModel(t, obj, 6, 8, 4, 81)
		file := modelBytes(t, m)
		loaded, err := Read(bytes.NewReader(file))
		if err != nil {
			t.Fatalf("%v: %v", obj, err)
		}
		if !loaded.HasCover() {
			t.Fatalf("%v: cover lost by WriteTo/Read", obj)
		}
		for i := range m.trees {
			if !slices.Equal(loaded.trees[i].cover, m.trees[i].cover) {
				t.Fatalf("%v: tree %d cover %v, wrote %v", obj, i, loaded.trees[i].cover, m.trees[i].cover)
			}
		}
		if !bytes.Equal(modelBytes(t, loaded), file) {
			t.Errorf("%v: re-written model differs from the file", obj)
		}
		Q := withNaNs(X.Slice(0, 50), 8)
		a, b := contributions(t, m, Q), contributions(t, loaded, Q)
		if !slices.Equal(a.Values, b.Values) || !slices.Equal(a.Bias, b.Bias) {
			t.Errorf("%v: contributions of the re-read model differ", obj)
		}
	}
}

// TestReadVersion1 reads a file in the previous layout (no cover
// section): the model predicts as before and Contributions says it has
// no cover.
func TestReadVersion1(t *testing.T) {
	m, X := fittedModel(t, Binary, 5, 6, 3, 82)
	m.trees = slices.Clone(m.trees)
	for i := range m.trees {
		m.trees[i].cover = nil
	}
	v2 := modelBytes(t, m)
	v1 := slices.Clone(v2[:len(v2)-trailerLen-4]) // drop the cover kind
	binary.LittleEndian.PutUint32(v1[len(Magic):], 1)
	v1 = binary.LittleEndian.AppendUint32(v1, crc32Of(v1))
	loaded, err := Read(bytes.NewReader(v1))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(loaded.PredictRaw(X), m.PredictRaw(X)) {
		t.Error("version 1 model predicts differently")
	}
	var c Contributions
	if err := loaded.Contributions(context.Background(), X, &c); err == nil || !strings.Contains(err.Error(), "no node cover") {
		t.Errorf("version 1 model: Contributions error %v, want no node cover", err)
	}
	// A version 1 file does not have a cover section.
	withCover := slices.Clone(v2[:len(v2)-trailerLen])
	binary.LittleEndian.PutUint32(withCover[len(Magic):], 1)
	if _, err := Read(bytes.NewReader(resum(append(withCover, 0, 0, 0, 0)))); err == nil || !strings.Contains(err.Error(), "unexpected bytes") {
		t.Errorf("version 1 file with a cover section: error %v", err)
	}
}

func TestReadRejectsBadCover(t *testing.T) {
	m, _ := fittedModel(t, Binary, 4, 3, 2, 83)
	good := modelBytes(t, m)
	nodes := 0
	for i := range m.trees {
		nodes += m.trees[i].numNodes()
	}
	kindAt := len(good) - trailerLen - 8*nodes - 4
	countAt := func(tree, node int) int { // offset of a node's count
		off := kindAt + 4
		for i := 0; i < tree; i++ {
			off += 8 * m.trees[i].numNodes()
		}
		return off + 8*node
	}
	le := binary.LittleEndian
	mutate := func(f func(b []byte)) []byte {
		b := slices.Clone(good)
		f(b)
		return resum(b)
	}
	firstLeaf := int(slices.Index(m.trees[0].left, -1))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"unknown kind", mutate(func(b []byte) { le.PutUint32(b[kindAt:], 7) }), "cover kind 7"},
		{"zero count", mutate(func(b []byte) { le.PutUint64(b[countAt(0, 0):], 0) }), "node 0 counts 0 rows"},
		{"children do not add up", mutate(func(b []byte) { le.PutUint64(b[countAt(0, firstLeaf):], m.trees[0].cover[firstLeaf]+1) }), "its children"},
		{"roots differ", mutate(func(b []byte) { le.PutUint64(b[countAt(1, 0):], m.trees[1].cover[0]+1) }), "tree 1: cover: root counts"},
		{"truncated", resum(append(slices.Clone(good[:len(good)-trailerLen-8]), 0, 0, 0, 0)), "while reading cover"},
	}
	for _, tc := range tests {
		_, err := Read(bytes.NewReader(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	if _, err := Read(bytes.NewReader(good)); err != nil {
		t.Fatalf("unmutated file rejected: %v", err)
	}
}

// TestSetCoverCountsPaths: a node's cover is the number of reference rows
// whose walk passes through it, for float rows and for the binned set the
// model was fitted on, binary and softmax.
func TestSetCoverCountsPaths(t *testing.T) {
	X := uniformMatrix(3000, 5, 21)
	for _, obj := range []Objective{Binary, Softmax} {
		p := DefaultParams()
		p.NumRounds, p.MaxDepth, p.Objective = 12, 5, obj
		y := labelBy(X, func(x []float32) bool { return x[0]+x[1] > 1 })
		if obj == Softmax {
			p.NumClass = 3
			for i := range y {
				y[i] = float32(int(math.Abs(float64(X.At(i, 2)))*3) % 3)
			}
		}
		m := fit(t, p, Dataset{X: X, Y: y}, nil)
		if err := m.SetCover(context.Background(), X); err != nil {
			t.Fatal(err)
		}
		for i := range m.trees {
			tr := &m.trees[i]
			want := make([]uint64, tr.numNodes())
			for r := range X.Rows {
				x := X.Row(r)
				n := int32(0)
				want[0]++
				for tr.left[n] >= 0 {
					if x[tr.feature[n]] <= tr.threshold[n] {
						n = tr.left[n]
					} else {
						n = tr.right[n]
					}
					want[n]++
				}
			}
			if !slices.Equal(tr.cover, want) {
				t.Fatalf("%v: tree %d cover %v, want the path counts %v", obj, i, tr.cover, want)
			}
		}
	}
}
