package gbdt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/gbdt/synth"
)

func fit(t *testing.T, p Params, train Dataset, valid *Dataset) *Model {
	t.Helper()
	m, err := Fit(context.Background(), p, train, valid)
	if err != nil {
		t.Fatalf("Fit: %v", err)
	}
	return m
}

func modelBytes(t *testing.T, m *Model) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := m.WriteTo(&buf)
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo reported %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

func TestLearnsKnownFunctions(t *testing.T) {
	tests := []struct {
		name   string
		rule   func(x []float32) bool
		minAUC float64
	}{
		{"threshold", func(x []float32) bool { return x[2] > 0.3 }, 0.995},
		{"xor", func(x []float32) bool { return (x[0] > 0) != (x[1] > 0) }, 0.98},
		{"and of thresholds", func(x []float32) bool { return x[3] > -0.5 && x[4] < 0.2 }, 0.98},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			X := uniformMatrix(6000, 6, 1)
			y := labelBy(X, tc.rule)
			p := DefaultParams()
			p.NumRounds, p.MaxDepth, p.LearningRate = 60, 4, 0.3
			m := fit(t, p, Dataset{X: X.Slice(0, 5000), Y: y[:5000]}, nil)
			test := X.Slice(5000, 6000)
			if auc := rocAUC(t, m.PredictProba(test), y[5000:]); auc < tc.minAUC {
				t.Errorf("held-out AUC %.4f, want >= %.3f", auc, tc.minAUC)
			}
		})
	}
}

func TestSoftmaxRecoversSeparableClasses(t *testing.T) {
	// Three classes by bands of feature 1; feature 0 is noise.
	X := uniformMatrix(3000, 2, 2)
	y := make([]float32, X.Rows)
	for i := range y {
		switch v := X.At(i, 1); {
		case v < -0.3:
			y[i] = 0
		case v < 0.4:
			y[i] = 1
		default:
			y[i] = 2
		}
	}
	p := DefaultParams()
	p.Objective, p.NumClass, p.NumRounds, p.MaxDepth, p.LearningRate = Softmax, 3, 30, 3, 0.3
	m := fit(t, p, Dataset{X: X.Slice(0, 2500), Y: y[:2500]}, nil)
	probs := m.PredictProbaMulti(X.Slice(2500, 3000))
	correct := 0
	for i, pr := range probs {
		if len(pr) != 3 {
			t.Fatalf("row %d has %d probabilities, want 3", i, len(pr))
		}
		sum := pr[0] + pr[1] + pr[2]
		if math.Abs(sum-1) > 1e-9 {
			t.Fatalf("row %d probabilities sum to %v", i, sum)
		}
		if float32(slices.Index(pr, slices.Max(pr))) == y[2500+i] {
			correct++
		}
	}
	if acc := float64(correct) / 500; acc < 0.98 {
		t.Errorf("accuracy %.3f, want >= 0.98", acc)
	}
	if imp := m.FeatureImportance(); imp[1] < 0.95 {
		t.Errorf("importance of the banded feature %.3f, want >= 0.95 (all: %v)", imp[1], imp)
	}
}

// TestPredictSkipsEmptyClassTrees trains a softmax model with a class no
// row has: its trees are single leaves of value 0, prediction skips them,
// and the scores still equal every tree walked one by one.
func TestPredictSkipsEmptyClassTrees(t *testing.T) {
	X := uniformMatrix(2000, 3, 5)
	y := make([]float32, X.Rows)
	for i := range y {
		if X.At(i, 0) > 0 {
			y[i] = 2 // class 1 never occurs
		}
	}
	p := DefaultParams()
	p.Objective, p.NumClass, p.NumRounds, p.MaxDepth = Softmax, 3, 10, 4
	m := fit(t, p, Dataset{X: X, Y: y}, nil)
	k := m.numOutputs
	for i := range m.trees {
		live := slices.Contains(m.forest.live, int32(i))
		if empty := i%k == 1; empty == live {
			t.Fatalf("tree %d (class %d): live = %v, want %v (%d nodes, values %v, base %v)", i, i%k, live, !empty, m.trees[i].numNodes(), m.trees[i].value, m.baseScore)
		}
	}
	got := m.PredictRaw(X)
	for r := 0; r < X.Rows; r++ {
		for c := 0; c < k; c++ {
			want := m.baseScore[c]
			for i := c; i < len(m.trees); i += k {
				want += m.trees[i].predictRow(X.Row(r))
			}
			if got[r*k+c] != want {
				t.Fatalf("row %d class %d: raw score %v, want %v (every tree walked)", r, c, got[r*k+c], want)
			}
		}
	}
}

func TestTrainingLossDecreases(t *testing.T) {
	X, y := synth.Binary(8000, 20, 3)
	Xm, ym := synth.Multiclass(6000, 16, 4, 3)
	binary := DefaultParams()
	binary.NumRounds = 40
	softmax := DefaultParams()
	softmax.Objective, softmax.NumClass, softmax.NumRounds = Softmax, 4, 25
	tests := []struct {
		name string
		p    Params
		d    Dataset
	}{
		{"binary", binary, Dataset{X: X, Y: y}},
		{"softmax", softmax, Dataset{X: Xm, Y: ym}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := fit(t, tc.p, tc.d, nil)
			h, at := m.History().Train, m.History().TrainRounds
			var want []int
			for r := trainLossEvery - 1; r < tc.p.NumRounds-1; r += trainLossEvery {
				want = append(want, r)
			}
			want = append(want, tc.p.NumRounds-1)
			if !slices.Equal(at, want) || len(h) != len(at) {
				t.Fatalf("%d training losses after rounds %v, want after rounds %v", len(h), at, want)
			}
			for i := 1; i < len(h); i++ {
				if h[i] > h[i-1]+1e-12 {
					t.Errorf("training loss rose at round %d: %.6f -> %.6f", i, h[i-1], h[i])
				}
			}
			if h[len(h)-1] > 0.9*h[0] {
				t.Errorf("training loss fell only from %.4f to %.4f", h[0], h[len(h)-1])
			}
		})
	}
}

func TestEarlyStoppingKeepsBestIteration(t *testing.T) {
	// Labels are pure noise: validation loss gets worse once the trees
	// start fitting noise.
	X := uniformMatrix(3000, 5, 4)
	rng := rand.New(rand.NewPCG(4, 4))
	y := make([]float32, X.Rows)
	for i := range y {
		if rng.Float64() < 0.3 {
			y[i] = 1
		}
	}
	p := DefaultParams()
	p.NumRounds, p.MaxDepth, p.LearningRate, p.EarlyStoppingRounds = 300, 6, 0.3, 5
	valid := Dataset{X: X.Slice(2000, 3000), Y: y[2000:]}
	m := fit(t, p, Dataset{X: X.Slice(0, 2000), Y: y[:2000]}, &valid)
	h := m.History().Valid
	if len(h) >= p.NumRounds {
		t.Fatalf("trained all %d rounds, want an early stop", len(h))
	}
	best := m.BestIteration()
	if want := slices.Index(h, slices.Min(h)); best != want {
		t.Errorf("BestIteration %d, want %d (lowest validation loss)", best, want)
	}
	if len(h) != best+1+p.EarlyStoppingRounds {
		t.Errorf("stopped after %d rounds, want best+1+%d = %d", len(h), p.EarlyStoppingRounds, best+1+p.EarlyStoppingRounds)
	}
	if m.NumRounds() != best+1 {
		t.Errorf("model keeps %d rounds, want %d", m.NumRounds(), best+1)
	}
	// The kept model scores the validation set exactly as at its best round.
	got := meanLogLoss(m.PredictProba(valid.X), valid.Y)
	if math.Abs(got-h[best]) > 1e-9 {
		t.Errorf("validation log-loss of the kept model %.9f, want %.9f", got, h[best])
	}
}

func TestEarlyStoppingNeedsValidation(t *testing.T) {
	p := DefaultParams()
	p.EarlyStoppingRounds = 3
	X := uniformMatrix(100, 2, 1)
	_, err := Fit(context.Background(), p, Dataset{X: X, Y: labelBy(X, func(x []float32) bool { return x[0] > 0 })}, nil)
	if err == nil {
		t.Fatal("Fit with EarlyStoppingRounds and no validation set succeeded")
	}
}

func TestClassWeightsShiftProbabilities(t *testing.T) {
	X, y := synth.Binary(10000, 20, 5)
	p := DefaultParams()
	p.NumRounds = 30
	plain := fit(t, p, Dataset{X: X, Y: y}, nil)
	p.ClassWeights = []float64{1, 5}
	weighted := fit(t, p, Dataset{X: X, Y: y}, nil)
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	a, b := mean(plain.PredictProba(X)), mean(weighted.PredictProba(X))
	if b < 2*a {
		t.Errorf("mean P(fail) %.4f with positive weight 5, %.4f without: want at least double", b, a)
	}
	if got := weighted.Params().ClassWeights; !slices.Equal(got, []float64{1, 5}) {
		t.Errorf("model params ClassWeights %v, want [1 5]", got)
	}
}

func TestReproducible(t *testing.T) {
	X, y := synth.Binary(12000, 24, 6)
	Xm, ym := synth.Multiclass(9000, 16, 3, 6)
	sub := DefaultParams()
	sub.NumRounds, sub.Subsample, sub.ColSampleByTree, sub.Seed, sub.BinSampleRows = 15, 0.7, 0.5, 11, 5000
	leafwise := DefaultParams()
	leafwise.NumRounds, leafwise.MaxDepth, leafwise.MaxLeaves = 15, 0, 12
	softmax := DefaultParams()
	softmax.Objective, softmax.NumClass, softmax.NumRounds, softmax.Subsample, softmax.Seed = Softmax, 3, 10, 0.8, 2
	// Enough rows for parallel partitioning and gradient gathering.
	Xl, yl := synth.Binary(3*partitionBlockRows, 16, 6)
	large := DefaultParams()
	large.NumRounds = 4
	tests := []struct {
		name string
		p    Params
		d    Dataset
	}{
		{"large binary", large, Dataset{X: Xl, Y: yl}},
		{"subsampled binary", sub, Dataset{X: X, Y: y}},
		{"leaf-wise binary", leafwise, Dataset{X: X, Y: y}},
		{"subsampled softmax", softmax, Dataset{X: Xm, Y: ym}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ref []byte
			for _, workers := range []int{1, 2, 3} {
				p := tc.p
				p.Workers = workers
				b := modelBytes(t, fit(t, p, tc.d, nil))
				if ref == nil {
					ref = b
				} else if !bytes.Equal(b, ref) {
					t.Fatalf("Workers=%d gave a different model file than Workers=1", workers)
				}
			}
			again := modelBytes(t, fit(t, tc.p, tc.d, nil))
			if !bytes.Equal(again, ref) {
				t.Fatal("a second fit with the same seed gave a different model file")
			}
			if tc.p.Subsample < 1 {
				p := tc.p
				p.Seed++
				if bytes.Equal(modelBytes(t, fit(t, p, tc.d, nil)), ref) {
					t.Error("another seed gave the same subsampled model")
				}
			}
		})
	}
}

func TestMaxLeavesLimitsTrees(t *testing.T) {
	X, y := synth.Binary(5000, 16, 7)
	for _, leaves := range []int{2, 5, 31} {
		p := DefaultParams()
		p.NumRounds, p.MaxDepth, p.MaxLeaves = 5, 0, leaves
		m := fit(t, p, Dataset{X: X, Y: y}, nil)
		for i := range m.trees {
			n := 0
			for _, l := range m.trees[i].left {
				if l < 0 {
					n++
				}
			}
			if n > leaves {
				t.Errorf("MaxLeaves=%d: tree %d has %d leaves", leaves, i, n)
			}
		}
	}
}

func TestMaxDepthLimitsTrees(t *testing.T) {
	X, y := synth.Binary(5000, 16, 8)
	for _, depth := range []int{1, 3, 5} {
		p := DefaultParams()
		p.NumRounds, p.MaxDepth = 5, depth
		m := fit(t, p, Dataset{X: X, Y: y}, nil)
		for i := range m.trees {
			if d := treeDepth(&m.trees[i], 0); d > depth {
				t.Errorf("MaxDepth=%d: tree %d has depth %d", depth, i, d)
			}
		}
	}
}

func treeDepth(t *tree, n int32) int {
	if t.left[n] < 0 {
		return 0
	}
	return 1 + max(treeDepth(t, t.left[n]), treeDepth(t, t.right[n]))
}

func TestSaveLoadPredictsIdentically(t *testing.T) {
	X, y := synth.Binary(6000, 20, 9)
	Xm, ym := synth.Multiclass(6000, 16, 5, 9)
	binary := DefaultParams()
	binary.NumRounds, binary.ClassWeights = 20, []float64{1, 3}
	softmax := DefaultParams()
	softmax.Objective, softmax.NumClass, softmax.NumRounds = Softmax, 5, 10
	tests := []struct {
		name string
		p    Params
		d    Dataset
	}{
		{"binary", binary, Dataset{X: X, Y: y}},
		{"softmax", softmax, Dataset{X: Xm, Y: ym}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := fit(t, tc.p, tc.d, nil)
			path := filepath.Join(t.TempDir(), "model.gbdt")
			if err := m.WriteFile(path); err != nil {
				t.Fatal(err)
			}
			loaded, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want, got := m.PredictRaw(tc.d.X), loaded.PredictRaw(tc.d.X)
			for i := range want {
				if math.Float64bits(want[i]) != math.Float64bits(got[i]) {
					t.Fatalf("score %d: %v after load, %v before", i, got[i], want[i])
				}
			}
			if !slices.Equal(m.FeatureImportance(), loaded.FeatureImportance()) {
				t.Error("feature importance changed by save/load")
			}
			if !bytes.Equal(modelBytes(t, loaded), modelBytes(t, m)) {
				t.Error("re-written model differs from the original file")
			}
			if loaded.BestIteration() != m.BestIteration() || loaded.NumFeatures() != m.NumFeatures() || loaded.NumClass() != m.NumClass() {
				t.Error("model facts changed by save/load")
			}
		})
	}
}

func TestReadRejectsBadFiles(t *testing.T) {
	X := uniformMatrix(500, 3, 10)
	m := fit(t, DefaultParams(), Dataset{X: X, Y: labelBy(X, func(x []float32) bool { return x[0] > 0 })}, nil)
	good := modelBytes(t, m)
	mutate := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	tests := []struct {
		name    string
		data    []byte
		wantMsg string
	}{
		{"empty", nil, "not a gbdt model file"},
		{"wrong magic", mutate(func(b []byte) []byte { b[0] = 'X'; return b }), "not a gbdt model file"},
		{"wrong version", mutate(func(b []byte) []byte { b[len(Magic)] = 3; return b }), "format version 3"},
		{"truncated header", good[:len(Magic)+2], "too short"},
		{"truncated body", good[:len(good)/2], "checksum mismatch"},
		{"truncated checksum", good[:len(good)-1], "checksum mismatch"},
		{"flipped byte", mutate(func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b }), "checksum mismatch"},
		{"trailing garbage", append(slices.Clone(good), 0), "checksum mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tc.data))
			if err == nil {
				t.Fatal("Read accepted a bad file")
			}
			if !bytes.Contains([]byte(err.Error()), []byte(tc.wantMsg)) {
				t.Errorf("error %q, want it to mention %q", err, tc.wantMsg)
			}
		})
	}
}

// cancelAfter is a context whose Err turns to Canceled after n calls
// (Fit's workers call Err concurrently).
type cancelAfter struct {
	context.Context
	n atomic.Int64
}

func newCancelAfter(n int64) *cancelAfter {
	c := &cancelAfter{Context: context.Background()}
	c.n.Store(n)
	return c
}

func (c *cancelAfter) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

func TestFitHonoursCancellation(t *testing.T) {
	X, y := synth.Binary(3000, 16, 11)
	tests := []struct {
		name string
		ctx  func() context.Context
	}{
		{"cancelled before", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}},
		// Binning checks ctx once per feature and block; 40 checks get
		// well into the rounds.
		{"cancelled between rounds", func() context.Context { return newCancelAfter(40) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultParams()
			p.NumRounds = 1000
			m, err := Fit(tc.ctx(), p, Dataset{X: X, Y: y}, nil)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Fit returned (%v, %v), want context.Canceled", m, err)
			}
		})
	}
}

func TestFitRejectsBadInput(t *testing.T) {
	X := uniformMatrix(50, 3, 12)
	y := labelBy(X, func(x []float32) bool { return x[0] > 0 })
	nan := models.NewMatrix(50, 3)
	copy(nan.Data, X.Data)
	nan.Data[7*3+2] = float32(math.NaN())
	badLabel := slices.Clone(y)
	badLabel[4] = 2
	tests := []struct {
		name    string
		p       func(p *Params)
		d       Dataset
		valid   *Dataset
		wantMsg string
	}{
		{"NaN value", nil, Dataset{X: nan, Y: y}, nil, "row 7 column 2 is NaN"},
		{"label out of range", nil, Dataset{X: X, Y: badLabel}, nil, "row 4: label 2"},
		{"label count", nil, Dataset{X: X, Y: y[:10]}, nil, "10 labels for 50 rows"},
		{"weight count", nil, Dataset{X: X, Y: y, Weight: []float32{1}}, nil, "1 weights for 50 rows"},
		{"valid columns", nil, Dataset{X: X, Y: y}, &Dataset{X: uniformMatrix(5, 2, 1), Y: make([]float32, 5)}, "2 columns, want 3"},
		{"rounds", func(p *Params) { p.NumRounds = 0 }, Dataset{X: X, Y: y}, nil, "NumRounds"},
		{"bins", func(p *Params) { p.MaxBins = 256 }, Dataset{X: X, Y: y}, nil, "MaxBins"},
		{"subsample", func(p *Params) { p.Subsample = 0 }, Dataset{X: X, Y: y}, nil, "Subsample"},
		{"class weights", func(p *Params) { p.ClassWeights = []float64{1} }, Dataset{X: X, Y: y}, nil, "ClassWeights"},
		{"softmax classes", func(p *Params) { p.Objective = Softmax }, Dataset{X: X, Y: y}, nil, "NumClass"},
		{"no depth limit", func(p *Params) { p.MaxDepth = 0 }, Dataset{X: X, Y: y}, nil, "MaxDepth and MaxLeaves"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultParams()
			if tc.p != nil {
				tc.p(&p)
			}
			_, err := Fit(context.Background(), p, tc.d, tc.valid)
			if err == nil {
				t.Fatal("Fit accepted bad input")
			}
			if !bytes.Contains([]byte(err.Error()), []byte(tc.wantMsg)) {
				t.Errorf("error %q, want it to mention %q", err, tc.wantMsg)
			}
		})
	}
}

func TestFeatureImportanceFindsSignal(t *testing.T) {
	X := uniformMatrix(4000, 5, 13)
	y := labelBy(X, func(x []float32) bool { return x[3] > 0.1 })
	p := DefaultParams()
	p.NumRounds = 20
	imp := fit(t, p, Dataset{X: X, Y: y}, nil).FeatureImportance()
	sum := 0.0
	for _, v := range imp {
		sum += v
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("importances sum to %v, want 1", sum)
	}
	if imp[3] < 0.9 {
		t.Errorf("importance of the only signal feature %.3f, want >= 0.9 (all: %v)", imp[3], imp)
	}
}

func TestConstantFeaturesAreNeverSplit(t *testing.T) {
	X := uniformMatrix(2000, 3, 14)
	for i := 0; i < X.Rows; i++ {
		X.Data[i*3+1] = 7
	}
	y := labelBy(X, func(x []float32) bool { return x[0]+x[2] > 0 })
	p := DefaultParams()
	p.NumRounds = 10
	m := fit(t, p, Dataset{X: X, Y: y}, nil)
	if imp := m.FeatureImportance(); imp[1] != 0 {
		t.Errorf("constant feature has importance %v", imp[1])
	}
}

func TestQuantileEdges(t *testing.T) {
	many := make([]float32, 10000)
	for i := range many {
		many[i] = float32(i)
	}
	ties := make([]float32, 1000)
	for i := range ties {
		if i >= 900 {
			ties[i] = float32(i)
		}
	}
	tests := []struct {
		name      string
		vals      []float32
		maxBins   int
		wantEdges int
	}{
		{"empty", nil, 255, 0},
		{"constant", []float32{3, 3, 3}, 255, 0},
		{"few distinct", []float32{1, 2, 2, 5}, 255, 2},
		{"distinct equal to bins", []float32{1, 2, 3, 4}, 4, 3},
		{"many distinct", many, 255, 254},
		{"heavy ties", ties, 16, 15},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			edges := quantileEdges(slices.Clone(tc.vals), tc.maxBins)
			if len(edges) != tc.wantEdges {
				t.Fatalf("%d edges, want %d", len(edges), tc.wantEdges)
			}
			for i := 1; i < len(edges); i++ {
				if !(edges[i] > edges[i-1]) {
					t.Fatalf("edges not increasing at %d: %v", i, edges)
				}
			}
			bm := &binMapper{edges: [][]float32{edges}}
			counts := make([]int, len(edges)+1)
			for _, v := range tc.vals {
				b := bm.bin(0, v)
				if b > 0 && !(v > edges[b-1]) || int(b) < len(edges) && !(v <= edges[b]) {
					t.Fatalf("value %v in bin %d, outside its edges", v, b)
				}
				counts[b]++
			}
			if len(tc.vals) > 0 && slices.Contains(counts, 0) {
				t.Errorf("empty bin among %v", counts)
			}
			if tc.name == "many distinct" && slices.Max(counts) > 2*len(tc.vals)/254 {
				t.Errorf("bins are unbalanced: largest %d of %d values", slices.Max(counts), len(tc.vals))
			}
			if len(edges) > 0 && bm.bin(0, float32(math.Inf(1))) != uint8(len(edges)) {
				t.Error("a value above the last edge is not in the last bin")
			}
		})
	}
}

func TestPredictPanicsOnWrongShape(t *testing.T) {
	X := uniformMatrix(300, 3, 15)
	m := fit(t, DefaultParams(), Dataset{X: X, Y: labelBy(X, func(x []float32) bool { return x[0] > 0 })}, nil)
	defer func() {
		if recover() == nil {
			t.Error("PredictProba on a 2-column matrix did not panic")
		}
	}()
	m.PredictProba(uniformMatrix(3, 2, 1))
}

// TestFormatHeaderLayout pins the header offsets documented in
// docs/model-format.md.
func TestFormatHeaderLayout(t *testing.T) {
	Xm, ym := synth.Multiclass(2000, 16, 3, 5)
	p := DefaultParams()
	p.Objective, p.NumClass, p.NumRounds = Softmax, 3, 4
	m := fit(t, p, Dataset{X: Xm, Y: ym}, nil)
	b := modelBytes(t, m)
	le := binary.LittleEndian
	tests := []struct {
		name string
		got  uint64
		want uint64
	}{
		{"magic", le.Uint64(b[0:]), le.Uint64([]byte("FCGBDT\r\n"))},
		{"version", uint64(le.Uint32(b[8:])), 2},
		{"objective", uint64(le.Uint32(b[12:])), 2},
		{"classes", uint64(le.Uint32(b[16:])), 3},
		{"features", uint64(le.Uint32(b[20:])), 16},
		{"rounds", uint64(le.Uint32(b[24:])), 4},
		{"best iteration", uint64(le.Uint32(b[28:])), 3},
		{"base score 0", le.Uint64(b[32:]), math.Float64bits(m.baseScore[0])},
		{"params.NumRounds", uint64(le.Uint32(b[32+3*8:])), 4},
		{"checksum", uint64(le.Uint32(b[len(b)-4:])), uint64(crc32.Checksum(b[:len(b)-4], crc32.MakeTable(crc32.Castagnoli)))},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestParallelPartitionMatchesSerial(t *testing.T) {
	n := 5*partitionBlockRows + 123
	rng := rand.New(rand.NewPCG(3, 3))
	col := make([]uint8, 2*n)
	for i := range col {
		col[i] = uint8(rng.IntN(256))
	}
	bins := &binMatrix{rows: len(col), cols: [][]uint8{col}}
	var rows []int32
	for i := range col {
		if rng.IntN(2) == 0 {
			rows = append(rows, int32(i))
		}
	}
	for _, bin := range []uint8{0, 77, 128, 255} {
		serial := &grower{hb: &histBuilder{bins: bins}, workers: 1}
		parallel := &grower{hb: &histBuilder{bins: bins}, workers: 3}
		a, b := slices.Clone(rows), slices.Clone(rows)
		na, nb := serial.partition(a, 0, bin), parallel.partition(b, 0, bin)
		if na != nb || !slices.Equal(a, b) {
			t.Fatalf("bin %d: parallel partition (%d left) differs from serial (%d left)", bin, nb, na)
		}
		for i, r := range a {
			if left := col[r] <= bin; left != (i < na) {
				t.Fatalf("bin %d: row %d on the wrong side", bin, r)
			}
		}
		if !slices.IsSorted(a[:na]) || !slices.IsSorted(a[na:]) {
			t.Fatalf("bin %d: halves not ascending", bin)
		}
	}
}

// TestQuantileEdgesAtEvenRanks checks that every edge sits within one
// value of its evenly spaced rank on a feature with a few more distinct
// values than bins (a rate rounded to 3 decimals: 1,001 values, 255
// bins). A greedy pass that closes each bin once it holds its share of
// the rows left drifted 34 values from the 80% quantile there.
func TestQuantileEdgesAtEvenRanks(t *testing.T) {
	const values, perValue, maxBins = 1001, 40, 255
	vals := make([]float32, 0, values*perValue)
	for v := range values {
		for range perValue {
			vals = append(vals, float32(v)/1000)
		}
	}
	edges := quantileEdges(slices.Clone(vals), maxBins)
	if len(edges) != maxBins-1 {
		t.Fatalf("%d edges, want %d", len(edges), maxBins-1)
	}
	for k, e := range edges {
		// Rows at or below the edge, as a fraction of the rows between
		// the smallest and the largest value's (the range the ranks
		// span), against the k+1-th of maxBins.
		below := float64(perValue) * (math.Floor(float64(e)*1000) + 1)
		got := (below - perValue) / float64(len(vals)-2*perValue)
		want := float64(k+1) / maxBins
		if d := math.Abs(got-want) * float64(values-2); d > 1 {
			t.Fatalf("edge %d at %v: quantile %.4f, want %.4f (%.1f values off)", k, e, got, want, d)
		}
	}
}

// TestQuantileEdgesRespreadAfterMass checks that a value holding many
// rows in the middle of the range starts one bin and that the bins it
// would have swallowed are spread over the values above it.
func TestQuantileEdgesRespreadAfterMass(t *testing.T) {
	var vals []float32
	for v := range 1000 {
		vals = append(vals, float32(v))
	}
	for range 2000 { // value 300 holds two thirds of the rows
		vals = append(vals, 300)
	}
	const maxBins = 32
	edges := quantileEdges(slices.Clone(vals), maxBins)
	if len(edges) != maxBins-1 {
		t.Fatalf("%d edges, want %d: a heavy value must not cost bins", len(edges), maxBins-1)
	}
	bm := &binMapper{edges: [][]float32{edges}}
	heavy := bm.bin(0, 300)
	if bm.bin(0, 299) == heavy || bm.bin(0, 301) != heavy {
		t.Errorf("value 300 is not the first of its bin: bins of 299, 300, 301: %d %d %d", bm.bin(0, 299), heavy, bm.bin(0, 301))
	}
	// Above the heavy value the bins hold about equal numbers of values.
	counts := make([]int, maxBins)
	for v := 301; v < 1000; v++ {
		counts[bm.bin(0, float32(v))]++
	}
	above := counts[heavy+1:]
	if slices.Max(above) > 2*slices.Min(above)+1 {
		t.Errorf("bins above the heavy value are uneven: %v", above)
	}
}

// TestQuantileEdgesHeavyValueAfterPrune checks that edges are found, and
// valid, when a heavy value near the top of a range swallows targets
// after the summary was pruned (more than 8 x maxBins values): the entry
// nearest the respread's first target can be the heavy value again,
// which once made the respread repeat forever.
func TestQuantileEdgesHeavyValueAfterPrune(t *testing.T) {
	const maxBins = 4
	var vals []float32
	for v := range 33 {
		vals = append(vals, float32(v))
	}
	for range 330 {
		vals = append(vals, 30)
	}
	done := make(chan []float32, 1)
	go func() { done <- quantileEdges(slices.Clone(vals), maxBins) }()
	var edges []float32
	select {
	case edges = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("quantileEdges did not return in 10 s")
	}
	if len(edges) == 0 || len(edges) > maxBins-1 {
		t.Fatalf("%d edges, want 1..%d: %v", len(edges), maxBins-1, edges)
	}
	for i := 1; i < len(edges); i++ {
		if !(edges[i] > edges[i-1]) {
			t.Fatalf("edges not increasing: %v", edges)
		}
	}
	bm := &binMapper{edges: [][]float32{edges}}
	if bm.bin(0, 29) == bm.bin(0, 30) {
		t.Errorf("the heavy value 30 shares its bin with 29: edges %v", edges)
	}
}
