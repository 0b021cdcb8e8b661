package scoring

import (
	"fmt"

	"github.com/failcast/failcast/features/mechanism"
)

// Features are the feature values of a batch of sends, as the features
// layer computed them: column names and a row-major matrix with one row per
// send (X[i*len(Names)+j] is feature Names[j] of send i). Scoring reads
// the features it knows by name (the features.Name* names) and ignores the
// others; a feature it knows that is missing only silences the warnings
// built on it.
type Features struct {
	Names []string
	X     []float32
}

// featureIndex resolves the features scoring reads to column indices,
// once per distinct Names slice.
type featureIndex struct {
	names []string // the Names slice the index was built for
	bound bool
	cols  [numFeatures]int
	mech  mechanism.Columns // the same names for the known failure mechanisms and rules
	x     []float32
	width int
}

func (fx *featureIndex) bind(f Features, rows int) error {
	if len(f.X) != rows*len(f.Names) {
		return fmt.Errorf("scoring: feature matrix has %d values, want %d sends x %d features", len(f.X), rows, len(f.Names))
	}
	if !fx.bound || !sameSlice(fx.names, f.Names) {
		pos := make(map[string]int, len(f.Names))
		for j, n := range f.Names {
			pos[n] = j
		}
		for k, n := range featureNames {
			fx.cols[k] = -1
			if j, ok := pos[n]; ok {
				fx.cols[k] = j
			}
		}
		fx.mech = mechanism.Bind(f.Names)
		fx.names, fx.bound = f.Names, true
	}
	fx.x, fx.width = f.X, len(f.Names)
	return nil
}

func sameSlice(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	if &a[0] == &b[0] {
		return true
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
