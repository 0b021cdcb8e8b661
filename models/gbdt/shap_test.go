package gbdt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/models"
)

// randomTree grows a random tree of at most maxDepth over numFeatures
// features (few features, so paths split on one feature again) with
// random thresholds and leaf values. Leaves get random row counts and
// internal nodes the sum of their children's, as SetCover would.
func randomTree(rng *rand.Rand, numFeatures, maxDepth int) tree {
	var t tree
	t.addLeaf()
	var grow func(n int32, depth int)
	grow = func(n int32, depth int) {
		if depth >= maxDepth || (depth > 0 && rng.IntN(4) == 0) {
			t.value[n] = rng.NormFloat64()
			return
		}
		l := t.addLeaf()
		t.addLeaf()
		t.feature[n] = int32(rng.IntN(numFeatures))
		t.threshold[n] = float32(rng.Float64()*2 - 1)
		t.left[n], t.right[n] = l, l+1
		t.gain[n] = rng.Float64()
		grow(l, depth+1)
		grow(l+1, depth+1)
	}
	grow(0, 0)
	t.cover = make([]uint64, t.numNodes())
	for n := t.numNodes() - 1; n >= 0; n-- {
		if l := t.left[n]; l >= 0 {
			t.cover[n] = t.cover[l] + t.cover[l+1]
		} else {
			t.cover[n] = 1 + uint64(rng.IntN(50))
		}
	}
	return t
}

// randomModel builds a model of random trees. Its roots count different
// numbers of rows, which TreeSHAP does not need (files require one count).
func randomModel(seed uint64, obj Objective, numFeatures, rounds, maxDepth int) *Model {
	rng := rand.New(rand.NewPCG(seed, 7))
	p := DefaultParams()
	p.Objective, p.NumRounds, p.MaxDepth = obj, rounds, maxDepth
	k := 1
	if obj == Softmax {
		p.NumClass, k = 3, 3
	}
	m := &Model{params: p, numFeatures: numFeatures, numOutputs: k, bestIteration: rounds - 1, workers: 2}
	for range k {
		m.baseScore = append(m.baseScore, rng.NormFloat64())
	}
	for range rounds * k {
		m.trees = append(m.trees, randomTree(rng, numFeatures, maxDepth))
	}
	m.forest = packForest(m.trees)
	return m
}

// fittedModel fits a model on uniform data whose label depends on the
// first three columns and sets its cover from the training rows.
func fittedModel(t *testing.T, obj Objective, cols, rounds, depth int, seed uint64) (*Model, models.Matrix) {
	t.Helper()
	X := uniformMatrix(2000, cols, seed)
	p := DefaultParams()
	p.Objective, p.NumRounds, p.MaxDepth, p.Seed = obj, rounds, depth, seed
	p.Subsample, p.ColSampleByTree = 0.8, 0.9
	y := labelBy(X, func(x []float32) bool { return x[0]+x[1]*x[2] > 0.2 })
	if obj == Softmax {
		p.NumClass = 3
		for i := range y {
			y[i] = float32(int(2.999 * (X.At(i, 0) + 1) / 2))
		}
	}
	m := fit(t, p, Dataset{X: X, Y: y}, nil)
	if err := m.SetCover(context.Background(), X); err != nil {
		t.Fatal(err)
	}
	return m, X
}

// withNaNs returns a copy of X with about a tenth of its cells NaN.
func withNaNs(X models.Matrix, seed uint64) models.Matrix {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := models.Matrix{Rows: X.Rows, Cols: X.Cols, Data: slices.Clone(X.Data)}
	for i := range out.Data {
		if rng.IntN(10) == 0 {
			out.Data[i] = float32(math.NaN())
		}
	}
	return out
}

func contributions(t *testing.T, m *Model, X models.Matrix) *Contributions {
	t.Helper()
	var c Contributions
	if err := m.Contributions(context.Background(), X, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// checkLocalAccuracy asserts bias + sum of contributions == raw score for
// every row and output, to 1e-9 relative.
func checkLocalAccuracy(t *testing.T, m *Model, X models.Matrix, c *Contributions) {
	t.Helper()
	raw := m.PredictRaw(X)
	k := m.numOutputs
	for r := 0; r < X.Rows; r++ {
		for o := 0; o < k; o++ {
			sum := c.Bias[o]
			for _, v := range c.Of(r, o) {
				sum += v
			}
			want := raw[r*k+o]
			if math.Abs(sum-want) > 1e-9*max(1, math.Abs(want)) {
				t.Fatalf("row %d output %d: bias + contributions = %.17g, raw score %.17g", r, o, sum, want)
			}
		}
	}
}

func TestContributionsLocalAccuracy(t *testing.T) {
	tests := []struct {
		name string
		obj  Objective
		cols int
		rnds int
		dpth int
	}{
		{"binary depth 1", Binary, 5, 30, 1},
		{"binary depth 3", Binary, 12, 40, 3},
		{"binary depth 6", Binary, 20, 30, 6},
		{"softmax depth 4", Softmax, 6, 10, 4},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, X := fittedModel(t, tc.obj, tc.cols, tc.rnds, tc.dpth, uint64(i+1))
			for _, Q := range []models.Matrix{X.Slice(0, 200), withNaNs(X.Slice(200, 400), 1)} {
				checkLocalAccuracy(t, m, Q, contributions(t, m, Q))
			}
		})
	}
	for seed := uint64(1); seed <= 6; seed++ {
		for _, obj := range []Objective{Binary, Softmax} {
			t.Run(fmt.Sprintf("random %v seed %d", obj, seed), func(t *testing.T) {
				m := randomModel(seed, obj, 4+int(seed), 20, 2+int(seed))
				Q := withNaNs(uniformMatrix(100, m.numFeatures, seed), seed)
				checkLocalAccuracy(t, m, Q, contributions(t, m, Q))
			})
		}
	}
}

// condExpectation is E[tree(x) | x_S] by the cover-weighted traversal:
// a node splitting on a feature in S follows x, any other averages its
// children by their share of its cover.
func condExpectation(t *tree, n int32, x []float32, inS uint) float64 {
	l := t.left[n]
	if l < 0 {
		return t.value[n]
	}
	if inS&(1<<t.feature[n]) != 0 {
		if x[t.feature[n]] <= t.threshold[n] {
			return condExpectation(t, l, x, inS)
		}
		return condExpectation(t, l+1, x, inS)
	}
	c := float64(t.cover[n])
	return float64(t.cover[l])/c*condExpectation(t, l, x, inS) +
		float64(t.cover[l+1])/c*condExpectation(t, l+1, x, inS)
}

// bruteForceShapley returns the Shapley values of v(S) = base +
// sum over trees of E[tree(x) | x_S] for output out, enumerating every
// subset, and v(empty set).
func bruteForceShapley(m *Model, x []float32, out int) (phi []float64, bias float64) {
	nf := m.numFeatures
	v := make([]float64, 1<<nf)
	for s := range v {
		v[s] = m.baseScore[out]
		for i := out; i < len(m.trees); i += m.numOutputs {
			v[s] += condExpectation(&m.trees[i], 0, x, uint(s))
		}
	}
	fact := func(n int) float64 { return math.Gamma(float64(n + 1)) }
	phi = make([]float64, nf)
	for f := 0; f < nf; f++ {
		for s := range v {
			if s&(1<<f) != 0 {
				continue
			}
			size := 0
			for b := s; b != 0; b &= b - 1 {
				size++
			}
			phi[f] += fact(size) * fact(nf-size-1) / fact(nf) * (v[s|1<<f] - v[s])
		}
	}
	return phi, v[0]
}

func TestContributionsMatchBruteForce(t *testing.T) {
	type model struct {
		name string
		m    *Model
		X    models.Matrix
	}
	var cases []model
	for seed := uint64(1); seed <= 5; seed++ {
		nf := 2 + int(seed)
		m := randomModel(seed+100, Binary, nf, 6, 2+int(seed))
		cases = append(cases, model{fmt.Sprintf("random binary %d features depth %d", nf, 2+seed), m, withNaNs(uniformMatrix(6, nf, seed), seed)})
	}
	ms := randomModel(200, Softmax, 5, 4, 4)
	cases = append(cases, model{"random softmax", ms, withNaNs(uniformMatrix(6, 5, 9), 9)})
	mf, Xf := fittedModel(t, Binary, 8, 15, 5, 11)
	cases = append(cases, model{"fitted binary 8 features", mf, withNaNs(Xf.Slice(0, 6), 2)})
	mfs, Xfs := fittedModel(t, Softmax, 6, 5, 3, 12)
	cases = append(cases, model{"fitted softmax 6 features", mfs, Xfs.Slice(0, 6)})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := contributions(t, tc.m, tc.X)
			for r := 0; r < tc.X.Rows; r++ {
				for o := 0; o < tc.m.numOutputs; o++ {
					want, bias := bruteForceShapley(tc.m, tc.X.Row(r), o)
					if math.Abs(c.Bias[o]-bias) > 1e-12*max(1, math.Abs(bias)) {
						t.Fatalf("output %d: bias %.17g, brute force v(empty set) %.17g", o, c.Bias[o], bias)
					}
					for f, got := range c.Of(r, o) {
						if math.Abs(got-want[f]) > 1e-10*max(1, math.Abs(want[f])) {
							t.Fatalf("row %d output %d feature %d: TreeSHAP %.17g, brute force %.17g\nall: %v\nwant %v",
								r, o, f, got, want[f], c.Of(r, o), want)
						}
					}
				}
			}
		})
	}
}

// andTree is x0 > 0 AND x1 > 0 (leaf value 1) with 25 rows per leaf:
// independent, symmetric features.
func andModel() *Model {
	t := tree{
		feature:   []int32{0, 1, 1, -1, -1, -1, -1},
		threshold: []float32{0, 0, 0, 0, 0, 0, 0},
		left:      []int32{1, 3, 5, -1, -1, -1, -1},
		right:     []int32{2, 4, 6, -1, -1, -1, -1},
		value:     []float64{0, 0, 0, 0, 0, 0, 1},
		gain:      []float64{1, 1, 1, 0, 0, 0, 0},
		cover:     []uint64{100, 50, 50, 25, 25, 25, 25},
	}
	p := DefaultParams()
	p.NumRounds = 1
	return &Model{params: p, numFeatures: 3, numOutputs: 1, baseScore: []float64{-1}, trees: []tree{t}, forest: packForest([]tree{t}), workers: 1}
}

// TestContributionsAndGate checks Shapley values worked out by hand:
// v(∅)=0.25, v({0})=v({1})=0.5, v({0,1})=1 gives 0.375 each for a row
// with both features positive; feature 2, never split on, gets exactly 0
// (dummy), and so does a feature whose split x loses either way.
func TestContributionsAndGate(t *testing.T) {
	m := andModel()
	tests := []struct {
		x    []float32
		want []float64
	}{
		{[]float32{1, 1, 5}, []float64{0.375, 0.375, 0}},
		{[]float32{-1, -1, 5}, []float64{-0.125, -0.125, 0}},
		{[]float32{1, -1, float32(math.NaN())}, []float64{0.125, -0.375, 0}},
		{[]float32{float32(math.NaN()), float32(math.NaN()), 0}, []float64{0.375, 0.375, 0}},
	}
	for _, tc := range tests {
		c := contributions(t, m, models.Matrix{Rows: 1, Cols: 3, Data: tc.x})
		if c.Bias[0] != -0.75 {
			t.Errorf("bias %v, want -1 + 0.25", c.Bias[0])
		}
		for f, want := range tc.want {
			if got := c.Values[f]; math.Abs(got-want) > 1e-15 {
				t.Errorf("x=%v feature %d: %v, want %v", tc.x, f, got, want)
			}
		}
	}
}

// TestContributionsDummyFeature checks that features no tree splits on
// get exactly 0 on a fitted model.
func TestContributionsDummyFeature(t *testing.T) {
	X := uniformMatrix(2000, 10, 21)
	for r := 0; r < X.Rows; r++ { // column 9 is constant: never split on
		X.Data[r*X.Cols+9] = 0.5
	}
	m, _ := fittedModelOn(t, X, 30, 4)
	for i := range m.trees {
		if slices.Contains(m.trees[i].feature, 9) {
			t.Fatal("the constant column was split on")
		}
	}
	c := contributions(t, m, withNaNs(X.Slice(0, 100), 4))
	for r := 0; r < 100; r++ {
		if v := c.Of(r, 0)[9]; v != 0 {
			t.Fatalf("row %d: unused feature contributes %v", r, v)
		}
	}
}

func fittedModelOn(t *testing.T, X models.Matrix, rounds, depth int) (*Model, models.Matrix) {
	t.Helper()
	p := DefaultParams()
	p.NumRounds, p.MaxDepth = rounds, depth
	y := labelBy(X, func(x []float32) bool { return x[0]+x[1]*x[2] > 0.2 })
	m := fit(t, p, Dataset{X: X, Y: y}, nil)
	if err := m.SetCover(context.Background(), X); err != nil {
		t.Fatal(err)
	}
	return m, X
}

// TestBiasIsMeanRawScore: with row-count cover, the bias is the mean raw
// score over the reference rows.
func TestBiasIsMeanRawScore(t *testing.T) {
	for _, obj := range []Objective{Binary, Softmax} {
		m, X := fittedModel(t, obj, 6, 20, 4, 31)
		e, err := m.NewExplainer()
		if err != nil {
			t.Fatal(err)
		}
		raw := m.PredictRaw(X)
		k := m.numOutputs
		for o := 0; o < k; o++ {
			mean := 0.0
			for r := 0; r < X.Rows; r++ {
				mean += raw[r*k+o]
			}
			mean /= float64(X.Rows)
			if got := e.Bias()[o]; math.Abs(got-mean) > 1e-9 {
				t.Errorf("%v output %d: bias %v, mean raw score %v", obj, o, got, mean)
			}
		}
	}
}

func TestContributionsWorkersAndReuse(t *testing.T) {
	m, X := fittedModel(t, Binary, 10, 20, 5, 41)
	Q := withNaNs(X.Slice(0, 300), 5)
	m.SetWorkers(1)
	one := contributions(t, m, Q)
	m.SetWorkers(3)
	var c Contributions
	c.Values = make([]float64, 10*Q.Rows*Q.Cols) // larger: reused
	for i := range c.Values {
		c.Values[i] = 99
	}
	backing := &c.Values[0]
	if err := m.Contributions(context.Background(), Q, &c); err != nil {
		t.Fatal(err)
	}
	if &c.Values[0] != backing || len(c.Values) != Q.Rows*Q.Cols {
		t.Error("a large enough dst was not reused")
	}
	if !slices.Equal(one.Values, c.Values) || !slices.Equal(one.Bias, c.Bias) {
		t.Error("contributions depend on the worker count")
	}
	e, _ := m.NewExplainer()
	phi := make([]float64, Q.Cols)
	for r := 0; r < Q.Rows; r += 37 {
		e.Explain(Q.Row(r), phi)
		if !slices.Equal(phi, c.Of(r, 0)) {
			t.Fatalf("row %d: Explainer differs from Contributions", r)
		}
	}
}

func TestContributionsErrors(t *testing.T) {
	X := uniformMatrix(500, 4, 51)
	p := DefaultParams()
	p.NumRounds, p.MaxDepth = 5, 3
	m := fit(t, p, Dataset{X: X, Y: labelBy(X, func(x []float32) bool { return x[0] > 0 })}, nil)
	var c Contributions
	if err := m.Contributions(context.Background(), X, &c); !errors.Is(err, ErrNoCover) {
		t.Errorf("no cover: error %v, want ErrNoCover", err)
	}
	if _, err := m.NewExplainer(); !errors.Is(err, ErrNoCover) {
		t.Errorf("NewExplainer without cover: error %v, want ErrNoCover", err)
	}
	if err := m.SetCover(context.Background(), X); err != nil {
		t.Fatal(err)
	}
	if err := m.Contributions(context.Background(), uniformMatrix(3, 5, 1), &c); err == nil || !strings.Contains(err.Error(), "5 columns") {
		t.Errorf("wrong width: error %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Contributions(ctx, X, &c); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error %v, want context.Canceled", err)
	}
}

func TestSetCoverErrors(t *testing.T) {
	X := uniformMatrix(500, 4, 61)
	p := DefaultParams()
	p.NumRounds, p.MaxDepth = 5, 3
	m := fit(t, p, Dataset{X: X, Y: labelBy(X, func(x []float32) bool { return x[0] > 0 })}, nil)
	tests := []struct {
		name string
		X    models.Matrix
		want string
	}{
		{"wrong width", uniformMatrix(10, 3, 1), "3 columns"},
		{"no rows", models.NewMatrix(0, 4), "no rows"},
		{"not the training rows", X.Slice(0, 1), "no row of the 1-row reference matrix reaches tree 0 node"},
		{"bad shape", models.Matrix{Rows: 2, Cols: 4, Data: make([]float32, 7)}, "does not match"},
	}
	for _, tc := range tests {
		err := m.SetCover(context.Background(), tc.X)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
		if m.HasCover() {
			t.Errorf("%s: a failed SetCover left a cover", tc.name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.SetCover(ctx, X); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error %v", err)
	}
}

func TestTopReasons(t *testing.T) {
	phi := []float64{0.1, -0.5, 0, 0.3, 0.5, -0.05}
	tests := []struct {
		k    int
		want []Reason
	}{
		{0, nil},
		{1, []Reason{{1, -0.5}}},
		{3, []Reason{{1, -0.5}, {4, 0.5}, {3, 0.3}}},
		{6, []Reason{{1, -0.5}, {4, 0.5}, {3, 0.3}, {0, 0.1}, {5, -0.05}}},
	}
	buf := make([]Reason, 0, 8)
	for _, tc := range tests {
		got := TopReasons(phi, tc.k, buf)
		if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("k=%d: %v, want %v", tc.k, got, tc.want)
		}
		if tc.k > 0 && &got[:1][0] != &buf[:1][0] {
			t.Errorf("k=%d: dst not reused", tc.k)
		}
	}
	if got := TopReasons([]float64{0, 0}, 3, nil); len(got) != 0 {
		t.Errorf("all zero: %v, want none", got)
	}
	if n := testing.AllocsPerRun(100, func() { TopReasons(phi, 3, buf) }); n != 0 {
		t.Errorf("TopReasons allocates %v times with a large enough dst", n)
	}
}

func TestExplainDoesNotAllocate(t *testing.T) {
	m, X := fittedModel(t, Binary, 8, 10, 6, 71)
	e, err := m.NewExplainer()
	if err != nil {
		t.Fatal(err)
	}
	phi := make([]float64, X.Cols)
	if n := testing.AllocsPerRun(20, func() { e.Explain(X.Row(3), phi) }); n != 0 {
		t.Errorf("Explain allocates %v times per row", n)
	}
}
