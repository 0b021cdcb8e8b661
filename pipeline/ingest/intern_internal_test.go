package ingest

import (
	"fmt"
	"hash/maphash"
	"testing"
)

// Strings of equal hashes are told apart by their bytes: the table never
// takes one string for another.
func TestStrTableEqualHashes(t *testing.T) {
	s := []string{"", "wamid.A", "wamid.B", "wamid.C"}
	var tab strTable
	for i := 1; i < len(s); i++ {
		if _, ok := tab.find(7, []byte(s[i]), s); ok {
			t.Fatalf("%q found before it was added", s[i])
		}
		tab.insert(7, uint32(i)) // every string of the same hash
	}
	for i := 1; i < len(s); i++ {
		if got, ok := tab.find(7, []byte(s[i]), s); !ok || got != uint32(i) {
			t.Errorf("find(%q) = %d, %v; want %d", s[i], got, ok, i)
		}
	}
	if got, ok := tab.find(7, []byte("wamid.D"), s); ok {
		t.Errorf("find(wamid.D), not added, = %d", got)
	}
}

// An interner numbers strings in the order they come, whatever the table's
// growth, and an overlay keeps its base's numbers and adds its own.
func TestInterner(t *testing.T) {
	in := newInterner()
	const n = 5000
	for round := range 2 {
		for i := range n {
			id := fmt.Sprintf("wamid.%08d", i)
			if got := in.bytes([]byte(id)); got != uint32(i+1) {
				t.Fatalf("round %d: bytes(%s) = %d, want %d", round, id, got, i+1)
			}
		}
	}
	if in.str("") != 0 || in.bytes(nil) != 0 || in.str("wamid.00000009") != 10 || len(in.s) != n+1 {
		t.Fatalf("empty string, str or count wrong: %d strings", len(in.s))
	}
	o := in.overlay()
	if got := o.bytes([]byte("wamid.00000041")); got != 42 {
		t.Errorf("overlay: base string = %d, want 42", got)
	}
	if got := o.str("new"); got != n+1 || o.s[got] != "new" {
		t.Errorf("overlay: new string = %d, want %d", got, n+1)
	}
	if _, found := in.find(maphash.Bytes(internSeed, []byte("new")), []byte("new")); found || len(in.s) != n+1 {
		t.Errorf("base changed by its overlay: %d strings, new one found: %v", len(in.s), found)
	}
}

// BenchmarkInternMessageIDs measures interning message ids as the join
// does: each id added once, then looked up three times more, in an order
// unlike the adds'.
func BenchmarkInternMessageIDs(b *testing.B) {
	const n = 200_000
	ids := make([][]byte, n)
	for i := range ids {
		ids[i] = fmt.Appendf(nil, "wamid.HBgLNTUxMTk%08dFQIAERgSMjRBQTk%06dAA==", i*7919%n, i)
	}
	for b.Loop() {
		in := newInterner()
		in.reserve(n)
		for _, id := range ids {
			in.bytes(id)
		}
		for r := 1; r <= 3; r++ {
			for i := range ids {
				in.bytes(ids[(i*r*104729)%n])
			}
		}
	}
	b.ReportMetric(float64(b.N)*4*n/b.Elapsed().Seconds(), "ids/s")
}
