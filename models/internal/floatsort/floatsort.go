// Package floatsort sorts floats by radix: the float32 sort the GBDT's
// binning and drift's quantile edges run over hundreds of thousands of
// values per column, and the float64 sort of validation scores the
// metrics rank, where a comparison sort costs several times more.
package floatsort

import (
	"math"
	"slices"
)

// radixBits is the digit width: three passes of 11 bits cover 32 bits
// with a 2048-entry count table that stays in L1; mask selects a digit.
const (
	radixBits = 11
	mask      = 1<<radixBits - 1
)

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
	// Each key's three digits are counted as it is made.
	keys := make([]uint32, len(vals))
	var count [3][1 << radixBits]int
	for i, v := range vals {
		k := key(v)
		keys[i] = k
		count[0][k&mask]++
		count[1][(k>>radixBits)&mask]++
		count[2][k>>(2*radixBits)]++
	}
	keys = sortKeys(keys, count[:])
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

// Float64s sorts vals ascending as Float32s does, over 64-bit keys: up to
// six passes of 11 bits, a digit every key shares skipped (scores in
// [0, 1] share their sign and most exponent bits).
func Float64s(vals []float64) {
	if len(vals) < 256 {
		slices.Sort(vals)
		return
	}
	keys := make([]uint64, len(vals))
	var count [(64 + radixBits - 1) / radixBits][1 << radixBits]int
	for i, v := range vals {
		k := key64(v)
		keys[i] = k
		for d := range count {
			count[d][(k>>(d*radixBits))&mask]++
		}
	}
	keys = sortKeys(keys, count[:])
	for i, k := range keys {
		vals[i] = value64(k)
	}
}

// key64 and value64 are key and value for float64.
func key64(v float64) uint64 {
	b := math.Float64bits(v)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | 1<<63
}

func value64(k uint64) float64 {
	if k&(1<<63) != 0 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// sortKeys sorts keys with an LSD radix sort, one pass per digit of
// radixBits, given count[d][x], the number of keys whose digit d is x.
// A digit every key shares (the high bits of a column with few distinct
// values, the sign and exponent of probabilities) needs no pass. It
// returns the sorted keys: keys itself or a slice of the same length.
func sortKeys[K ~uint32 | ~uint64](keys []K, count [][1 << radixBits]int) []K {
	tmp := make([]K, len(keys))
	for d := range count {
		shift := d * radixBits
		c := &count[d]
		if c[(keys[0]>>shift)&mask] == len(keys) {
			continue
		}
		sum := 0
		for x, n := range c {
			c[x] = sum
			sum += n
		}
		for _, k := range keys {
			x := (k >> shift) & mask
			tmp[c[x]] = k
			c[x]++
		}
		keys, tmp = tmp, keys
	}
	return keys
}
