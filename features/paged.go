package features

import "unsafe"

// pagedState is a growable array of per-entity state kept in fixed-size
// pages. Growing it never copies what it holds: the recipient state runs
// to hundreds of megabytes at a million recipients, and append's copy on
// growth cost about a sixth of the build's CPU time and held the old and
// the new array at once, at the peak of the build's memory.
type pagedState[T any] struct {
	pages [][]T
	n     int32 // entries in use
	zero  T     // the value new entries start with
}

const (
	pageBits = 13 // 8192 entries a page (about 1 MB of recipient state)
	pageSize = 1 << pageBits
	pageMask = pageSize - 1
)

func newPagedState[T any](zero T) pagedState[T] { return pagedState[T]{zero: zero} }

// at returns entry i, which must be below len.
func (p *pagedState[T]) at(i int32) *T { return &p.pages[i>>pageBits][i&pageMask] }

// len returns the number of entries in use.
func (p *pagedState[T]) len() int { return int(p.n) }

// ensure makes entries up to and including i exist.
func (p *pagedState[T]) ensure(i int32) {
	for i >= p.n {
		if p.n&pageMask == 0 {
			p.pages = append(p.pages, make([]T, pageSize))
		}
		p.pages[p.n>>pageBits][p.n&pageMask] = p.zero
		p.n++
	}
}

// warmGroup is how many records (or events) a stage warms the state of
// at once: it reads the state entries of the next warmGroup records in
// one loop whose loads do not depend on one another, before it works on
// the records before them, so that their cache misses overlap (see
// classifier.events).
const warmGroup = 16

// warm reads the first byte of entry i, when it exists, so that an
// access soon after finds it in the cache. It changes nothing.
func (p *pagedState[T]) warm(i int32) uint8 {
	if i < 0 || i >= p.n {
		return 0
	}
	return *(*uint8)(unsafe.Pointer(p.at(i)))
}

// warmRecips warms the entries of the recipients of the records of recs
// that want says the stage will look up.
func (p *pagedState[T]) warmRecips(recs []record, want func(*record) bool) uint8 {
	var sum uint8
	for i := range recs {
		if want(&recs[i]) {
			sum += p.warm(recs[i].ids.recip)
		}
	}
	return sum
}
