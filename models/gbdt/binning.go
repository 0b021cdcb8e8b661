package gbdt

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/failcast/failcast/models"
)

// binMapper holds, per feature, the upper edges of every bin but the last:
// a value v falls in the first bin b with v <= edges[b], or in the last
// bin (index len(edges)) when it is above every edge. A split "bin <= b"
// is therefore the same as "value <= edges[b]" on raw values.
type binMapper struct {
	edges [][]float32
}

func (bm *binMapper) numBins(f int) int { return len(bm.edges[f]) + 1 }

// bin returns the bin of value v for feature f.
func (bm *binMapper) bin(f int, v float32) uint8 {
	e := bm.edges[f]
	lo, hi := 0, len(e)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if e[mid] < v {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return uint8(lo)
}

// binSeedStream separates the binning sample's random stream from the
// per-round streams.
const binSeedStream = 0x62696e73 // "bins"

// sampleRows returns the sorted row indices the bin edges are computed
// from: all rows, or n rows drawn without replacement.
func sampleRows(rows, n int, seed uint64) []int {
	if n <= 0 || n >= rows {
		idx := make([]int, rows)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	// Floyd's algorithm: n distinct indices in O(n) memory.
	rng := rand.New(rand.NewPCG(seed, binSeedStream))
	chosen := make(map[int]struct{}, n)
	idx := make([]int, 0, n)
	for j := rows - n; j < rows; j++ {
		t := rng.IntN(j + 1)
		if _, dup := chosen[t]; dup {
			t = j
		}
		chosen[t] = struct{}{}
		idx = append(idx, t)
	}
	slices.Sort(idx)
	return idx
}

// newBinMapper computes quantile bin edges for every column of X from the
// given sample of rows. It rejects NaN values, naming the row and column.
func newBinMapper(ctx context.Context, X models.Matrix, sample []int, maxBins, workers int) (*binMapper, error) {
	// Gather the sample column-major in one pass over rows.
	vals := make([]float32, len(sample)*X.Cols)
	n := len(sample)
	for k, r := range sample {
		row := X.Data[r*X.Cols : (r+1)*X.Cols]
		for f, v := range row {
			if v != v {
				return nil, nanError(r, f)
			}
			vals[f*n+k] = v
		}
	}
	bm := &binMapper{edges: make([][]float32, X.Cols)}
	parallelFor(X.Cols, workers, func(f int) {
		if ctx.Err() != nil {
			return
		}
		bm.edges[f] = quantileEdges(vals[f*n:(f+1)*n], maxBins)
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return bm, nil
}

func nanError(row, col int) error {
	return fmt.Errorf("gbdt: row %d column %d is NaN, want a number (missing values are not allowed)", row, col)
}

// quantileEdges sorts vals and returns at most maxBins-1 increasing edges
// that split them into bins of roughly equal counts. When there are at
// most maxBins distinct values every value gets its own bin. Edges lie
// between consecutive distinct values (their midpoint when representable)
// so unseen values in between are split sensibly.
func quantileEdges(vals []float32, maxBins int) []float32 {
	if len(vals) == 0 {
		return nil
	}
	slices.Sort(vals)
	distinct := make([]float32, 0, 64)
	counts := make([]int, 0, 64)
	for i, v := range vals {
		if i == 0 || v != vals[i-1] {
			distinct = append(distinct, v)
			counts = append(counts, 0)
		}
		counts[len(counts)-1]++
	}
	between := func(i int) float32 {
		a, b := distinct[i], distinct[i+1]
		m := float32((float64(a) + float64(b)) / 2)
		if !(m >= a && m < b) || math.IsInf(float64(m), 0) {
			return a
		}
		return m
	}
	edges := make([]float32, 0, min(len(distinct)-1, maxBins-1))
	if len(distinct) <= maxBins {
		for i := 0; i+1 < len(distinct); i++ {
			edges = append(edges, between(i))
		}
		return edges
	}
	// Greedy equal-count bins: close the current bin once it holds its
	// share of what is left, or whenever every remaining distinct value
	// can still get a bin of its own.
	rest, binsLeft, acc := len(vals), maxBins, 0
	for i := 0; i+1 < len(distinct) && binsLeft > 1; i++ {
		acc += counts[i]
		remainingDistinct := len(distinct) - i - 1
		if float64(acc) >= float64(rest)/float64(binsLeft) || remainingDistinct <= binsLeft-1 {
			edges = append(edges, between(i))
			rest -= acc
			acc = 0
			binsLeft--
		}
	}
	return edges
}

// binMatrix is the column-major uint8 bin matrix: the bin of row r in
// feature f is cols[f][r].
type binMatrix struct {
	rows int
	cols [][]uint8
}

// binBlockRows is the number of rows binned together: a block of rows
// stays in cache while every feature is binned.
const binBlockRows = 4096

// binAll maps every value of X to its bin, in parallel over row blocks.
// It rejects NaN values, naming the first such row and column.
func binAll(ctx context.Context, X models.Matrix, bm *binMapper, workers int) (*binMatrix, error) {
	data := make([]uint8, X.Rows*X.Cols)
	out := &binMatrix{rows: X.Rows, cols: make([][]uint8, X.Cols)}
	for f := range out.cols {
		out.cols[f] = data[f*X.Rows : (f+1)*X.Rows : (f+1)*X.Rows]
	}
	blocks := (X.Rows + binBlockRows - 1) / binBlockRows
	errs := make([]error, blocks)
	parallelFor(blocks, workers, func(b int) {
		if ctx.Err() != nil {
			return
		}
		lo, hi := b*binBlockRows, min((b+1)*binBlockRows, X.Rows)
		for f := 0; f < X.Cols; f++ {
			col := out.cols[f]
			if len(bm.edges[f]) == 0 {
				continue // constant feature: every row in bin 0
			}
			for r := lo; r < hi; r++ {
				col[r] = bm.bin(f, X.Data[r*X.Cols+f])
			}
		}
		for r := lo; r < hi; r++ {
			for f, v := range X.Data[r*X.Cols : (r+1)*X.Cols] {
				if v != v {
					errs[b] = nanError(r, f)
					return
				}
			}
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
