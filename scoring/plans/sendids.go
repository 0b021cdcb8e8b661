package plans

import (
	"hash/maphash"

	"github.com/failcast/failcast/pipeline"
)

// sendIDs is the set of send ids the survey has seen, with where each was
// first seen: an open-addressing table (linear probing) of hashes and
// places in a byte arena holding the ids (1 MB chunks, never copied).
// Every lookup compares the id itself, so two ids never pass for one. A
// million ids cost about 90 MB and no per-id allocation (a map[string] of cloned strings costs
// about as much memory, a million objects for the collector to scan and
// twice the time).
type sendIDs struct {
	seed     maphash.Seed
	slots    []idSlot
	arena    [][]byte // chunks of arenaChunk bytes (or one id, when longer)
	n        int
	maxLoad  int
	lastSlot int // the slot add filled last
	warmed   uint64
}

// idSlot is a slot of sendIDs; hash 0 marks an empty one.
type idSlot struct {
	hash  uint64
	chunk int32 // the id is arena[chunk][off : off+size]
	off   int32
	size  int32
	file  int32 // index of the file it was first seen in
	row   int   // its row there
}

const arenaChunk = 1 << 20

// id returns the id of a slot.
func (s *sendIDs) id(sl *idSlot) []byte { return s.arena[sl.chunk][sl.off : sl.off+sl.size] }

// store copies id into the arena and returns where it is.
func (s *sendIDs) store(id string) (chunk, off int32) {
	last := len(s.arena) - 1
	if last < 0 || len(s.arena[last])+len(id) > cap(s.arena[last]) {
		s.arena = append(s.arena, make([]byte, 0, max(arenaChunk, len(id))))
		last++
	}
	off = int32(len(s.arena[last]))
	s.arena[last] = append(s.arena[last], id...)
	return int32(last), off
}

func newSendIDs() *sendIDs {
	s := &sendIDs{seed: maphash.MakeSeed()}
	s.slots = make([]idSlot, 1<<12)
	s.maxLoad = len(s.slots) * 3 / 4
	return s
}

func (s *sendIDs) hash(id string) uint64 {
	h := maphash.String(s.seed, id)
	if h == 0 {
		h = 1
	}
	return h
}

// hashes appends the hashes of the send ids of batch to dst.
func (s *sendIDs) hashes(dst []uint64, batch []pipeline.PlannedSend) []uint64 {
	for i := range batch {
		dst = append(dst, s.hash(batch[i].SendID))
	}
	return dst
}

// warm reads the slots the look-ups of hashes hs start at, in a loop
// whose loads do not depend on one another, so that their cache (and
// TLB) misses overlap instead of each look-up waiting for its own: the
// table of a 1M-send plan takes 64 MB, and nearly every look-up missed.
// It changes nothing.
func (s *sendIDs) warm(hs []uint64) {
	mask := len(s.slots) - 1
	var sum uint64
	for _, h := range hs {
		sum += s.slots[int(h)&mask].hash
	}
	s.warmed += sum
}

// add records id as first seen at file, row, unless it was seen before:
// then it returns where, and true.
func (s *sendIDs) add(id string, file int32, row int) (firstFile int32, firstRow int, dup bool) {
	return s.addHashed(id, s.hash(id), file, row)
}

// addHashed is add for id of hash h (s.hash(id)).
func (s *sendIDs) addHashed(id string, h uint64, file int32, row int) (firstFile int32, firstRow int, dup bool) {
	mask := len(s.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		sl := &s.slots[i]
		if sl.hash == 0 {
			break
		}
		if sl.hash == h && int(sl.size) == len(id) && string(s.id(sl)) == id {
			return sl.file, sl.row, true
		}
	}
	if s.n >= s.maxLoad {
		s.grow()
	}
	mask = len(s.slots) - 1
	i := int(h) & mask
	for s.slots[i].hash != 0 {
		i = (i + 1) & mask
	}
	chunk, off := s.store(id)
	s.slots[i] = idSlot{hash: h, chunk: chunk, off: off, size: int32(len(id)), file: file, row: row}
	s.lastSlot = i
	s.n++
	return 0, 0, false
}

// reserve grows the table for n ids in all without growing again
// (n is a hint: at most maxReserve are reserved).
func (s *sendIDs) reserve(n int) {
	size := len(s.slots)
	for size*3/4 < min(n, maxReserve) {
		size *= 2
	}
	if size > len(s.slots) {
		s.resize(size)
	}
}

// maxReserve bounds what reserve believes of a hint (a corrupt footer
// may claim any number of rows): 2M ids, a 128 MB table; past it the
// table grows as ids come.
const maxReserve = 1 << 21

// lastRef returns where the id add stored last is in the arena.
func (s *sendIDs) lastRef() arenaRef {
	sl := &s.slots[s.lastSlot]
	return arenaRef{chunk: uint32(sl.chunk), off: uint32(sl.off), n: uint32(sl.size)}
}

// grow doubles the table.
func (s *sendIDs) grow() { s.resize(2 * len(s.slots)) }

// resize moves the ids into a table of size slots (a power of two).
func (s *sendIDs) resize(size int) {
	old := s.slots
	s.slots = make([]idSlot, size)
	s.maxLoad = len(s.slots) * 3 / 4
	mask := len(s.slots) - 1
	for _, sl := range old {
		if sl.hash == 0 {
			continue
		}
		i := int(sl.hash) & mask
		for s.slots[i].hash != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = sl
	}
}
