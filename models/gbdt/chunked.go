package gbdt

import (
	"context"
	"errors"
	"fmt"

	"github.com/failcast/failcast/models"
)

// Binner maps raw feature values to the bins a model trains on. Its
// edges come from a sample of the training rows, as Fit computes them
// from its BinSampleRows sample; a Binner lets a caller bin a training
// set chunk by chunk as it is built (BinnedBuilder), so that the set is
// never held whole as float values.
type Binner struct {
	bm      *binMapper
	workers int // goroutines of AppendColumns
}

// NewBinner computes the bin edges of every feature from a sample of
// training rows, given as column-major chunks: chunks[c][f][i] is feature
// f of row i of chunk c (every chunk with the same number of columns,
// the rows of a chunk as long in every column; at least one row in
// all). When the chunks hold more than p.BinSampleRows rows,
// p.BinSampleRows of them are drawn with p.Seed, as Fit draws its
// sample. p.MaxBins and p.Workers are used too. NaN values are rejected,
// naming the row (counted across chunks) and column.
func NewBinner(ctx context.Context, p Params, chunks ...[][]float32) (*Binner, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(chunks) == 0 || len(chunks[0]) == 0 {
		return nil, errors.New("gbdt: binner: empty sample")
	}
	nf := len(chunks[0])
	n := 0
	var starts []int // first row of each chunk
	for c, cols := range chunks {
		if len(cols) != nf {
			return nil, fmt.Errorf("gbdt: binner: sample chunk %d has %d columns, chunk 0 %d", c, len(cols), nf)
		}
		for f, col := range cols {
			if len(col) != len(cols[0]) {
				return nil, fmt.Errorf("gbdt: binner: sample chunk %d column %d has %d rows, column 0 %d", c, f, len(col), len(cols[0]))
			}
		}
		starts = append(starts, n)
		n += len(cols[0])
	}
	if n == 0 {
		return nil, errors.New("gbdt: binner: empty sample")
	}
	rows := sampleRows(n, p.BinSampleRows, p.Seed)
	// Where each sampled row is: its chunk and row in the chunk.
	where := make([][2]int32, len(rows))
	c := 0
	for k, r := range rows { // rows ascend
		for c+1 < len(starts) && r >= starts[c+1] {
			c++
		}
		where[k] = [2]int32{int32(c), int32(r - starts[c])}
	}
	bm := &binMapper{edges: make([][]float32, nf)}
	errs := make([]error, nf)
	parallelFor(nf, p.workers(), func(f int) {
		if ctx.Err() != nil {
			return
		}
		vals := make([]float32, len(rows))
		for k, w := range where {
			v := chunks[w[0]][f][w[1]]
			if v != v {
				errs[f] = fmt.Errorf("gbdt: binner: sample row %d column %d is NaN, want a number", rows[k], f)
				return
			}
			vals[k] = v
		}
		bm.edges[f] = quantileEdges(vals, p.MaxBins)
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Binner{bm: bm, workers: p.workers()}, nil
}

// Features returns the number of features the Binner bins.
func (b *Binner) Features() int { return len(b.bm.edges) }

// BinnedBuilder collects binned training rows chunk by chunk: one byte
// per feature and row, against the edges of its Binner. Fit trains on
// its Dataset exactly as on the float rows it was built from, when the
// Binner's edges are those Fit would have computed.
type BinnedBuilder struct {
	binner *Binner
	cols   [][]uint8 // cols[f][r]: bin of feature f in row r
	y      []float32
	rows   int
}

// NewBuilder returns an empty builder binning with b's edges.
func (b *Binner) NewBuilder() *BinnedBuilder {
	return &BinnedBuilder{binner: b, cols: make([][]uint8, len(b.bm.edges))}
}

// Rows returns the number of rows appended (and kept by Filter).
func (bb *BinnedBuilder) Rows() int { return bb.rows }

// AppendColumns bins and appends rows of a column-major chunk: cols[f][i]
// is feature f of chunk row i (an Arrow float32 column's values, say).
// rows selects the chunk rows to append, in order (nil: all of them);
// y[k] is the label of the k-th appended row. A NaN value is an error
// naming the chunk row and column; nothing is appended then.
func (bb *BinnedBuilder) AppendColumns(cols [][]float32, rows []int32, y []float32) error {
	n, err := checkChunk("binned builder", len(bb.cols), cols, rows, y)
	if err != nil {
		return err
	}
	// Columns are binned side by side into space past their ends, and
	// kept only when no column holds a NaN.
	grown := make([][]uint8, len(cols))
	errs := make([]error, len(cols))
	workers := bb.binner.workers
	if n*len(cols) < parallelBinValues {
		workers = 1
	}
	parallelFor(len(cols), workers, func(f int) {
		grown[f], errs[f] = bb.binner.bm.appendColumn(bb.cols[f], f, cols[f], rows, n)
	})
	for _, err := range errs { // the first column's error, as a serial pass would find
		if err != nil {
			return err
		}
	}
	copy(bb.cols, grown)
	bb.y = append(bb.y, y...)
	bb.rows += n
	return nil
}

// parallelBinValues is the fewest values (rows times columns) of a chunk
// that AppendColumns bins on several goroutines.
const parallelBinValues = 1 << 16

// appendColumn returns dst extended by the bins of feature f of n chunk
// rows: col's rows in order, or those rows selects. A NaN is an error
// naming the chunk row and column.
func (bm *binMapper) appendColumn(dst []uint8, f int, col []float32, rows []int32, n int) ([]uint8, error) {
	edges := bm.edges[f]
	dst = growTo(dst, n)
	out := dst[len(dst)-n:]
	if rows == nil {
		for i, v := range col {
			if v != v {
				return nil, fmt.Errorf("gbdt: binned builder: chunk row %d column %d is NaN, want a number", i, f)
			}
			if len(edges) > 0 {
				out[i] = binOf(edges, v)
			}
		}
		if len(edges) == 0 { // a constant feature: every row in bin 0
			clear(out)
		}
		return dst, nil
	}
	for k, i := range rows {
		v := col[i]
		if v != v {
			return nil, fmt.Errorf("gbdt: binned builder: chunk row %d column %d is NaN, want a number", i, f)
		}
		if len(edges) > 0 {
			out[k] = binOf(edges, v)
		}
	}
	if len(edges) == 0 {
		clear(out)
	}
	return dst, nil
}

// AppendRows bins and appends the rows of a row-major matrix with their
// labels.
func (bb *BinnedBuilder) AppendRows(X models.Matrix, y []float32) error {
	if err := X.Validate(); err != nil {
		return fmt.Errorf("gbdt: binned builder: %w", err)
	}
	cols := make([][]float32, X.Cols)
	for f := range cols {
		cols[f] = make([]float32, X.Rows)
		for i := range X.Rows {
			cols[f][i] = X.Data[i*X.Cols+f]
		}
	}
	return bb.AppendColumns(cols, nil, y)
}

// Filter keeps the rows r with keep(r) true, in order, and drops the
// others (a down-sample tightened after rows were appended). It returns
// the number of rows kept.
func (bb *BinnedBuilder) Filter(keep func(row int) bool) int {
	bb.rows = filterRows(bb.cols, &bb.y, bb.rows, keep)
	return bb.rows
}

// Dataset returns the binned rows as a training set for Fit (with
// weight, when not nil, one per row). Its X has the shape of the rows
// but no values: Fit trains on the bins, which the Dataset carries.
// The builder must not be used afterwards.
func (bb *BinnedBuilder) Dataset(weight []float32) Dataset {
	m := &binMatrix{rows: bb.rows, cols: make([][]uint8, len(bb.cols))}
	for f, col := range bb.cols {
		m.cols[f] = col[:bb.rows:bb.rows]
	}
	bb.cols = nil
	return Dataset{
		X:      models.Matrix{Rows: bb.rows, Cols: len(m.cols)},
		Y:      bb.y,
		Weight: weight,
		binned: &binnedData{bm: bb.binner.bm, bins: m},
	}
}

// binnedData is a training set's bins, computed before Fit.
type binnedData struct {
	bm   *binMapper
	bins *binMatrix
}

// trainBins returns the bin edges and the bin matrix Fit trains on:
// those a BinnedBuilder made, or those of train's float rows, with the
// edges from a seeded sample of BinSampleRows rows.
func trainBins(ctx context.Context, p Params, train Dataset, workers int) (*binMapper, *binMatrix, error) {
	if b := train.binned; b != nil {
		return b.bm, b.bins, nil
	}
	bm, err := newBinMapper(ctx, train.X, sampleRows(train.X.Rows, p.BinSampleRows, p.Seed), p.MaxBins, workers)
	if err != nil {
		return nil, nil, fmt.Errorf("gbdt: binning: %w", err)
	}
	bins, err := binAll(ctx, train.X, bm, workers)
	if err != nil {
		return nil, nil, fmt.Errorf("gbdt: binning: %w", err)
	}
	return bm, bins, nil
}
