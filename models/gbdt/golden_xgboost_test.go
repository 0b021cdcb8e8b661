package gbdt

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/failcast/failcast/models"
)

// xgbNode is a node of XGBoost's JSON tree dump (get_dump with
// dump_format="json", with_stats=True).
type xgbNode struct {
	NodeID         int       `json:"nodeid"`
	Split          string    `json:"split"`
	SplitCondition float64   `json:"split_condition"`
	Yes            int       `json:"yes"`
	Gain           float64   `json:"gain"`
	Leaf           *float64  `json:"leaf"`
	Children       []xgbNode `json:"children"`
}

// readGoldenTable reads testdata/xgboost/table.csv: label, then features.
func readGoldenTable(t *testing.T, path string) (models.Matrix, []float32) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	cols := len(records[0]) - 1
	X := models.NewMatrix(len(records), cols)
	y := make([]float32, len(records))
	for i, rec := range records {
		for j, s := range rec {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				t.Fatalf("%s row %d field %d: %v", path, i+1, j+1, err)
			}
			if j == 0 {
				y[i] = float32(v)
			} else {
				X.Data[i*cols+j-1] = float32(v)
			}
		}
	}
	return X, y
}

// TestMatchesXGBoost fits the table XGBoost 1.7.4 was fitted on
// (testdata/xgboost, see gen.py there) with the same parameters and checks
// every node of every tree against XGBoost's: the same feature, a
// threshold that sends the same training rows left (XGBoost sends x < c
// left, c a training value; we send x <= t), the same gain (XGBoost
// reports twice our gain) and the same leaf values. The table has a
// feature with more distinct values than bins, so the bin edges must be
// placed at the ranks XGBoost places its cuts at.
func TestMatchesXGBoost(t *testing.T) {
	X, y := readGoldenTable(t, "testdata/xgboost/table.csv")
	raw, err := os.ReadFile("testdata/xgboost/trees.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Params struct {
			MaxDepth       int     `json:"max_depth"`
			Eta            float64 `json:"eta"`
			MaxBin         int     `json:"max_bin"`
			Lambda         float64 `json:"reg_lambda"`
			MinChildWeight float64 `json:"min_child_weight"`
			Gamma          float64 `json:"gamma"`
		} `json:"params"`
		Rounds int       `json:"rounds"`
		Trees  []xgbNode `json:"trees"`
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatalf("trees.json: %v", err)
	}
	g := golden.Params
	p := DefaultParams()
	p.NumRounds, p.MaxDepth, p.LearningRate, p.MaxBins = golden.Rounds, g.MaxDepth, g.Eta, g.MaxBin
	p.Lambda, p.MinChildWeight, p.MinSplitGain = g.Lambda, g.MinChildWeight, g.Gamma
	p.BinSampleRows = 0 // XGBoost sketches every row
	p.Workers = 1
	m, err := Fit(context.Background(), p, Dataset{X: X, Y: y}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.trees) != len(golden.Trees) {
		t.Fatalf("%d trees, XGBoost has %d", len(m.trees), len(golden.Trees))
	}
	// values[f]: feature f's distinct training values, ascending.
	values := make([][]float32, X.Cols)
	for f := range values {
		for r := 0; r < X.Rows; r++ {
			values[f] = append(values[f], X.At(r, f))
		}
		slices.Sort(values[f])
		values[f] = slices.Compact(values[f])
	}
	for i := range m.trees {
		compareXGBTree(t, &m.trees[i], 0, &golden.Trees[i], values, fmt.Sprintf("tree %d ", i))
	}
}

func compareXGBTree(t *testing.T, got *tree, node int32, want *xgbNode, values [][]float32, path string) {
	t.Helper()
	if want.Leaf != nil {
		if got.left[node] >= 0 {
			t.Errorf("%s: we split on feature %d at %v, XGBoost has a leaf", path, got.feature[node], got.threshold[node])
			return
		}
		if math.Abs(got.value[node]-*want.Leaf) > 1e-6 {
			t.Errorf("%s: leaf value %.7f, XGBoost's %.7f", path, got.value[node], *want.Leaf)
		}
		return
	}
	wantF, err := strconv.Atoi(want.Split[1:])
	if err != nil {
		t.Fatalf("%s: split %q: %v", path, want.Split, err)
	}
	if got.left[node] < 0 {
		t.Errorf("%s: we have a leaf, XGBoost splits on feature %d at < %v", path, wantF, want.SplitCondition)
		return
	}
	f := int(got.feature[node])
	// The first training value our threshold sends right must be
	// XGBoost's cut: then both send the same training rows left.
	vals := values[f]
	k, _ := slices.BinarySearch(vals, math.Nextafter32(got.threshold[node], float32(math.Inf(1))))
	if f != wantF || k == len(vals) || vals[k] != float32(want.SplitCondition) {
		t.Errorf("%s: split on feature %d at <= %v, XGBoost on feature %d at < %v", path, f, got.threshold[node], wantF, want.SplitCondition)
		return
	}
	if gain := 2 * got.gain[node]; math.Abs(gain-want.Gain) > 1e-4*math.Max(1, want.Gain) {
		t.Errorf("%s: gain %.6f (doubled), XGBoost's %.6f", path, gain, want.Gain)
	}
	var yes, no *xgbNode
	for i := range want.Children {
		if want.Children[i].NodeID == want.Yes {
			yes = &want.Children[i]
		} else {
			no = &want.Children[i]
		}
	}
	if yes == nil || no == nil {
		t.Fatalf("%s: XGBoost node %d lacks a child", path, want.NodeID)
	}
	compareXGBTree(t, got, got.left[node], yes, values, path+"L")
	compareXGBTree(t, got, got.right[node], no, values, path+"R")
}
