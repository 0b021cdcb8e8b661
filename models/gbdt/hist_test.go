package gbdt

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/failcast/failcast/models/gbdt/synth"
)

// TestHistogramLayoutsAgree builds the same node histograms column-wise
// and row-wise on 1, 2 and 3 workers and wants them equal bin for bin:
// fixed-point sums do not depend on the layout or on which worker added
// which rows.
func TestHistogramLayoutsAgree(t *testing.T) {
	const n = 5 * rowBlockRows
	X, y := synth.Binary(n, 24, 3)
	bm, err := newBinMapper(context.Background(), X, sampleRows(n, 0, 1), MaxBinsLimit, 2)
	if err != nil {
		t.Fatal(err)
	}
	bins, err := binAll(context.Background(), X, bm, 2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	grads := make([]gradPair, n)
	for i := range grads {
		grads[i] = gradPair{float32(rng.NormFloat64()) - y[i], float32(rng.Float64() / 4)}
	}
	packed := make([]int64, n)
	packGrads(packed, grads, 2)
	layout := newHistLayout(bm)
	var features []int
	for f, nb := range layout.nbins {
		if nb > 1 {
			features = append(features, f)
		}
	}
	allSparse := sparseColumns(bins, features, 1, 2)
	someSparse := sparseColumns(bins, features, sparseMaxShare, 1)
	sparseCount := 0
	for _, f := range features {
		if someSparse[f] != nil {
			sparseCount++
		}
		if allSparse[f] == nil {
			t.Fatalf("feature %d has no sparse column at share 1", f)
		}
	}
	if sparseCount == 0 || sparseCount == len(features) {
		t.Fatalf("%d of %d features sparse at share %v: want some of each", sparseCount, len(features), sparseMaxShare)
	}
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	tests := []struct {
		name string
		rows []int32
	}{
		{"every row", all},
		{"half", randomShare(all, 2)},
		{"a tenth", randomShare(all, 10)},
		{"a few rows", randomShare(all, 5000)},
		{"no rows", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want int64
			for _, r := range tc.rows {
				want += packed[r]
			}
			var ref []int64
			for _, sparse := range []struct {
				name string
				cols []*sparseCol
			}{{"dense", nil}, {"sparse where a bin holds 70%", someSparse}, {"all sparse", allSparse}} {
				for _, rowWise := range []int{0, n} {
					for _, workers := range []int{1, 2, 3} {
						hb := &histBuilder{layout: layout, bins: bins, workers: workers, rowWise: rowWise, sparse: sparse.cols}
						if rowWise > 0 {
							// Sparse features keep their entries row by row.
							hb.byRow = newRowBins(bins, features, sparse.cols, 0, workers)
						}
						hb.groups = [][]int{features[:histGroupSize], features[histGroupSize:]}
						hist := make([]int64, layout.size)
						for i := range hist {
							hist[i] = 7 // build must clear
						}
						hb.build(hist, tc.rows, packed, want)
						if ref == nil {
							ref = hist
							continue
						}
						if !slices.Equal(hist[:layout.size-256], ref[:layout.size-256]) {
							t.Fatalf("%s, row-wise up to %d rows, %d workers: histogram differs from dense column-wise on one worker", sparse.name, rowWise, workers)
						}
					}
				}
			}
			// Every feature's bins add up to the node's sum.
			for _, f := range features {
				var got int64
				for _, s := range ref[layout.offset[f] : layout.offset[f]+layout.nbins[f]] {
					got += s
				}
				if got != want {
					t.Fatalf("feature %d: bins sum to %v, the rows to %v", f, got, want)
				}
			}
		})
	}
}

// TestFeatureGroups checks that groups cover the features in order, hold
// at most histGroupSize each, differ in size by at most one, and come in
// a multiple of the worker count when there are enough features.
func TestFeatureGroups(t *testing.T) {
	for _, nf := range []int{0, 1, 2, 15, 16, 17, 33, 79, 80, 200} {
		for _, workers := range []int{1, 2, 3, 4} {
			features := make([]int, nf)
			for i := range features {
				features[i] = 3 * i
			}
			groups := featureGroups(nil, features, workers)
			var all []int
			lo, hi := nf, 0
			for _, g := range groups {
				all = append(all, g...)
				lo, hi = min(lo, len(g)), max(hi, len(g))
			}
			if !slices.Equal(all, features) && nf > 0 {
				t.Fatalf("%d features, %d workers: groups %v do not cover them in order", nf, workers, groups)
			}
			if nf > 0 && (hi > histGroupSize || hi-lo > 1 || lo == 0) {
				t.Errorf("%d features, %d workers: group sizes %d..%d", nf, workers, lo, hi)
			}
			if nf >= workers && len(groups)%workers != 0 {
				t.Errorf("%d features, %d workers: %d groups", nf, workers, len(groups))
			}
		}
	}
}

// TestPackGrads checks the packed gradients: within half a unit of the
// float values (a positive hessian never 0), and the sums of every row at
// the largest magnitudes unpacking to the exact sums of the fields.
func TestPackGrads(t *testing.T) {
	tests := []struct {
		name  string
		grads []gradPair
	}{
		{"unit gradients", []gradPair{{1, 0.25}, {-1, 0.25}, {0.5, 0.1}, {-0.001, 1e-9}}},
		{"large weights", []gradPair{{3e6, 8e5}, {-2e6, 1e-3}, {0, 1e-16}}},
		{"tiny values", []gradPair{{1e-30, 1e-38}, {-1e-31, 1e-40}}},
		{"all zero", []gradPair{{0, 0}, {0, 0}}},
		{"a million extremes", slices.Repeat([]gradPair{{-1, 0.25}, {-1, 0.25}, {1, 1e-9}}, 1<<19)},
		{"a million positive extremes", slices.Repeat([]gradPair{{1, 0.25}}, 1<<20)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]int64, len(tc.grads))
			sc := packGrads(dst, tc.grads, 2)
			var sum int64
			var want binStat
			for i, gp := range tc.grads {
				s := unpackStat(dst[i])
				g, h := sc.decode(s)
				if math.Abs(g-float64(gp.g)) > sc.gUnit/2 || (math.Abs(h-float64(gp.h)) > sc.hUnit/2 && s.h != 1) {
					t.Fatalf("row %d: %v decodes to (%v, %v), units (%v, %v)", i, gp, g, h, sc.gUnit, sc.hUnit)
				}
				if gp.h > 0 && s.h <= 0 {
					t.Fatalf("row %d: hessian %v became %d", i, gp.h, s.h)
				}
				sum += dst[i]
				want.g += s.g
				want.h += s.h
			}
			if got := unpackStat(sum); got != want {
				t.Errorf("packed sum unpacks to %v, the fields sum to %v", got, want)
			}
			if want.g >= 1<<31 || want.g < -(1<<31) || want.h >= 1<<32 {
				t.Errorf("sums %v overflow their fields", want)
			}
		})
	}
}

// TestEdgeIndex checks the bucketed bin search against the binary search
// over all edges, on edges and values that crowd buckets, sit on bucket
// bounds and reach the float32 extremes.
func TestEdgeIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	inf := float32(math.Inf(1))
	normal := make([]float32, 20000)
	for i := range normal {
		normal[i] = float32(math.Round(rng.NormFloat64()*1000) / 1000)
	}
	skewed := make([]float32, 20000)
	for i := range skewed {
		skewed[i] = float32(math.Exp(rng.NormFloat64() * 6)) // most edges in the first buckets
	}
	tests := []struct {
		name  string
		edges []float32
		vals  []float32
	}{
		{"normal quantiles", quantileEdges(slices.Clone(normal), 255), normal},
		{"skewed quantiles", quantileEdges(slices.Clone(skewed), 255), skewed},
		{"one edge", []float32{0.5}, []float32{0, 0.5, 0.50001, 1, -inf, inf}},
		{"two close edges", []float32{1, math.Nextafter32(1, 2)}, []float32{1, math.Nextafter32(1, 2), 2, 0}},
		{"infinite edge", []float32{-inf, 0, 1}, []float32{-inf, -1, 0, 0.5, 1, 2, inf}},
		{"extreme range", []float32{-math.MaxFloat32, 0, math.MaxFloat32}, []float32{-inf, -math.MaxFloat32, -1, 0, 1, math.MaxFloat32, inf}},
		{"integers", []float32{0.5, 1.5, 2.5, 3.5}, []float32{0, 1, 2, 3, 4, 2.5, 3.5, -7, 100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix := newEdgeIndex(tc.edges)
			vals := slices.Clone(tc.vals)
			for _, e := range tc.edges { // the edges and their neighbours
				vals = append(vals, e, math.Nextafter32(e, -inf), math.Nextafter32(e, inf))
			}
			for _, v := range vals {
				if got, want := ix.bin(v), binOf(tc.edges, v); got != want {
					t.Fatalf("value %v: bin %d, binary search %d", v, got, want)
				}
			}
		})
	}
}

// TestPackGradsPrecision checks the units on a binary task's first-round
// gradients (1M rows, 5% positives): the typical row, a negative with a
// gradient 18 times below the positives', keeps three significant digits.
// Units sized by rows x the largest gradient left it about 2^7 levels (an
// error of 0.4%); sized by the sum of the gradients, 2^10 or more.
func TestPackGradsPrecision(t *testing.T) {
	const n = 1 << 20
	grads := make([]gradPair, n)
	for i := range grads {
		grads[i] = gradPair{0.0525, 0.0497}
		if i%20 == 0 {
			grads[i] = gradPair{-0.9475, 0.0497}
		}
	}
	dst := make([]int64, n)
	sc := packGrads(dst, grads, 2)
	g, h := sc.decode(unpackStat(dst[1]))
	if rel := math.Abs(g-0.0525) / 0.0525; rel > 1e-3 {
		t.Errorf("gradient 0.0525 decodes to %v (relative error %.2g, unit %v)", g, rel, sc.gUnit)
	}
	if rel := math.Abs(h-0.0497) / 0.0497; rel > 1e-3 {
		t.Errorf("hessian 0.0497 decodes to %v (relative error %.2g, unit %v)", h, rel, sc.hUnit)
	}
}

// TestRowBinsSparseRule checks when newRowBins keeps sparse features as
// per-row entries: only when they spare enough adds per row, and then
// with every row's entries, in slot order, and the rest of its bins in the
// dense bytes.
func TestRowBinsSparseRule(t *testing.T) {
	const n = 3000
	X, _ := synth.Binary(n, 40, 5)
	// Twenty flags set on one row in ten: sparse, sparing ~18 adds a row.
	for i := range n {
		for f := 20; f < 40; f++ {
			X.Data[i*X.Cols+f] = float32(b2i((i+f)%10 == 0))
		}
	}
	bm, err := newBinMapper(context.Background(), X, sampleRows(n, 0, 1), MaxBinsLimit, 1)
	if err != nil {
		t.Fatal(err)
	}
	bins, err := binAll(context.Background(), X, bm, 1)
	if err != nil {
		t.Fatal(err)
	}
	var features []int
	for f := range bm.edges {
		if len(bm.edges[f]) > 0 {
			features = append(features, f)
		}
	}
	sparse := sparseColumns(bins, features, sparseMaxShare, 1)
	nsparse := 0
	for _, sc := range sparse {
		if sc != nil {
			nsparse++
		}
	}
	for _, tc := range []struct {
		name       string
		minSaved   float64
		wantSparse int
	}{
		{"enough adds spared", rowSparseMinSaved, nsparse},
		{"too few adds spared", float64(nsparse), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rb := newRowBins(bins, features, sparse, tc.minSaved, 2)
			if got := rb.width - rb.stride; got != tc.wantSparse || rb.width != len(features) {
				t.Fatalf("%d sparse slots of %d, want %d of %d", got, rb.width, tc.wantSparse, len(features))
			}
			for r := range n {
				want := make(map[int]uint8) // slot -> bin, for bins outside the slot's top
				for j, f := range rb.feature {
					if b := bins.cols[f][r]; j < rb.stride {
						if rb.data[r*rb.stride+j] != b {
							t.Fatalf("row %d slot %d: dense byte %d, want %d", r, j, rb.data[r*rb.stride+j], b)
						}
					} else if b != rb.top[j] {
						want[j] = b
					}
				}
				if rb.stride == rb.width {
					continue
				}
				lo, hi := rb.spStart[r], rb.spStart[r+1]
				if int(hi-lo) != len(want) {
					t.Fatalf("row %d: %d entries, want %d", r, hi-lo, len(want))
				}
				for e := lo; e < hi; e++ {
					j := int(rb.spSlot[e])
					if b, ok := want[j]; !ok || b != rb.spBin[e] || (e > lo && rb.spSlot[e-1] >= rb.spSlot[e]) {
						t.Fatalf("row %d entry %d: slot %d bin %d, want the slots ascending with their bins %v", r, e-lo, j, rb.spBin[e], want)
					}
				}
			}
		})
	}
}
