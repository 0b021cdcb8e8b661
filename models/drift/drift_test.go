package drift

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/models"
)

func TestPSIKnownShares(t *testing.T) {
	tests := []struct {
		name             string
		expected, actual []float64
		want             float64
	}{
		{"identical", []float64{0.2, 0.3, 0.5}, []float64{0.2, 0.3, 0.5}, 0},
		{"half to quarter", []float64{0.5, 0.5}, []float64{0.25, 0.75}, 0.25*math.Log(2) + 0.25*math.Log(1.5)},
		{"swap", []float64{0.9, 0.1}, []float64{0.1, 0.9}, 2 * 0.8 * math.Log(9)},
		{"empty bin floored", []float64{1, 0}, []float64{0.5, 0.5}, (0.5-1)*math.Log(0.5) + (0.5-MinShare)*math.Log(0.5/MinShare)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PSI(tt.expected, tt.actual); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("PSI = %v, want %v", got, tt.want)
			}
		})
	}
}

// matrix returns an n x 1 matrix of draws.
func matrix(n int, draw func() float64) models.Matrix {
	X := models.NewMatrix(n, 1)
	for i := range X.Data {
		X.Data[i] = float32(draw())
	}
	return X
}

func TestMeterOnKnownDistributions(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	normal := func(mu float64) func() float64 { return func() float64 { return mu + r.NormFloat64() } }
	ref := matrix(50_000, normal(0))
	tests := []struct {
		name     string
		sample   models.Matrix
		min, max float64
		status   Status
	}{
		// Sampling noise of 10 bins and 20k rows: E[PSI] ~ (bins-1)(1/n+1/m) ~ 0.0006.
		{"same distribution", matrix(20_000, normal(0)), 0, 0.01, StatusStable},
		// A mean shift of d sd gives PSI ~ d^2 for a normal: 0.25 sd -> ~0.06.
		{"quarter sd shift", matrix(20_000, normal(0.25)), 0.03, 0.1, StatusStable},
		{"half sd shift", matrix(20_000, normal(0.5)), 0.15, 0.35, ""},
		{"one sd shift", matrix(20_000, normal(1)), 0.8, 1.6, StatusDrifted},
		{"all above the reference", matrix(2_000, func() float64 { return 10 }), 5, math.Inf(1), StatusDrifted},
		{"too few rows", matrix(50, normal(3)), 0, math.Inf(1), StatusNotAssessed},
	}
	fit, err := Fit(ref, []string{"x"}, Bins)
	if err != nil {
		t.Fatal(err)
	}
	if err := fit.Check(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMeter(fit)
			if err := m.Add(tt.sample); err != nil {
				t.Fatal(err)
			}
			d := m.Result()[0]
			if d.PSI < tt.min || d.PSI > tt.max {
				t.Errorf("PSI = %.4f, want within [%g, %g]", d.PSI, tt.min, tt.max)
			}
			if tt.status != "" && d.Status != tt.status {
				t.Errorf("status = %s, want %s", d.Status, tt.status)
			}
		})
	}
}

func TestFitTiesAndConstantColumns(t *testing.T) {
	// Column 0: 90% zeros (a count), column 1: constant, column 2: NaN half.
	n := 1000
	X := models.NewMatrix(n, 3)
	for i := 0; i < n; i++ {
		if i%10 == 0 {
			X.Data[i*3] = float32(i % 7)
		}
		X.Data[i*3+1] = 1e6
		if i%2 == 0 {
			X.Data[i*3+2] = float32(math.NaN())
		} else {
			X.Data[i*3+2] = float32(i)
		}
	}
	ref, err := Fit(X, []string{"count", "never", "half_nan"}, Bins)
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Check(); err != nil {
		t.Fatal(err)
	}
	if got := ref.Features[2].Missing; got != 0.5 {
		t.Errorf("missing share = %v, want 0.5", got)
	}
	// The same rows: no drift at all.
	m := NewMeter(ref)
	m.Add(X)
	for _, d := range m.Result() {
		if d.PSI > 1e-12 {
			t.Errorf("%s: PSI of the reference itself = %v, want 0", d.Name, d.PSI)
		}
	}
	// The constant column moving away is caught (values below its minimum).
	Y := models.NewMatrix(n, 3)
	copy(Y.Data, X.Data)
	for i := 0; i < n; i++ {
		Y.Data[i*3+1] = 5
	}
	m = NewMeter(ref)
	m.Add(Y)
	res := m.Result()
	if res[1].Status != StatusDrifted {
		t.Errorf("constant column moved: %+v, want drifted", res[1])
	}
	if got := DriftedOf(res); len(got) != 1 || got[0].Name != "never" {
		t.Errorf("DriftedOf = %+v, want only never", got)
	}
	b, _ := json.Marshal(NewMeter(ref).Result()[0])
	if !strings.Contains(string(b), `"psi":null`) || !strings.Contains(string(b), `"not_assessed"`) {
		t.Errorf("JSON of an empty meter = %s, want psi null, not_assessed", b)
	}
}

func TestFitRefusesBadInput(t *testing.T) {
	if _, err := Fit(models.NewMatrix(0, 1), []string{"x"}, Bins); err == nil {
		t.Error("no rows: want an error")
	}
	if _, err := Fit(models.NewMatrix(3, 2), []string{"x"}, Bins); err == nil {
		t.Error("names do not match columns: want an error")
	}
	bad := &Reference{Features: []Feature{{Name: "x", Edges: []float64{1, 0}, Shares: []float64{0.5, 0.25, 0.25}}}}
	if err := bad.Check(); err == nil {
		t.Error("decreasing edges: want an error")
	}
}

// TestBinMatchesBinarySearch: bin is slices.BinarySearch written out, for
// every edge count up to beyond Bins and values on, between and outside
// the edges (signed zeros and infinities included).
func TestBinMatchesBinarySearch(t *testing.T) {
	for n := 0; n <= 2*Bins+3; n++ {
		edges := make([]float64, n)
		for k := range edges {
			edges[k] = float64(k) - float64(n)/2
		}
		vals := []float64{math.Inf(-1), math.Inf(1), math.Copysign(0, -1), 0, -1e300, 1e300}
		for k := -2; k <= n+2; k++ {
			x := float64(k) - float64(n)/2
			vals = append(vals, x, math.Nextafter(x, math.Inf(-1)), math.Nextafter(x, math.Inf(1)), x+0.5)
		}
		for _, v := range vals {
			want, _ := slices.BinarySearch(edges, v)
			if got := bin(edges, v); got != want {
				t.Fatalf("bin(%v, %v) = %d, want %d", edges, v, got, want)
			}
		}
	}
}

// BenchmarkMeterAdd counts a 65k-row, 60-column matrix into a reference
// with Bins bins a column (score counts every planned send this way).
func BenchmarkMeterAdd(b *testing.B) {
	const rows, cols = 1 << 16, 60
	X := models.NewMatrix(rows, cols)
	rng := rand.New(rand.NewPCG(1, 2))
	names := make([]string, cols)
	for j := range names {
		names[j] = fmt.Sprintf("f%d", j)
	}
	for i := range X.Data {
		X.Data[i] = float32(rng.NormFloat64())
	}
	ref, err := Fit(X, names, Bins)
	if err != nil {
		b.Fatal(err)
	}
	m := NewMeter(ref)
	b.SetBytes(int64(rows))
	for b.Loop() {
		if err := m.Add(X); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMeterCountsEveryValue: the meter's per-column cache of the last
// value (rows that repeat values, NaN, -0 after +0) gives the counts of
// binning every value on its own, over several Add calls; with SetShare
// those of the rows drawn, numbered across the calls.
func TestMeterCountsEveryValue(t *testing.T) {
	const rows, cols = 3000, 4
	rng := rand.New(rand.NewPCG(3, 4))
	X := models.NewMatrix(rows, cols)
	for i := range rows {
		for j := range cols {
			var v float32
			switch rng.IntN(6) {
			case 0:
				v = float32(math.NaN())
			case 1:
				v = float32(math.Copysign(0, -1))
			case 2:
				v = 0
			default:
				v = float32(rng.IntN(5))
			}
			if i > 0 && rng.IntN(2) == 0 {
				v = X.At(i-1, j) // a run of repeats
			}
			X.Data[i*cols+j] = v
		}
	}
	ref, err := Fit(X, []string{"a", "b", "c", "d"}, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, share := range []float64{1, 0.25, 0.6} {
		m := NewMeter(ref)
		m.SetShare(share)
		// Runs of repeats span the calls, one of them a single row; the
		// counts are whole after each call.
		for _, cut := range [][2]int{{0, 1}, {1, rows / 2}, {rows / 2, rows/2 + 1}, {rows/2 + 1, rows}} {
			part := models.Matrix{Rows: cut[1] - cut[0], Cols: cols, Data: X.Data[cut[0]*cols : cut[1]*cols]}
			if err := m.Add(part); err != nil {
				t.Fatal(err)
			}
			checkCounts(t, m, X, cut[1], share)
		}
		// The draw keeps about the share, whatever the chunking.
		if got := float64(m.Rows()) / rows; math.Abs(got-share) > 0.05 {
			t.Errorf("share %v: counted %d of %d rows", share, m.Rows(), rows)
		}
	}
}

// checkCounts compares m's counts with those of binning each value of
// the first rows of X that share draws (all when share is 1) on its own.
func checkCounts(t *testing.T, m *Meter, X models.Matrix, rows int, share float64) {
	t.Helper()
	for j, f := range m.ref.Features {
		want := make([]int64, len(f.Edges)+2)
		for i := range rows {
			if rowDraw(int64(i)) >= m.below && m.below != math.MaxUint64 {
				continue
			}
			v := float64(X.At(i, j))
			if math.IsNaN(v) {
				want[len(f.Edges)+1]++
				continue
			}
			k, _ := slices.BinarySearch(f.Edges, v)
			want[k]++
		}
		if !slices.Equal(m.counts[j], want) {
			t.Errorf("share %v, after %d rows: column %d: counts %v, want %v", share, rows, j, m.counts[j], want)
		}
	}
}
