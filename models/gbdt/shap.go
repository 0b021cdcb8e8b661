package gbdt

import (
	"context"
	"fmt"
	"runtime"

	"github.com/failcast/failcast/models"
)

// This file computes exact TreeSHAP values: Lundberg, Erion and Lee,
// "Consistent Individualized Feature Attribution for Tree Ensembles"
// (2018), Algorithm 2, in O(T·L·D²) per row for T trees of L leaves and
// depth D. A feature's contribution is its Shapley value for the set
// function v(S) = E[f(x) | x_S], where the expectation over the features
// outside S follows the tree: at a node splitting on a feature outside S
// both children are taken, weighted by the share of the node's reference
// rows (its cover, see SetCover) that each received.

// Contributions holds the TreeSHAP contributions of a batch of rows to
// the model's raw scores (log-odds of P(y=1) for Binary, the per-class
// margins before softmax for Softmax). For every row r and output c,
//
//	Bias[c] + sum over f of Values[(r*Outputs+c)*Features+f] = raw score of output c
//
// (local accuracy), up to float64 rounding.
type Contributions struct {
	Rows, Outputs, Features int
	// Bias is the expected raw score per output: the base score plus
	// every tree's mean leaf value over the reference rows of SetCover.
	Bias []float64
	// Values is row-major: row, then output, then feature.
	Values []float64
}

// Of returns the contributions of every feature to output c of row r,
// aliasing Values.
func (c *Contributions) Of(r, output int) []float64 {
	i := (r*c.Outputs + output) * c.Features
	return c.Values[i : i+c.Features : i+c.Features]
}

// shapNode is one node as TreeSHAP walks it. frac is the node's cover
// divided by its parent's (1 for a root); a leaf has left -1.
type shapNode struct {
	feature   int32
	threshold float32
	left      int32 // right child is left+1
	frac      float64
	value     float64
}

// shapForest is the model's trees in TreeSHAP's layout: every tree that
// can contribute (those that split), its output and its root.
type shapForest struct {
	nodes    []shapNode
	roots    []int32
	outputs  []int32
	bias     []float64
	maxDepth int
}

// newShapForest lays out m's trees for TreeSHAP and computes the bias.
func newShapForest(m *Model) (*shapForest, error) {
	if !m.HasCover() {
		return nil, ErrNoCover
	}
	f := &shapForest{bias: append([]float64(nil), m.baseScore...)}
	var reach []float64
	for i := range m.trees {
		t := &m.trees[i]
		out := i % m.numOutputs
		// The bias adds each leaf's value times the share of reference
		// rows reaching it (the product of frac along its path).
		if cap(reach) < t.numNodes() {
			reach = make([]float64, t.numNodes())
		}
		reach = reach[:t.numNodes()]
		reach[0] = 1
		for n := range t.left {
			if l := t.left[n]; l >= 0 {
				c := float64(t.cover[n])
				reach[l] = reach[n] * (float64(t.cover[l]) / c)
				reach[l+1] = reach[n] * (float64(t.cover[l+1]) / c)
			} else {
				f.bias[out] += reach[n] * t.value[n]
			}
		}
		if t.numNodes() == 1 {
			continue // a single leaf only shifts the bias
		}
		base := int32(len(f.nodes))
		f.roots = append(f.roots, base)
		f.outputs = append(f.outputs, int32(out))
		f.maxDepth = max(f.maxDepth, treeDepthOf(t))
		for n := range t.feature {
			sn := shapNode{feature: t.feature[n], threshold: t.threshold[n], left: -1, frac: 1, value: t.value[n]}
			if l := t.left[n]; l >= 0 {
				sn.left = base + l
			}
			f.nodes = append(f.nodes, sn)
		}
		for n := range t.left {
			if l := t.left[n]; l >= 0 {
				c := float64(t.cover[n])
				f.nodes[base+l].frac = float64(t.cover[l]) / c
				f.nodes[base+l+1].frac = float64(t.cover[l+1]) / c
			}
		}
	}
	return f, nil
}

// pathElem is one feature on the unique path from the root to the node
// being visited: the fraction of the paths (zero) and of the rows
// following x (one) that flow through its splits, and pweight, the
// weight of the subsets of the path's features of each size.
type pathElem struct {
	feature   int32
	zero, one float64
	pweight   float64
}

// Explainer computes TreeSHAP contributions one row at a time with a
// workspace allocated once. It is not safe for concurrent use; make one
// per goroutine (Contributions does).
type Explainer struct {
	f           *shapForest
	numFeatures int
	path        []pathElem
	inv         []float64 // inv[n] = 1/n, n <= depth+1
}

// NewExplainer returns an Explainer for m. It returns ErrNoCover when m
// has no node cover.
func (m *Model) NewExplainer() (*Explainer, error) {
	f, err := newShapForest(m)
	if err != nil {
		return nil, err
	}
	return newExplainer(f, m.numFeatures), nil
}

func newExplainer(f *shapForest, numFeatures int) *Explainer {
	// A node at depth d holds a path of at most d+1 elements, stored
	// after its ancestors' paths: (D+1)(D+2)/2 elements for depth D,
	// plus the leaf level.
	d := f.maxDepth + 1
	inv := make([]float64, d+2)
	for n := 1; n < len(inv); n++ {
		inv[n] = 1 / float64(n)
	}
	return &Explainer{f: f, numFeatures: numFeatures, path: make([]pathElem, (d+1)*(d+2)/2+1), inv: inv}
}

// Bias returns the expected raw score per output (see Contributions.Bias).
// The slice is shared: do not modify it.
func (e *Explainer) Bias() []float64 { return e.f.bias }

// Explain writes the contributions of row x (NumFeatures values) to phi:
// phi[c*NumFeatures+f] is feature f's contribution to output c, and
// Bias()[c] plus the sum of output c's contributions is the row's raw
// score of output c. It panics if x or phi have the wrong length.
func (e *Explainer) Explain(x []float32, phi []float64) {
	if len(x) != e.numFeatures || len(phi) != len(e.f.bias)*e.numFeatures {
		panic(fmt.Sprintf("gbdt: explain: row of %d values and %d contributions, want %d and %d",
			len(x), len(phi), e.numFeatures, len(e.f.bias)*e.numFeatures))
	}
	clear(phi)
	for i, root := range e.f.roots {
		out := int(e.f.outputs[i]) * e.numFeatures
		e.recurse(x, phi[out:out+e.numFeatures], root, e.path, 0, 1, 1, -1)
	}
}

// recurse is Algorithm 2's RECURSE: it visits node with the path of its
// parent (parent[:depth]) extended by the split that led here, and adds
// to phi every leaf's share.
func (e *Explainer) recurse(x []float32, phi []float64, node int32, parent []pathElem, depth int, zero, one float64, feature int32) {
	path := parent[depth+1:]
	copy(path[:depth], parent[:depth])
	extendPath(path, depth, zero, one, feature, e.inv)
	nd := &e.f.nodes[node]
	if nd.left < 0 {
		for i := 1; i <= depth; i++ {
			w := unwoundPathSum(path, depth, i, e.inv)
			el := &path[i]
			phi[el.feature] += w * (el.one - el.zero) * nd.value
		}
		return
	}
	hot, cold := nd.left, nd.left+1
	if !(x[nd.feature] <= nd.threshold) {
		hot, cold = cold, hot
	}
	inZero, inOne := 1.0, 1.0
	k := 1
	for ; k <= depth; k++ {
		if path[k].feature == nd.feature {
			break
		}
	}
	if k <= depth {
		// The feature was split on above: undo that split's element and
		// carry its fractions down.
		inZero, inOne = path[k].zero, path[k].one
		unwindPath(path, depth, k, e.inv)
		depth--
	}
	e.recurse(x, phi, hot, path, depth+1, e.f.nodes[hot].frac*inZero, inOne, nd.feature)
	e.recurse(x, phi, cold, path, depth+1, e.f.nodes[cold].frac*inZero, 0, nd.feature)
}

// extendPath is Algorithm 2's EXTEND: it appends element depth to path
// and updates the subset-size weights. inv[n] is 1/n.
func extendPath(path []pathElem, depth int, zero, one float64, feature int32, inv []float64) {
	w := 0.0
	if depth == 0 {
		w = 1
	}
	path[depth] = pathElem{feature: feature, zero: zero, one: one, pweight: w}
	oneD, zeroD := one*inv[depth+1], zero*inv[depth+1]
	for i := depth - 1; i >= 0; i-- {
		pw := path[i].pweight
		path[i+1].pweight += oneD * pw * float64(i+1)
		path[i].pweight = zeroD * pw * float64(depth-i)
	}
}

// unwindPath is Algorithm 2's UNWIND: it removes element k of path
// (depth+1 elements) and restores the weights as if it had never been
// added.
func unwindPath(path []pathElem, depth, k int, inv []float64) {
	one, zero := path[k].one, path[k].zero
	next := path[depth].pweight
	d1 := float64(depth + 1)
	if one != 0 {
		d1One, zeroD := d1/one, zero*inv[depth+1]
		for i := depth - 1; i >= 0; i-- {
			tmp := path[i].pweight
			path[i].pweight = next * d1One * inv[i+1]
			next = tmp - path[i].pweight*zeroD*float64(depth-i)
		}
	} else {
		d1Zero := d1 / zero
		for i := depth - 1; i >= 0; i-- {
			path[i].pweight *= d1Zero * inv[depth-i]
		}
	}
	for i := k; i < depth; i++ {
		path[i].feature, path[i].zero, path[i].one = path[i+1].feature, path[i+1].zero, path[i+1].one
	}
}

// unwoundPathSum is the total weight path would have without element k,
// computed without modifying path.
func unwoundPathSum(path []pathElem, depth, k int, inv []float64) float64 {
	one, zero := path[k].one, path[k].zero
	d1 := float64(depth + 1)
	total := 0.0
	if one != 0 {
		next := path[depth].pweight
		d1One, zeroD := d1/one, zero*inv[depth+1]
		for i := depth - 1; i >= 0; i-- {
			tmp := next * d1One * inv[i+1]
			total += tmp
			next = path[i].pweight - tmp*zeroD*float64(depth-i)
		}
		return total
	}
	// zero > 0: covers are positive.
	for i := depth - 1; i >= 0; i-- {
		total += path[i].pweight * inv[depth-i]
	}
	return total * d1 / zero
}

// shapBlockRows is the row block of parallel Contributions.
const shapBlockRows = 16

// Contributions computes the exact TreeSHAP contributions of every row of
// X into dst, reusing dst's slices when they are large enough (so a
// caller scoring batch after batch allocates once). Rows are spread over
// the model's workers (SetWorkers); the result does not depend on their
// number. It returns ErrNoCover for a model without node cover, an error
// when X does not have NumFeatures() columns, and ctx's error, wrapped,
// when ctx is cancelled (dst then holds partial results).
//
// The cost is O(T·L·D²) per row (T trees of L leaves, depth D): far more
// than PredictRaw's O(T·D); see BenchmarkContributions.
func (m *Model) Contributions(ctx context.Context, X models.Matrix, dst *Contributions) error {
	if err := X.Validate(); err != nil {
		return fmt.Errorf("gbdt: contributions: %w", err)
	}
	if X.Cols != m.numFeatures {
		return fmt.Errorf("gbdt: contributions: matrix has %d columns, the model expects %d", X.Cols, m.numFeatures)
	}
	f, err := newShapForest(m)
	if err != nil {
		return err
	}
	k, nf := m.numOutputs, m.numFeatures
	dst.Rows, dst.Outputs, dst.Features = X.Rows, k, nf
	dst.Bias = append(dst.Bias[:0], f.bias...)
	if n := X.Rows * k * nf; cap(dst.Values) >= n {
		dst.Values = dst.Values[:n]
	} else {
		dst.Values = make([]float64, n)
	}
	workers := m.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	blocks := (X.Rows + shapBlockRows - 1) / shapBlockRows
	workers = max(1, min(workers, blocks))
	pool := make(chan *Explainer, workers)
	for range workers {
		pool <- newExplainer(f, nf)
	}
	parallelFor(blocks, workers, func(b int) {
		if ctx.Err() != nil {
			return
		}
		e := <-pool
		defer func() { pool <- e }()
		for r := b * shapBlockRows; r < min((b+1)*shapBlockRows, X.Rows); r++ {
			e.Explain(X.Row(r), dst.Values[r*k*nf:(r+1)*k*nf])
		}
	})
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("gbdt: contributions: %w", err)
	}
	return nil
}

// Reason is one feature's signed contribution to a row's raw score.
type Reason struct {
	Feature      int
	Contribution float64
}

// TopReasons returns, in dst[:0] (reallocated only when its capacity is
// below k), the at most k features of phi with the largest absolute
// contributions, largest first; ties go to the lower feature index.
// Features contributing exactly 0 are left out, so fewer than k may come
// back.
func TopReasons(phi []float64, k int, dst []Reason) []Reason {
	top := dst[:0]
	if k <= 0 {
		return top
	}
	if cap(top) < k {
		top = make([]Reason, 0, k)
	}
	for f, v := range phi {
		a := abs(v)
		if a == 0 || len(top) == k && a <= abs(top[k-1].Contribution) {
			continue
		}
		// Insertion into the sorted top: k is small.
		i := len(top)
		if i < k {
			top = top[:i+1]
		} else {
			i = k - 1
		}
		for i > 0 && abs(top[i-1].Contribution) < a {
			top[i] = top[i-1]
			i--
		}
		top[i] = Reason{Feature: f, Contribution: v}
	}
	return top
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
