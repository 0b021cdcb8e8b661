package bundle_test

import (
	"fmt"

	"github.com/failcast/failcast/models/bundle"
)

// Predict's class probabilities come from P(fail) and P(class | fail).
func ExampleCombineFamily() {
	pFail := []float64{0.2}
	cond := [][]float64{{0, 0.75, 0.25}} // P(class | fail) for classes 0, 1, 2
	fmt.Printf("%.2f\n", bundle.CombineFamily(pFail, cond)[0])
	// Output: [0.80 0.15 0.05]
}
