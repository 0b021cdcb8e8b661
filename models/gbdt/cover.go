package gbdt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"

	"github.com/failcast/failcast/models"
)

// ErrNoCover is returned by Contributions and NewExplainer for a model
// without node cover: one read from a version 1 file, or fitted and not
// yet given its cover with SetFitCover or SetCover.
var ErrNoCover = errors.New("gbdt: model has no node cover (call SetCover with the training rows, or retrain: version 1 model files carry none)")

// HasCover reports whether every tree knows its node cover, which
// Contributions needs.
func (m *Model) HasCover() bool {
	for i := range m.trees {
		if len(m.trees[i].cover) != m.trees[i].numNodes() {
			return false
		}
	}
	return len(m.trees) > 0
}

// coverCheckRows is how many rows a SetCover worker counts between two
// looks at its context.
const coverCheckRows = 4096

// SetCover records, for every node of every tree, how many rows of X
// reach it. TreeSHAP (Contributions) uses these counts as the
// distribution of the features a contribution leaves out, so X should be
// the rows the model was trained on (all of them: a sample may miss a
// small leaf). Rows are counted unweighted; NaN values go right, as in
// prediction. The cover replaces any earlier one and is saved with the
// model.
//
// SetCover fails, leaving the model unchanged, when X does not have
// NumFeatures() columns, has no rows, or leaves a node without any row
// (X is then not the training set), or when ctx is cancelled.
func (m *Model) SetCover(ctx context.Context, X models.Matrix) error {
	if err := X.Validate(); err != nil {
		return fmt.Errorf("gbdt: set cover: %w", err)
	}
	if X.Cols != m.numFeatures {
		return fmt.Errorf("gbdt: set cover: matrix has %d columns, the model expects %d", X.Cols, m.numFeatures)
	}
	return m.setCover(ctx, X.Rows, func(r int, _ []float32) []float32 { return X.Row(r) })
}

// SetFitCover records as the node cover the counts Fit took of its
// training rows while it grew the trees: the cover SetCoverDataset (or
// SetCover with the float rows) computes over the training set, without
// a pass over its rows. It fails, leaving the model unchanged, for a
// model that was not fitted in this process (one read from a file) and,
// as SetCover does, when some node has no training row.
func (m *Model) SetFitCover() error {
	if len(m.fitCover) != len(m.trees) || len(m.trees) == 0 {
		return errors.New("gbdt: set fit cover: the model has no counts from Fit (it was read from a file): call SetCover with its training rows")
	}
	for i := range m.trees {
		for n, v := range m.fitCover[i] {
			if v == 0 {
				return fmt.Errorf("gbdt: set fit cover: no training row reaches tree %d node %d", i, n)
			}
		}
	}
	for i := range m.trees {
		m.trees[i].cover = m.fitCover[i]
	}
	return nil
}

// SetCoverDataset is SetCover over the training set d: its float rows or,
// for a set binned before Fit (CodedBuilder), rows rebuilt from its
// bins. A bin stands for its upper edge: every split of the trees is made
// at a bin edge, so it sends the edge the way it sends every value of the
// bin, and the counts are those of the original rows.
func (m *Model) SetCoverDataset(ctx context.Context, d Dataset) error {
	b := d.binned
	if b == nil {
		return m.SetCover(ctx, d.X)
	}
	if len(b.bins.cols) != m.numFeatures {
		return fmt.Errorf("gbdt: set cover: training set has %d columns, the model expects %d", len(b.bins.cols), m.numFeatures)
	}
	return m.setCover(ctx, b.bins.rows, func(r int, buf []float32) []float32 {
		for f, col := range b.bins.cols {
			edges := b.bm.edges[f]
			if k := int(col[r]); k < len(edges) {
				buf[f] = edges[k]
			} else {
				buf[f] = math.MaxFloat32 // above every edge
			}
		}
		return buf
	})
}

// setCover counts the rows, row(r, buf) for r in [0, rows), reaching each
// node (buf is a per-worker scratch row of the model's width) and stores
// the counts as the trees' cover.
func (m *Model) setCover(ctx context.Context, rows int, row func(r int, buf []float32) []float32) error {
	if rows == 0 {
		return errors.New("gbdt: set cover: the reference matrix has no rows")
	}
	offsets := make([]int, len(m.trees)+1)
	for i := range m.trees {
		offsets[i+1] = offsets[i] + m.trees[i].numNodes()
	}
	workers := m.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, (rows+coverCheckRows-1)/coverCheckRows)
	// Each worker counts a contiguous share of the rows into its own
	// array; integer sums do not depend on the split.
	counts := make([][]uint64, workers)
	errs := make([]error, workers)
	parallelFor(workers, workers, func(w int) {
		c := make([]uint64, offsets[len(m.trees)])
		buf := make([]float32, m.numFeatures)
		lo, hi := w*rows/workers, (w+1)*rows/workers
		for r := lo; r < hi; r++ {
			if (r-lo)%coverCheckRows == 0 {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
			}
			x := row(r, buf)
			// Only the leaf is counted here, the walk stepping without a
			// branch on the row's data (right = left+1, as the format
			// requires); the nodes above get their leaves' sums below.
			for i := range m.trees {
				t := &m.trees[i]
				n := int32(0)
				for {
					l := t.left[n]
					if l < 0 {
						break
					}
					n = l + b2i(!(x[t.feature[n]] <= t.threshold[n]))
				}
				c[offsets[i]+int(n)]++
			}
		}
		// Children follow their parent, so a backward pass over a tree's
		// nodes sums every subtree before its root.
		for i := range m.trees {
			t, tc := &m.trees[i], c[offsets[i]:offsets[i+1]]
			for n := len(tc) - 1; n >= 0; n-- {
				if l := t.left[n]; l >= 0 {
					tc[n] = tc[l] + tc[t.right[n]]
				}
			}
		}
		counts[w] = c
	})
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gbdt: set cover: %w", err)
	}
	total := counts[0]
	for _, c := range counts[1:] {
		for j, v := range c {
			total[j] += v
		}
	}
	for i := range m.trees {
		for n, v := range total[offsets[i]:offsets[i+1]] {
			if v == 0 {
				return fmt.Errorf("gbdt: set cover: no row of the %d-row reference matrix reaches tree %d node %d; pass the rows the model was trained on", rows, i, n)
			}
		}
	}
	for i := range m.trees {
		m.trees[i].cover = total[offsets[i]:offsets[i+1]:offsets[i+1]]
	}
	return nil
}

// Cover kinds of the model file's cover section (docs/model-format.md).
const (
	coverNone      = 0
	coverRowCounts = 1
)

// appendCover appends the cover section of format version 2.
func (m *Model) appendCover(b []byte) []byte {
	le := binary.LittleEndian
	if !m.HasCover() {
		return le.AppendUint32(b, coverNone)
	}
	b = le.AppendUint32(b, coverRowCounts)
	for i := range m.trees {
		for _, v := range m.trees[i].cover {
			b = le.AppendUint64(b, v)
		}
	}
	return b
}

// readCover reads the cover section of format version 2 into the trees
// and checks it: every node is reached by at least one row, an internal
// node's count is the sum of its children's, and every tree's root
// counts the same rows.
func readCover(r *reader, trees []tree) error {
	kind := r.u32("cover kind")
	if r.err != nil {
		return r.err
	}
	switch kind {
	case coverNone:
		return nil
	case coverRowCounts:
	default:
		return fmt.Errorf("cover kind %d, want %d (none) or %d (row counts)", kind, coverNone, coverRowCounts)
	}
	for i := range trees {
		t := &trees[i]
		n := t.numNodes()
		raw := r.take(8*n, "cover")
		if r.err != nil {
			return fmt.Errorf("tree %d: %w", i, r.err)
		}
		t.cover = make([]uint64, n)
		for j := range t.cover {
			t.cover[j] = binary.LittleEndian.Uint64(raw[8*j:])
		}
		if t.cover[0] != trees[0].cover[0] {
			return fmt.Errorf("tree %d: cover: root counts %d rows, tree 0's counts %d", i, t.cover[0], trees[0].cover[0])
		}
		for j, c := range t.cover {
			if c == 0 {
				return fmt.Errorf("tree %d: cover: node %d counts 0 rows, want >= 1", i, j)
			}
			if l := t.left[j]; l >= 0 {
				cl, cr := t.cover[l], t.cover[t.right[j]]
				if cl > c || cr != c-cl {
					return fmt.Errorf("tree %d: cover: node %d counts %d rows, its children %d and %d", i, j, c, cl, cr)
				}
			}
		}
	}
	return nil
}
