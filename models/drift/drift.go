package drift

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/failcast/failcast/internal/mix"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/internal/floatsort"
	"github.com/failcast/failcast/models/internal/lowerbound"
)

// Defaults and thresholds of the index (see the package doc).
const (
	// Bins is the number of quantile bins Fit aims at per column.
	Bins = 10
	// MinShare floors a bin's share in PSI.
	MinShare = 1e-4
	// Moderate is the PSI from which a column has shifted moderately.
	Moderate = 0.1
	// Drifted is the PSI above which a column is named drifted.
	Drifted = 0.2
	// MinRows is the fewest new rows whose PSI is assessed.
	MinRows = 100
	// maxFitRows bounds the rows Fit sorts per column: larger references
	// are sampled at an even stride (deterministic).
	maxFitRows = 200_000
)

// Feature is the reference distribution of one column: Edges are the
// upper bounds of all bins but the last, strictly increasing (bin i holds
// values in (Edges[i-1], Edges[i]], the last bin everything above the
// last edge), Shares the share of the reference's non-NaN rows in each
// bin (len(Edges)+1 values summing to 1 - Missing), Missing the share of
// NaN rows.
type Feature struct {
	Name    string    `json:"name"`
	Edges   []float64 `json:"edges"`
	Shares  []float64 `json:"shares"`
	Missing float64   `json:"missing"`
}

// Reference is the reference distribution of every column of a matrix, in
// column order, and the number of rows it was fitted on.
type Reference struct {
	Rows     int       `json:"rows"`
	Features []Feature `json:"features"`
}

// Fit summarises the columns of X (named by names) in at most bins
// quantile bins each, plus an empty bin below the minimum and one above
// the maximum. X must have rows and len(names) columns.
func Fit(X models.Matrix, names []string, bins int) (*Reference, error) {
	if err := X.Validate(); err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	switch {
	case X.Cols != len(names):
		return nil, fmt.Errorf("drift: matrix has %d columns, %d names given", X.Cols, len(names))
	case X.Rows == 0:
		return nil, errors.New("drift: the reference matrix has no rows")
	case bins < 2:
		return nil, fmt.Errorf("drift: want at least 2 bins, got %d", bins)
	}
	ref := &Reference{Rows: X.Rows, Features: make([]Feature, X.Cols)}
	groups := (X.Cols + fitColumnGroup - 1) / fitColumnGroup
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), groups) {
		wg.Go(func() {
			var c fitColumns
			for g := int(next.Add(1) - 1); g < groups; g = int(next.Add(1) - 1) {
				lo := g * fitColumnGroup
				hi := min(lo+fitColumnGroup, X.Cols)
				c.gather(X, lo, hi)
				for j := lo; j < hi; j++ {
					ref.Features[j] = c.feature(j-lo, names[j], bins)
				}
			}
		})
	}
	wg.Wait()
	return ref, nil
}

// fitColumnGroup is how many adjacent columns Fit gathers in one pass over
// the rows: 16 float32 values are one 64-byte cache line of a row.
const fitColumnGroup = 16

// fitColumns holds the sampled, non-NaN values of a group of adjacent
// columns and each one's count of NaN.
type fitColumns struct {
	vals [fitColumnGroup][]float32
	nan  [fitColumnGroup]int
	rows int // rows sampled, NaN included
}

// gather samples columns [lo, hi) of X: at most maxFitRows rows at an
// even stride (deterministic). -0 is stored as +0, the two being equal to
// every comparison, so that an edge never depends on which of them a sort
// puts first.
func (c *fitColumns) gather(X models.Matrix, lo, hi int) {
	stride := max(1, (X.Rows+maxFitRows-1)/maxFitRows)
	c.rows = (X.Rows + stride - 1) / stride
	for k := range hi - lo {
		c.vals[k] = slices.Grow(c.vals[k][:0], c.rows)
		c.nan[k] = 0
	}
	for i := 0; i < X.Rows; i += stride {
		row := X.Data[i*X.Cols+lo : i*X.Cols+hi]
		for k, v := range row {
			switch {
			case v != v:
				c.nan[k]++
			case v == 0:
				c.vals[k] = append(c.vals[k], 0)
			default:
				c.vals[k] = append(c.vals[k], v)
			}
		}
	}
}

// feature summarises gathered column k in at most bins quantile bins plus
// the two empty outer bins.
func (c *fitColumns) feature(k int, name string, bins int) Feature {
	col := c.vals[k]
	floatsort.Float32s(col)
	n := float64(c.rows)
	f := Feature{Name: name, Missing: float64(c.nan[k]) / n}
	if len(col) > 0 {
		// An edge just below the minimum and one at the maximum give
		// the reference two empty outer bins, so values outside its
		// range show up even for a constant column.
		f.Edges = append(f.Edges, math.Nextafter(float64(col[0]), math.Inf(-1)))
		for q := 1; q <= bins; q++ {
			e := float64(col[(len(col)-1)*q/bins])
			if e > f.Edges[len(f.Edges)-1] {
				f.Edges = append(f.Edges, e)
			}
		}
	}
	// Bin i holds the values in (Edges[i-1], Edges[i]]: in the sorted
	// column, those after the last value <= Edges[i-1].
	f.Shares = make([]float64, len(f.Edges)+1)
	below := 0
	for i, e := range f.Edges {
		upTo := below + sort.Search(len(col)-below, func(x int) bool { return float64(col[below+x]) > e })
		f.Shares[i] = float64(upTo-below) / n
		below = upTo
	}
	f.Shares[len(f.Edges)] = float64(len(col)-below) / n
	return f
}

// bin returns the bin of v: the first edge at or above v, or the last bin.
// Meter.Add calls it once per feature value (tens of millions of times
// for a 1M-send plan), hence the branch-free search.
func bin(edges []float64, v float64) int { return lowerbound.Search(edges, v) }

// Check verifies a reference read back from a file: shares and edges
// agree in length, edges increase, shares are within [0, 1].
func (r *Reference) Check() error {
	for j, f := range r.Features {
		if len(f.Shares) != len(f.Edges)+1 {
			return fmt.Errorf("drift reference: feature %d (%s): %d shares for %d edges, want edges+1", j, f.Name, len(f.Shares), len(f.Edges))
		}
		for k := 1; k < len(f.Edges); k++ {
			if !(f.Edges[k] > f.Edges[k-1]) {
				return fmt.Errorf("drift reference: feature %d (%s): edges not increasing at %d", j, f.Name, k)
			}
		}
		sum := f.Missing
		for _, s := range f.Shares {
			if !(s >= 0 && s <= 1) {
				return fmt.Errorf("drift reference: feature %d (%s): share %v outside [0, 1]", j, f.Name, s)
			}
			sum += s
		}
		if math.Abs(sum-1) > 1e-6 {
			return fmt.Errorf("drift reference: feature %d (%s): shares and missing sum to %v, want 1", j, f.Name, sum)
		}
	}
	return nil
}

// PSI returns the Population Stability Index of the shares actual against
// expected (same length; each a distribution), flooring every share at
// MinShare.
func PSI(expected, actual []float64) float64 {
	if len(expected) != len(actual) {
		panic(fmt.Sprintf("drift: PSI of %d and %d shares", len(expected), len(actual)))
	}
	s := 0.0
	for i := range expected {
		e, a := max(expected[i], MinShare), max(actual[i], MinShare)
		s += (a - e) * math.Log(a/e)
	}
	return s
}

// Meter counts rows into a reference's bins. It is not safe for
// concurrent use.
type Meter struct {
	ref    *Reference
	counts [][]int64 // per column: bins, then NaN
	rows   int64     // rows counted
	given  int64     // rows given to Add, counted or not
	share  float64   // SetShare's
	below  uint64    // a given row is counted when its rowDraw is below
	// Per column, the last value binned and its bin: consecutive rows of
	// a plan (a campaign's sends) repeat most values (three in four on a
	// 1M-send plan at scale 3), and a repeat needs no search, nor a
	// count of its own (see runFrom). NaN never matches, so the cache
	// starts empty.
	last    []float32
	lastBin []int32
	// runFrom is, per column, the row (numbered over every Add) from
	// which the column has held last: the run is counted into lastBin
	// at once when it ends, or at the end of Add. (Counting each repeat
	// as it came made Add about 15% slower on that plan's rows.)
	runFrom []int64
}

// NewMeter returns a Meter for ref.
func NewMeter(ref *Reference) *Meter {
	n := len(ref.Features)
	m := &Meter{ref: ref, counts: make([][]int64, n), share: 1, below: math.MaxUint64, last: make([]float32, n), lastBin: make([]int32, n), runFrom: make([]int64, n)}
	for j, f := range ref.Features {
		m.counts[j] = make([]int64, len(f.Edges)+2)
		m.last[j] = float32(math.NaN())
	}
	return m
}

// SetShare makes m count a share (0, 1] of the rows it is given: row r
// (numbered over every Add since the start) is counted when a hash of r
// falls below the share, so the sample is the same on every run, holds
// about that share of any run of rows, and follows no period of the rows
// (a plan's bursts repeat with one: every k-th row could alias with them).
// A share outside (0, 1) counts every row. Call it before the first Add.
func (m *Meter) SetShare(share float64) {
	if !(share > 0 && share < 1) {
		m.share, m.below = 1, math.MaxUint64
		return
	}
	m.share, m.below = share, uint64(share*(1<<63))<<1
}

// Share returns the share of SetShare: 1 when every row is counted.
func (m *Meter) Share() float64 { return m.share }

// rowDraw is row r's draw for SetShare: a SplitMix64 output.
func rowDraw(r int64) uint64 { return mix.Finalize(uint64(r) + mix.Golden) }

// Rows returns the number of rows counted.
func (m *Meter) Rows() int64 { return m.rows }

// Add counts the rows of X (those SetShare draws), which must have the
// reference's columns.
func (m *Meter) Add(X models.Matrix) error {
	if X.Cols != len(m.ref.Features) {
		return fmt.Errorf("drift: matrix has %d columns, the reference %d", X.Cols, len(m.ref.Features))
	}
	feats := m.ref.Features
	n := len(feats)
	last, lastBin, runFrom, counts := m.last[:n], m.lastBin[:n], m.runFrom[:n], m.counts[:n]
	g := m.rows // the counted row's number over every Add
	given := m.given
	m.given += int64(X.Rows)
	for i := 0; i < X.Rows; i++ {
		if m.below != math.MaxUint64 && rowDraw(given+int64(i)) >= m.below {
			continue
		}
		row := X.Row(i)
		row = row[:n]
		for j, v := range row {
			if v == last[j] { // -0 and +0 share their bins too
				continue // counted when the run ends
			}
			c := counts[j]
			c[lastBin[j]] += g - runFrom[j]
			if v != v { // NaN: never cached
				c[len(c)-1]++
				runFrom[j] = g + 1
				continue
			}
			k := bin(feats[j].Edges, float64(v))
			last[j], lastBin[j], runFrom[j] = v, int32(k), g
		}
		g++
	}
	m.rows = g
	for j := range counts { // the runs so far
		counts[j][lastBin[j]] += g - runFrom[j]
		runFrom[j] = g
	}
	return nil
}

// Status is how a column's PSI reads.
type Status string

// The statuses.
const (
	StatusStable      Status = "stable"       // PSI < Moderate
	StatusModerate    Status = "moderate"     // Moderate <= PSI <= Drifted
	StatusDrifted     Status = "drifted"      // PSI > Drifted
	StatusNotAssessed Status = "not_assessed" // fewer than MinRows rows
)

// StatusOf reads a PSI of a sample of rows rows.
func StatusOf(psi float64, rows int64) Status {
	switch {
	case rows < MinRows || math.IsNaN(psi):
		return StatusNotAssessed
	case psi > Drifted:
		return StatusDrifted
	case psi >= Moderate:
		return StatusModerate
	}
	return StatusStable
}

// FeatureDrift is one column's comparison with its reference.
type FeatureDrift struct {
	Name   string
	PSI    float64 // NaN when no row was counted
	Status Status
}

// MarshalJSON writes {"name", "psi" (null when NaN), "status"}.
func (d FeatureDrift) MarshalJSON() ([]byte, error) {
	var psi any
	if !math.IsNaN(d.PSI) && !math.IsInf(d.PSI, 0) {
		psi = math.Round(d.PSI*1e4) / 1e4
	}
	return json.Marshal(struct {
		Name   string `json:"name"`
		PSI    any    `json:"psi"`
		Status Status `json:"status"`
	}{d.Name, psi, d.Status})
}

// Result returns every column's PSI against the reference, in column
// order (PSI NaN and not assessed before MinRows rows).
func (m *Meter) Result() []FeatureDrift {
	out := make([]FeatureDrift, len(m.ref.Features))
	for j, f := range m.ref.Features {
		d := FeatureDrift{Name: f.Name, PSI: math.NaN()}
		if m.rows > 0 {
			exp := append(slices.Clone(f.Shares), f.Missing)
			act := make([]float64, len(exp))
			for k, c := range m.counts[j] {
				act[k] = float64(c) / float64(m.rows)
			}
			d.PSI = PSI(exp, act)
		}
		d.Status = StatusOf(d.PSI, m.rows)
		out[j] = d
	}
	return out
}

// Compare fits a reference on ref and measures X against it: the drift of
// X's columns from ref's, as Fit and a Meter would give it.
func Compare(ref, X models.Matrix, names []string) ([]FeatureDrift, error) {
	r, err := Fit(ref, names, Bins)
	if err != nil {
		return nil, err
	}
	m := NewMeter(r)
	if err := m.Add(X); err != nil {
		return nil, err
	}
	return m.Result(), nil
}

// DriftedOf returns the drifted columns of ds, largest PSI first.
func DriftedOf(ds []FeatureDrift) []FeatureDrift {
	var out []FeatureDrift
	for _, d := range ds {
		if d.Status == StatusDrifted {
			out = append(out, d)
		}
	}
	slices.SortStableFunc(out, func(a, b FeatureDrift) int {
		switch {
		case a.PSI > b.PSI:
			return -1
		case a.PSI < b.PSI:
			return 1
		}
		return 0
	})
	return out
}

// Format names features with their PSI, "a (0.41), b (0.23)": at most n
// of them (0: all), then how many more.
func Format(d []FeatureDrift, n int) string {
	var parts []string
	for i, x := range d {
		if n > 0 && i == n {
			parts = append(parts, fmt.Sprintf("%d more", len(d)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%.3f)", x.Name, x.PSI))
	}
	return strings.Join(parts, ", ")
}

// MaxPSI is the largest PSI of ds (NaN ones, not assessed, left out; 0
// when none is).
func MaxPSI(ds []FeatureDrift) float64 {
	m := 0.0
	for _, d := range ds {
		if !math.IsNaN(d.PSI) {
			m = max(m, d.PSI)
		}
	}
	return m
}
