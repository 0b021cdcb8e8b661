package gbdt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"

	"github.com/failcast/failcast/models"
)

// ErrNoCover is returned by Contributions and NewExplainer for a model
// without node cover: one read from a version 1 file, or fitted and not
// yet given its reference rows with SetCover.
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
	if X.Rows == 0 {
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
	workers = min(workers, (X.Rows+coverCheckRows-1)/coverCheckRows)
	// Each worker counts a contiguous share of the rows into its own
	// array; integer sums do not depend on the split.
	counts := make([][]uint64, workers)
	errs := make([]error, workers)
	parallelFor(workers, workers, func(w int) {
		c := make([]uint64, offsets[len(m.trees)])
		lo, hi := w*X.Rows/workers, (w+1)*X.Rows/workers
		for r := lo; r < hi; r++ {
			if (r-lo)%coverCheckRows == 0 {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
			}
			x := X.Row(r)
			for i := range m.trees {
				t, base := &m.trees[i], offsets[i]
				n := int32(0)
				c[base]++
				for t.left[n] >= 0 {
					if x[t.feature[n]] <= t.threshold[n] {
						n = t.left[n]
					} else {
						n = t.right[n]
					}
					c[base+int(n)]++
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
				return fmt.Errorf("gbdt: set cover: no row of the %d-row reference matrix reaches tree %d node %d; pass the rows the model was trained on", X.Rows, i, n)
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
