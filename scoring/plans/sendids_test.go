package plans

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestSendIDs: every id is new once, then a duplicate naming where it was
// first seen, across growth; ids that share prefixes, differ in length or
// are empty stay apart, and so do ids longer than an arena chunk.
func TestSendIDs(t *testing.T) {
	ids := []string{"", "a", "aa", "a\x00", "ab", "ba", strings.Repeat("x", arenaChunk+5), strings.Repeat("x", arenaChunk-1), "y"}
	for i := range 50_000 {
		ids = append(ids, "send-"+strconv.Itoa(i))
	}
	// Reserved up front (the plan's row count), too little, or more
	// after some ids are in: the same answers.
	for _, reserve := range []int{0, 10, len(ids), 3 * len(ids)} {
		t.Run(fmt.Sprint("reserve ", reserve), func(t *testing.T) {
			s := newSendIDs()
			s.reserve(reserve)
			if reserve > 0 && s.maxLoad < reserve {
				t.Fatalf("reserved %d, room for %d", reserve, s.maxLoad)
			}
			for k, id := range ids {
				if k == len(ids)/2 {
					s.reserve(2 * len(ids))
				}
				if f, r, dup := s.add(id, int32(k%3), k+2); dup {
					t.Fatalf("id %q (#%d) reported as a repeat of file %d row %d", id, k, f, r)
				}
			}
			for k, id := range ids {
				f, r, dup := s.add(id, 9, 1)
				if !dup || f != int32(k%3) || r != k+2 {
					t.Fatalf("id %q again: got file %d row %d dup %v, want file %d row %d dup true", id, f, r, dup, k%3, k+2)
				}
			}
			if s.n != len(ids) {
				t.Errorf("%d ids held, want %d", s.n, len(ids))
			}
		})
	}
}
