// Package stats summarises a stage's repeated measurements for the bench
// tools: the median and range of the finite values.
package stats

import (
	"math"
	"slices"
)

// Spread returns the median (the mean of the two middle values for an even
// count), minimum and maximum of the finite values of vs, and how many
// there are; NaN for all three when there is none.
func Spread(vs []float64) (median, lo, hi float64, n int) {
	xs := slices.DeleteFunc(slices.Clone(vs), func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) })
	n = len(xs)
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN(), 0
	}
	slices.Sort(xs)
	median = xs[n/2]
	if n%2 == 0 {
		median = (xs[n/2-1] + xs[n/2]) / 2
	}
	return median, xs[0], xs[n-1], n
}
