package ingest

import (
	"hash/maphash"
	"unsafe"
)

// interner stores each distinct string once and names it by index; index
// 0 is the empty string.
//
// Strings are found by a 64-bit hash of their bytes in an open-addressing
// table (strTable) and confirmed by comparing the bytes, and their bytes
// are kept in arena chunks: the join interns every message id of a group
// (half a million per scale-1 export), and a map with string keys cost
// a lookup of the key's bytes elsewhere in memory for every probe and an
// allocation per new id.
type interner struct {
	tab  strTable // the interner's own strings
	s    []string
	last uint32 // the index returned last, tried first (ids repeat in runs)
	// An overlay's: the table of the interner it extends, read only (its
	// strings are s[:n0]); tab holds the overlay's own.
	base  *strTable
	n0    int
	slots [numSlots]uint32 // per field: the index at returned last
	arena []byte           // the free end of the current chunk of string bytes
}

// Slots of interner.at: fields whose values repeat in runs of records, but
// alternate with each other.
const (
	slotWABA = iota
	slotPhone
	slotCampaign
	slotTemplate
	slotLanguage
	slotTitle
	slotDetail
	numSlots
)

// internSeed seeds the hashes of every interner: an overlay looks its
// strings up in the table of the interner it extends.
var internSeed = maphash.MakeSeed()

// at returns bytes(b), trying first what it returned last for the same
// slot (a field: the same account, number or campaign comes in runs).
func (t *interner) at(slot int, b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	if i := t.slots[slot]; string(b) == t.s[i] {
		return i
	}
	i := t.bytes(b)
	t.slots[slot] = i
	return i
}

// overlay returns an interner that extends t without changing it: t's
// strings keep their indices, new ones are the overlay's own. t must not
// change while the overlay is used (it is read from other goroutines).
func (t *interner) overlay() interner {
	return interner{s: t.s[:len(t.s):len(t.s)], base: &t.tab, n0: len(t.s)}
}

func newInterner() interner {
	return interner{s: []string{""}}
}

// reserve makes room for n more strings without growing the table.
func (t *interner) reserve(n int) {
	t.tab.reserve(t.tab.n + n)
	if cap(t.s)-len(t.s) < n {
		s := make([]string, len(t.s), len(t.s)+n)
		copy(s, t.s)
		t.s = s
	}
}

// bytes returns the index of string(b), adding it if new. Looking up an
// existing string does not allocate.
func (t *interner) bytes(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	if string(b) == t.s[t.last] {
		return t.last
	}
	h := maphash.Bytes(internSeed, b)
	i, ok := t.find(h, b)
	if !ok {
		i = t.add(h, t.keep(b))
	}
	t.last = i
	return i
}

// str returns the index of s, adding it if new (s itself is kept).
func (t *interner) str(s string) uint32 {
	if s == "" {
		return 0
	}
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	h := maphash.Bytes(internSeed, b)
	if i, ok := t.find(h, b); ok {
		return i
	}
	return t.add(h, s)
}

// find looks up b, of hash h, in the base table and then in t's own.
func (t *interner) find(h uint64, b []byte) (uint32, bool) {
	if t.base != nil {
		if i, ok := t.base.find(h, b, t.s); ok {
			return i, true
		}
	}
	return t.tab.find(h, b, t.s)
}

func (t *interner) add(h uint64, s string) uint32 {
	i := uint32(len(t.s))
	t.s = append(t.s, s)
	t.tab.insert(h, i)
	return i
}

// internChunk is the size of the arena chunks strings are copied into;
// longer strings than a sixteenth of it get their own allocation.
const internChunk = 64 << 10

// keep returns a string holding a copy of b, from t's arena.
func (t *interner) keep(b []byte) string {
	if len(b) > internChunk/16 {
		return string(b)
	}
	if len(t.arena) < len(b) {
		t.arena = make([]byte, internChunk)
	}
	c := t.arena[:len(b):len(b)]
	copy(c, b)
	t.arena = t.arena[len(b):]
	return unsafe.String(unsafe.SliceData(c), len(c))
}

// strTable finds strings (kept elsewhere, by index) by a 64-bit hash of
// their bytes: open addressing, linear probing, the hash kept in the slot
// so that a probe reads a string's bytes only when the hashes are equal
// (and then compares them: different strings with equal hashes are told
// apart).
type strTable struct {
	slots []strSlot // a power of two long; idx 0: empty
	n     int
}

type strSlot struct {
	h   uint64
	idx uint32
}

// find returns the index of b, of hash h, whose strings are in s.
func (t *strTable) find(h uint64, b []byte, s []string) (uint32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.idx == 0 {
			return 0, false
		}
		if sl.h == h && s[sl.idx] == string(b) {
			return sl.idx, true
		}
	}
}

// insert adds index idx (> 0) of a string of hash h, not in the table.
func (t *strTable) insert(h uint64, idx uint32) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.reserve(t.n + 1)
	}
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].idx != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = strSlot{h: h, idx: idx}
	t.n++
}

// reserve grows the table to hold n strings within its load factor.
func (t *strTable) reserve(n int) {
	size := max(64, len(t.slots))
	for 4*n > 3*size {
		size *= 2
	}
	if size == len(t.slots) {
		return
	}
	old := t.slots
	t.slots = make([]strSlot, size)
	mask := uint64(size - 1)
	for _, sl := range old {
		if sl.idx == 0 {
			continue
		}
		i := sl.h & mask
		for t.slots[i].idx != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = sl
	}
}
