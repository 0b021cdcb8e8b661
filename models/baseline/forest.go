package baseline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"

	"github.com/failcast/failcast/models"
)

// Forest defaults.
const (
	DefaultForestTrees      = 50
	DefaultForestMaxDepth   = 10
	DefaultForestMinLeaf    = 10
	DefaultForestSampleRows = 20_000
	DefaultForestMaxRows    = 200_000
)

// Forest is a random forest of golearn decision trees, assembled so that
// it is correct and reproducible (see the package documentation):
//
//   - each tree's bootstrap is drawn with math/rand/v2 from Seed and the
//     tree's index, and every node's training rows are real copies of
//     (features, label) taken from the same source row;
//   - at each node, Features columns are drawn at random and golearn's
//     trees.InformationGainRuleGenerator picks the best split among them
//     (information gain, numeric threshold), giving a golearn
//     trees.DecisionTreeNode; a column may be split on again further down,
//     so depth is limited by MaxDepth alone, not by the number of columns;
//   - a leaf's probability is the positive share of its ClassDist, and the
//     forest averages its trees.
//
// Set the hyperparameters before Fit; zero values take the defaults. The
// fitted trees are kept in a compact form that encodes to JSON.
type Forest struct {
	Trees      int    `json:"trees"`       // number of trees
	MaxDepth   int    `json:"max_depth"`   // splits from the root to the deepest leaf
	MinLeaf    int    `json:"min_leaf"`    // rows a leaf must keep; nodes with fewer than 2*MinLeaf rows are leaves
	Features   int    `json:"features"`    // columns tried per split; 0 takes round(sqrt(columns))
	SampleRows int    `json:"sample_rows"` // bootstrap rows per tree (drawn with replacement)
	MaxRows    int    `json:"max_rows"`    // the training rows are first subsampled to at most this many
	Seed       uint64 `json:"seed"`
	Workers    int    `json:"-"` // trees grown in parallel; 0 takes GOMAXPROCS. Does not change the result.

	Cols   int            `json:"cols"`   // columns of the training matrix
	Forest [][]ForestNode `json:"forest"` // one node list per tree, root first
}

// ForestNode is one node of a fitted tree. Rows with x[Feature] >
// Threshold go Right, others Left.
type ForestNode struct {
	Feature   int32   `json:"f"` // -1 for a leaf
	Threshold float64 `json:"t,omitempty"`
	Left      int32   `json:"l,omitempty"`
	Right     int32   `json:"r,omitempty"`
	P         float64 `json:"p"` // share of positive training rows at the node: the leaf's prediction
}

// Fit grows the forest on X with labels y (true = positive).
func (f *Forest) Fit(X models.Matrix, y []bool) error {
	return f.FitContext(context.Background(), X, y)
}

// FitContext is Fit, stopping early with ctx's error.
func (f *Forest) FitContext(ctx context.Context, X models.Matrix, y []bool) error {
	if err := checkTraining(X, y); err != nil {
		return err
	}
	if err := f.defaults(X.Cols); err != nil {
		return err
	}
	start := time.Now()
	pool := subsample(X.Rows, f.MaxRows, newRand(f.Seed, 0))
	if pool == nil {
		pool = make([]int, X.Rows)
		for i := range pool {
			pool[i] = i
		}
	}
	forest := make([][]ForestNode, f.Trees)
	errs := make([]error, f.Trees)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(f.Workers, f.Trees) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range next {
				forest[t], errs[t] = f.growTree(ctx, X, y, pool, t)
			}
		}()
	}
	for t := range f.Trees {
		if ctx.Err() != nil {
			break
		}
		next <- t
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("baseline: forest fit stopped: %w", err)
	}
	for t, err := range errs {
		if err != nil {
			return fmt.Errorf("baseline: forest tree %d: %w", t, err)
		}
	}
	f.Cols, f.Forest = X.Cols, forest
	slog.Debug("forest fitted", "trees", f.Trees, "rows", len(pool), "cols", X.Cols, "elapsed", time.Since(start))
	return nil
}

func (f *Forest) defaults(cols int) error {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&f.Trees, DefaultForestTrees)
	def(&f.MaxDepth, DefaultForestMaxDepth)
	def(&f.MinLeaf, DefaultForestMinLeaf)
	def(&f.Features, max(1, int(math.Round(math.Sqrt(float64(cols))))))
	def(&f.SampleRows, DefaultForestSampleRows)
	def(&f.MaxRows, DefaultForestMaxRows)
	def(&f.Workers, runtime.GOMAXPROCS(0))
	if f.Trees < 0 || f.MaxDepth < 0 || f.MinLeaf < 1 || f.Features < 1 || f.SampleRows < 1 || f.MaxRows < 1 || f.Workers < 1 {
		return fmt.Errorf("baseline: forest settings %+v: want positive values", *f)
	}
	f.Features = min(f.Features, cols)
	return nil
}

// grower grows one tree.
type grower struct {
	ctx       context.Context
	X         models.Matrix
	y         []bool
	rng       *rand.Rand
	maxDepth  int
	minLeaf   int
	features  int
	perm      []int            // column order for drawing features
	attrs     []base.Attribute // one golearn float attribute per column
	attrIndex map[base.Attribute]int
	classAttr *base.CategoricalAttribute
	classVal  [2][]byte // golearn's encoding of "0" and "1"
	gen       trees.InformationGainRuleGenerator
}

// growTree grows tree t on a bootstrap of the pool rows.
func (f *Forest) growTree(ctx context.Context, X models.Matrix, y []bool, pool []int, t int) ([]ForestNode, error) {
	rng := newRand(f.Seed, uint64(t)+1)
	boot := make([]int, f.SampleRows)
	for k := range boot {
		boot[k] = pool[rng.IntN(len(pool))]
	}
	g := &grower{
		ctx: ctx, X: X, y: y, rng: rng,
		maxDepth: f.MaxDepth, minLeaf: f.MinLeaf, features: f.Features,
		perm: make([]int, X.Cols), attrs: make([]base.Attribute, X.Cols),
		attrIndex: make(map[base.Attribute]int, X.Cols),
		classAttr: base.NewCategoricalAttribute(),
	}
	for j := range X.Cols {
		g.perm[j] = j
		g.attrs[j] = base.NewFloatAttribute("x" + strconv.Itoa(j))
		g.attrIndex[g.attrs[j]] = j
	}
	g.classAttr.SetName("label")
	g.classVal[0] = g.classAttr.GetSysValFromString("0")
	g.classVal[1] = g.classAttr.GetSysValFromString("1")
	root, err := g.grow(boot, 0)
	if err != nil {
		return nil, err
	}
	var nodes []ForestNode
	g.compile(root, &nodes)
	return nodes, nil
}

// grow returns the golearn tree for the rows (source row indices; a row
// appears as often as the bootstrap drew it).
func (g *grower) grow(rows []int, depth int) (*trees.DecisionTreeNode, error) {
	if err := g.ctx.Err(); err != nil {
		return nil, err
	}
	pos := 0
	for _, i := range rows {
		if g.y[i] {
			pos++
		}
	}
	node := &trees.DecisionTreeNode{
		Type:      trees.LeafNode,
		ClassDist: map[string]int{},
		Class:     "0",
		ClassAttr: g.classAttr,
		SplitRule: &trees.DecisionTreeRule{},
	}
	if neg := len(rows) - pos; neg > 0 {
		node.ClassDist["0"] = neg
	}
	if pos > 0 {
		node.ClassDist["1"] = pos
	}
	if 2*pos > len(rows) {
		node.Class = "1"
	}
	if depth >= g.maxDepth || len(rows) < 2*g.minLeaf || pos == 0 || pos == len(rows) {
		return node, nil
	}

	// Draw the candidate columns, copy the node's rows into a golearn
	// instance set and let golearn pick the best split among them.
	for k := range g.features {
		r := k + g.rng.IntN(len(g.perm)-k)
		g.perm[k], g.perm[r] = g.perm[r], g.perm[k]
	}
	chosen := make([]base.Attribute, g.features)
	for k := range chosen {
		chosen[k] = g.attrs[g.perm[k]]
	}
	inst := g.instances(rows, g.perm[:g.features])
	rule := g.gen.GetSplitRuleFromSelection(chosen, inst)
	if rule == nil || rule.SplitAttr == nil || math.IsInf(rule.SplitVal, 0) {
		return node, nil // every candidate column is constant here
	}
	j, ok := g.attrIndex[rule.SplitAttr]
	if !ok {
		return nil, fmt.Errorf("golearn split on unknown attribute %s", rule.SplitAttr.GetName())
	}
	var left, right []int
	leftPos := 0
	for _, i := range rows {
		if float64(g.X.At(i, j)) > rule.SplitVal {
			right = append(right, i)
		} else {
			left = append(left, i)
			if g.y[i] {
				leftPos++
			}
		}
	}
	if len(left) < g.minLeaf || len(right) < g.minLeaf ||
		informationGain(len(rows), pos, len(left), leftPos) <= 1e-12 {
		return node, nil
	}
	l, err := g.grow(left, depth+1)
	if err != nil {
		return nil, err
	}
	r, err := g.grow(right, depth+1)
	if err != nil {
		return nil, err
	}
	node.Type = trees.RuleNode
	node.SplitRule = rule
	node.Children = map[string]*trees.DecisionTreeNode{"0": l, "1": r}
	return node, nil
}

// instances copies the given rows' values of the given columns, with their
// labels, into a golearn DenseInstances (rows in order, so golearn's scans
// are deterministic).
func (g *grower) instances(rows, cols []int) *base.DenseInstances {
	inst := base.NewDenseInstances()
	specs := make([]base.AttributeSpec, len(cols))
	for k, j := range cols {
		specs[k] = inst.AddAttribute(g.attrs[j])
	}
	cs := inst.AddAttribute(g.classAttr)
	if err := inst.AddClassAttribute(g.classAttr); err != nil {
		panic(err) // the attribute was just added
	}
	if err := inst.Extend(len(rows)); err != nil {
		panic(err)
	}
	buf := make([]byte, 8)
	for r, i := range rows {
		for k, j := range cols {
			base.PackFloatToBytesInline(float64(g.X.At(i, j)), buf)
			inst.Set(specs[k], r, buf)
		}
		if g.y[i] {
			inst.Set(cs, r, g.classVal[1])
		} else {
			inst.Set(cs, r, g.classVal[0])
		}
	}
	return inst
}

// informationGain is the entropy drop (bits) of splitting n rows with pos
// positives into a left part of nl rows with pl positives and the rest.
func informationGain(n, pos, nl, pl int) float64 {
	h := func(k, m int) float64 {
		if m == 0 || k == 0 || k == m {
			return 0
		}
		p := float64(k) / float64(m)
		return -p*math.Log2(p) - (1-p)*math.Log2(1-p)
	}
	nr, pr := n-nl, pos-pl
	return h(pos, n) - float64(nl)/float64(n)*h(pl, nl) - float64(nr)/float64(n)*h(pr, nr)
}

// compile appends the golearn tree to nodes in depth-first order and
// returns the root's index.
func (g *grower) compile(n *trees.DecisionTreeNode, nodes *[]ForestNode) int32 {
	total := n.ClassDist["0"] + n.ClassDist["1"]
	idx := int32(len(*nodes))
	*nodes = append(*nodes, ForestNode{Feature: -1, P: float64(n.ClassDist["1"]) / float64(total)})
	if n.Children == nil {
		return idx
	}
	l := g.compile(n.Children["0"], nodes)
	r := g.compile(n.Children["1"], nodes)
	(*nodes)[idx].Feature = int32(g.attrIndex[n.SplitRule.SplitAttr])
	(*nodes)[idx].Threshold = n.SplitRule.SplitVal
	(*nodes)[idx].Left, (*nodes)[idx].Right = l, r
	return idx
}

// PredictProba returns the mean over trees of each row's leaf
// probability. It panics if X has another number of columns than the
// training matrix.
func (f *Forest) PredictProba(X models.Matrix) []float64 {
	if X.Cols != f.Cols {
		panic(fmt.Sprintf("baseline: Forest fitted on %d features, got %d", f.Cols, X.Cols))
	}
	out := make([]float64, X.Rows)
	for i := range out {
		row := X.Row(i)
		var sum float64
		for _, tree := range f.Forest {
			k := int32(0)
			for tree[k].Feature >= 0 {
				if float64(row[tree[k].Feature]) > tree[k].Threshold {
					k = tree[k].Right
				} else {
					k = tree[k].Left
				}
			}
			sum += tree[k].P
		}
		out[i] = sum / float64(len(f.Forest))
	}
	return out
}

// WriteTo writes the forest as JSON.
func (f *Forest) WriteTo(w io.Writer) (int64, error) {
	return writeJSON(w, f)
}

// ReadForest reads a forest written by WriteTo and checks its trees are
// well formed.
func ReadForest(r io.Reader) (*Forest, error) {
	var f Forest
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("baseline: read forest: %w", err)
	}
	if len(f.Forest) == 0 || f.Cols <= 0 {
		return nil, fmt.Errorf("baseline: read forest: %d trees over %d columns", len(f.Forest), f.Cols)
	}
	for t, tree := range f.Forest {
		for k, n := range tree {
			switch {
			case n.Feature >= int32(f.Cols):
				return nil, fmt.Errorf("baseline: read forest: tree %d node %d splits on column %d of %d", t, k, n.Feature, f.Cols)
			case n.Feature >= 0 && (n.Left <= int32(k) || n.Right <= int32(k) || n.Left >= int32(len(tree)) || n.Right >= int32(len(tree))):
				// Children come after their parent: no cycles, no escapes.
				return nil, fmt.Errorf("baseline: read forest: tree %d node %d has children %d, %d", t, k, n.Left, n.Right)
			case !(n.P >= 0 && n.P <= 1):
				return nil, fmt.Errorf("baseline: read forest: tree %d node %d has probability %g", t, k, n.P)
			}
		}
		if len(tree) == 0 {
			return nil, fmt.Errorf("baseline: read forest: tree %d is empty", t)
		}
	}
	return &f, nil
}
