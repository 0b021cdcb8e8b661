package simulate

import (
	"math"
	"math/rand/v2"

	"github.com/failcast/failcast/internal/mix"
)

// Random streams. World-level decisions (entities, schedules, the
// campaigns of a day) each draw from their own PCG stream, seeded with the
// config seed and a stream key; the draws of one send come from a stream
// keyed on the send's identity (see sendKey), so they do not depend on what
// else was simulated.

// Stream keys of world-level random streams.
const (
	streamEntities uint64 = 0x454e544954494553 + iota
	streamTokens
	streamOutages
	streamTemplates
	streamPlan
	streamRaw
	streamNumbers
	streamRestrictions
	streamDay      = 0x4441590000000000 // + day number
	streamVersions = 0x5645520000000000 // + day number
	streamInbound  = 0x494e420000000000 // + day number
)

// newStream returns a random stream for a world-level purpose.
func newStream(seed, key uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, key))
}

// mix64 is SplitMix64's output from state x: a bijective scramble of x.
func mix64(x uint64) uint64 { return mix.Finalize(x + mix.Golden) }

// hashString returns the 64-bit FNV-1a hash of s.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// sendKey returns the randomness key of a send from its id.
func sendKey(id string) uint64 { return mix64(hashString(id)) }

// unitFloat maps a 64-bit hash to [0, 1).
func unitFloat(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// logNormal returns a log-normal draw with the given median and shape.
func logNormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

// uniform returns a uniform draw in [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// uniformDuration returns a uniform duration in [lo, hi) microseconds.
func uniformDuration(r *rand.Rand, lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + r.Int64N(hi-lo)
}

// pick returns an index drawn with the given weights (which need not sum
// to one); it returns 0 for an empty or all-zero slice.
func pick(r *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	if total <= 0 {
		return 0
	}
	x := r.Float64() * total
	for i, w := range weights {
		x -= w
		if x < 0 {
			return i
		}
	}
	return len(weights) - 1
}
