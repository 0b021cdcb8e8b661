package features

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestIDTable checks the table against a map, with key 0 (the empty
// mark) and keys that share a home slot.
func TestIDTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tab := newIDTable()
	want := map[uint64]int32{}
	keys := []uint64{0, 1, 1 << 63, ^uint64(0)}
	for range 20000 {
		k := rng.Uint64()
		if rng.IntN(4) == 0 {
			k &= 0xfff // small keys crowd a few home slots
		}
		keys = append(keys, k)
	}
	for _, k := range keys {
		if got := tab.get(k); got != -1 && got != want[k] {
			t.Fatalf("get(%#x) = %d, want %d", k, got, want[k])
		}
		if _, ok := want[k]; !ok {
			if got := tab.get(k); got != -1 {
				t.Fatalf("get(%#x) = %d before put", k, got)
			}
			id := int32(len(want))
			tab.put(k, id)
			want[k] = id
		}
	}
	for k, id := range want {
		if got := tab.get(k); got != id {
			t.Fatalf("get(%#x) = %d, want %d", k, got, id)
		}
	}
}

// TestMsgTable checks put, get and prune against a map.
func TestMsgTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tab := newMsgTable()
	want := map[uint64]message{}
	for i := range 30000 {
		h := rng.Uint64() & 0xffff // repeats: put replaces
		if i%7 == 0 {
			h = 0 // stored as key 1, like h == 1
		}
		m := message{ts: int64(i), row: int32(i)}
		tab.put(h, m)
		want[msgKey(h)] = m
		if i%5000 == 4999 {
			since := int64(i - 3000)
			tab.prune(since)
			for k, m := range want {
				if m.ts < since {
					delete(want, k)
				}
			}
		}
	}
	if tab.n != len(want) {
		t.Fatalf("%d messages in the table, want %d", tab.n, len(want))
	}
	for k, m := range want {
		got := tab.get(k)
		if got == nil || *got != m {
			t.Fatalf("get(%#x) = %v, want %v", k, got, m)
		}
	}
	if got := tab.get(0x1_0000_0000); got != nil {
		t.Fatalf("get of an absent key = %v", got)
	}
}

// TestMsgTablePruneWraps prunes a table whose probe runs wrap from the
// last slot to the first, with expired messages inside the runs.
func TestMsgTablePruneWraps(t *testing.T) {
	tab := newMsgTable()
	last := uint64(len(tab.slots) - 1)
	var keys []uint64
	for k := uint64(1); len(keys) < 600; k++ {
		if slotIndex(k, tab.shift) >= last-3 { // homes in the last 4 slots
			keys = append(keys, k)
		}
	}
	want := map[uint64]message{}
	for i, k := range keys {
		m := message{ts: int64(i % 3), row: int32(i)}
		tab.put(k, m)
		want[k] = m
	}
	if len(tab.slots) != 1024 {
		t.Fatalf("table grew to %d slots; the test needs 1024", len(tab.slots))
	}
	tab.prune(1)
	for k, m := range want {
		got := tab.get(k)
		switch {
		case m.ts < 1 && got != nil:
			t.Fatalf("get(%#x) = %v after prune, want nil", k, got)
		case m.ts >= 1 && (got == nil || *got != m):
			t.Fatalf("get(%#x) = %v after prune, want %v", k, got, m)
		}
	}
	if tab.n != 400 {
		t.Fatalf("%d messages in the table, want 400", tab.n)
	}
}

func FuzzHashedKey(f *testing.F) {
	for _, s := range []string{"h:00000000000000aa", "h:ffffffffffffffff", "h:0000000000000AA0", "h:0123456789abcdeg", "+5511999", "h:", "h:00000000000000aa0", "x:00000000000000aa"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, ok := hashedKey(s)
		valid := len(s) == 18 && strings.HasPrefix(s, "h:") && strings.Trim(s[2:], "0123456789abcdef") == ""
		if ok != valid {
			t.Fatalf("hashedKey(%q) ok = %v, want %v", s, ok, valid)
		}
		if valid {
			want, err := strconv.ParseUint(s[2:], 16, 64)
			if err != nil || k != want {
				t.Fatalf("hashedKey(%q) = %#x, want %#x (%v)", s, k, want, err)
			}
		}
	})
}
