// Package lowerbound finds a value's bin among sorted bin edges, the
// search the GBDT's binning and drift's counting run once per value.
package lowerbound

// Float is the element type of bin edges.
type Float interface{ ~float32 | ~float64 }

// Search returns the index of the first edge >= v, or len(edges) when v
// is above them all, and 0 for NaN: slices.BinarySearch's answer. It is
// branch-free, the comparison feeding a flag move, because data values
// land in unpredictable bins and a mispredicted branch costs more than
// the search; the answer stays in [base, base+n] while n halves.
func Search[F Float](edges []F, v F) int {
	n := len(edges)
	if n == 0 {
		return 0
	}
	base := 0
	for n > 1 {
		half := n >> 1
		base += half & -b2i(edges[base+half-1] < v)
		n -= half
	}
	return base + b2i(edges[base] < v)
}

// b2i is 1 for true, 0 for false; the compiler makes it a flag move.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
