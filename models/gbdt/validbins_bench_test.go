package gbdt

import (
	"context"
	"slices"
	"testing"

	"github.com/failcast/failcast/models/gbdt/synth"
)

// BenchmarkValidScores compares the two ways of adding a round's tree to
// the validation rows' scores, per tree over 500k rows of benchCols
// features: walking the float rows (addTreesToScores, as Fit did) and
// walking the rows' bins (validBins.addTrees, as Fit does), with the
// bins' one-off cost beside them.
func BenchmarkValidScores(b *testing.B) {
	ctx := context.Background()
	d := benchDataset(100_000)
	p := DefaultParams()
	p.NumRounds = 20
	m, err := Fit(ctx, p, d, nil)
	if err != nil {
		b.Fatal(err)
	}
	bm, _, err := trainBins(ctx, p, d, p.workers())
	if err != nil {
		b.Fatal(err)
	}
	splitBins := make([][]uint8, len(m.trees))
	for i := range m.trees {
		t := &m.trees[i]
		splitBins[i] = make([]uint8, t.numNodes())
		for n, l := range t.left {
			if l >= 0 {
				k, ok := slices.BinarySearch(bm.edges[t.feature[n]], t.threshold[n])
				if !ok {
					b.Fatalf("tree %d node %d: threshold is no edge", i, n)
				}
				splitBins[i][n] = uint8(k)
			}
		}
	}
	V, _ := synth.Binary(500_000, benchCols, 2)
	scores := make([]float64, V.Rows)
	vb, err := binValid(ctx, V, bm, p.workers())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("float", func(b *testing.B) {
		for i := range b.N {
			j := i % len(m.trees)
			addTreesToScores(m.trees[j:j+1], V, scores, p.workers())
		}
	})
	b.Run("bins", func(b *testing.B) {
		for i := range b.N {
			j := i % len(m.trees)
			vb.addTrees(m.trees[j:j+1], splitBins[j:j+1], scores, p.workers())
		}
	})
	b.Run("binning", func(b *testing.B) {
		for range b.N {
			if _, err := binValid(ctx, V, bm, p.workers()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
