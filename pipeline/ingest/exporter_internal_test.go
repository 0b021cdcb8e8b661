package ingest

import (
	"fmt"
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
