package mix

// Golden is SplitMix64's increment, 2^64 divided by the golden ratio.
const Golden = 0x9e3779b97f4a7c15

// Finalize is SplitMix64's finaliser (Stafford's "Mix13"): a bijective
// scramble of x in which every output bit depends on every input bit.
// SplitMix64's n-th output from state s is Finalize(s + n*Golden).
func Finalize(x uint64) uint64 {
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
