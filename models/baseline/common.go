package baseline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/failcast/failcast/models"
)

// checkTraining validates a training matrix and its labels: shapes agree,
// at least one row, both classes present, every value finite.
func checkTraining(X models.Matrix, y []bool) error {
	if err := X.Validate(); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	if len(y) != X.Rows {
		return fmt.Errorf("baseline: %d labels for %d rows", len(y), X.Rows)
	}
	if X.Rows == 0 || X.Cols == 0 {
		return fmt.Errorf("baseline: empty training matrix %dx%d", X.Rows, X.Cols)
	}
	pos := 0
	for _, l := range y {
		if l {
			pos++
		}
	}
	if pos == 0 || pos == len(y) {
		return fmt.Errorf("baseline: training labels hold one class only (%d positive of %d)", pos, len(y))
	}
	return checkFinite(X)
}

// checkFinite rejects NaN and infinite values, naming the first.
func checkFinite(X models.Matrix) error {
	for k, v := range X.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("baseline: row %d column %d is %v, want a finite value", k/X.Cols, k%X.Cols, v)
		}
	}
	return nil
}

// subsample returns max rows of [0, n) drawn without replacement, in
// increasing order, or nil (meaning all rows) when n <= max.
func subsample(n, max int, rng *rand.Rand) []int {
	if max <= 0 || n <= max {
		return nil
	}
	perm := rng.Perm(n)[:max]
	slices.Sort(perm)
	return perm
}

// newRand returns the generator for one seeded stream.
func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
