package ingest

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// recipientIndex gives each distinct number one index, the same one each
// time it is looked up: numbers that differ only in length (a trailing
// NUL byte), numbers at and beyond the inline size, and repeats in a row.
func TestRecipientIndex(t *testing.T) {
	t.Parallel()
	var idx recipientIndex
	numbers := []string{
		"5511987654321", "5511987654321\x00", "551198765432", "+5511987654321", "1",
		strings.Repeat("9", 22), strings.Repeat("9", 23), strings.Repeat("9", 24), strings.Repeat("9", 40),
		"h:0123456789abcdef0123456789abcdef", "h:0123456789abcdef0123456789abcdee",
	}
	for i := range 5000 { // the table grows several times
		numbers = append(numbers, fmt.Sprintf("55%011d", i*7919))
	}
	want := map[string]uint32{}
	next := uint32(1)
	for round := range 3 {
		for _, n := range numbers {
			for range 2 { // twice in a row: the last-number shortcut
				r, added := idx.index([]byte(n), next)
				w, seen := want[n]
				switch {
				case !seen && (!added || r != next):
					t.Fatalf("round %d: new number %q: index %d added %v, want %d added", round, n, r, added, next)
				case seen && (added || r != w):
					t.Fatalf("round %d: number %q: index %d added %v, want %d", round, n, r, added, w)
				}
				if !seen {
					want[n] = r
					next++
				}
			}
		}
	}
}

// numberWords gives the words of the number copied into 24 zeroed bytes
// with its length in the last, for every length it takes.
func TestNumberWords(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for n := range 24 {
		for range 20 {
			num := make([]byte, n, n+8) // bytes past the end must not be read
			for i := range num {
				num[i] = byte(rng.IntN(256))
			}
			num[:cap(num)][n] = 0xff // a byte after the number, never in its words
			var k [24]byte
			copy(k[:], num)
			k[23] = byte(n)
			wa, wb, wc := binary.LittleEndian.Uint64(k[:]), binary.LittleEndian.Uint64(k[8:]), binary.LittleEndian.Uint64(k[16:])
			if a, b, c := numberWords(num); a != wa || b != wb || c != wc {
				t.Fatalf("numberWords(% x) = %x %x %x, want %x %x %x", num, a, b, c, wa, wb, wc)
			}
		}
	}
}

// sortedRecKeys (keys sorted, recs left in place) orders recs as sorting
// them by (ts, id, seq) does, whole recs compared: with ties on ts and
// on (ts, id), sizes with one element, none, and runs already in order,
// by comparison and by radix (times of a month, of the whole int64 range,
// all equal).
func TestSortRecs(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		n      int
		lo, hi int64 // times
	}{
		{0, 0, 1}, {1, 0, 1}, {2, 0, 1}, {3, 5, 9}, {17, 0, 20}, {1000, 0, 20}, {5000, 0, 20}, // comparison; radix with many ties
		{5000, 1790000000_000000, 1792592000_000000}, // radix, four digits
		{3000, -1 << 62, 1<<62 - 1},                  // radix, the whole range of digits
		{2000, 7, 8},                                 // one time: ties only
	} {
		n := c.n
		recs := make([]rec, n)
		for i := range recs {
			recs[i] = rec{ts: c.lo + rng.Int64N(c.hi-c.lo), id: uint64(rng.IntN(5)), seq: uint32(i), msg: uint32(rng.IntN(1 << 20)), recip: uint32(i * 7)}
		}
		if n == 3000 { // the extremes: a span of 2^64-1
			recs[10].ts, recs[20].ts = math.MinInt64, math.MaxInt64
		}
		if n == 5000 && c.hi == 20 {
			slices.SortFunc(recs[:2500], func(a, b rec) int { return cmp.Compare(a.ts, b.ts) })
		}
		rng.Shuffle(len(recs)/2, func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		want := slices.Clone(recs)
		slices.SortFunc(want, func(a, b rec) int {
			return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(a.id, b.id), cmp.Compare(a.seq, b.seq))
		})
		keys := sortedRecKeys(recs)
		got := make([]rec, 0, n)
		for _, k := range keys {
			if k.ts != recs[k.at].ts {
				t.Fatalf("%d recs in [%d, %d): key of time %d for a rec of time %d", n, c.lo, c.hi, k.ts, recs[k.at].ts)
			}
			got = append(got, recs[k.at])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%d recs in [%d, %d): sortedRecKeys order differs from sorting the recs", n, c.lo, c.hi)
		}
	}
}
