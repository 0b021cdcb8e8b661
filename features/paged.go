package features

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
