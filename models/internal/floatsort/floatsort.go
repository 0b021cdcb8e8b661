// Package floatsort sorts float32 values by radix, the sort the GBDT's
// binning and drift's quantile edges run over hundreds of thousands of
// values per column, where a comparison sort costs several times more.
package floatsort

import (
	"math"
	"slices"
)

// radixBits is the digit width: three passes of 11 bits cover 32 bits
// with a 2048-entry count table that stays in L1.
const radixBits = 11

// Float32s sorts vals ascending with an LSD radix sort over their
// order-preserving integer keys (up to three passes of 11 bits; slices
// under 256 values go to slices.Sort). Equal values keep no particular
// order, and -0 and +0 count as equal. vals must hold no NaN (the caller
// drops them; a NaN would sort by its bits).
func Float32s(vals []float32) {
	if len(vals) < 256 {
		slices.Sort(vals)
		return
	}
	keys := make([]uint32, len(vals))
	tmp := make([]uint32, len(vals))
	for i, v := range vals {
		keys[i] = key(v)
	}
	// One read counts all three digits; a digit every key shares (the
	// high bits of a feature with few distinct values, say) needs no
	// pass.
	const mask = 1<<radixBits - 1
	var count [3][1 << radixBits]int
	for _, k := range keys {
		count[0][k&mask]++
		count[1][(k>>radixBits)&mask]++
		count[2][k>>(2*radixBits)]++
	}
	for p, shift := range [3]uint{0, radixBits, 2 * radixBits} {
		c := &count[p]
		if c[(keys[0]>>shift)&mask] == len(keys) {
			continue
		}
		sum := 0
		for d, n := range c {
			c[d] = sum
			sum += n
		}
		for _, k := range keys {
			d := (k >> shift) & mask
			tmp[c[d]] = k
			c[d]++
		}
		keys, tmp = tmp, keys
	}
	for i, k := range keys {
		vals[i] = value(k)
	}
}

// key maps v to an unsigned integer with the same order: negative values
// have every bit flipped (larger magnitude sorts first), others the sign
// bit set.
func key(v float32) uint32 {
	b := math.Float32bits(v)
	if b&0x80000000 != 0 {
		return ^b
	}
	return b | 0x80000000
}

// value inverts key.
func value(k uint32) float32 {
	if k&0x80000000 != 0 {
		return math.Float32frombits(k &^ 0x80000000)
	}
	return math.Float32frombits(^k)
}
