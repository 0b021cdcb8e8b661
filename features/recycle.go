package features

import "sync"

// Tables and feature matrices that scoring hands back (Scorer.Recycle)
// are reused by later batches, so that scoring a plan does not allocate
// (and collect) a fresh table per batch: for a 1M-send plan that was
// about 600 MB of garbage.
var (
	tablePool sync.Pool // *Table with empty columns
	xPool     sync.Pool // *[]float32
)

// Recycle hands back a table Next returned, once the caller is done with
// it and everything taken from it (X, the identity columns): a later
// Next may reuse its memory. Tables not handed back are simply collected.
func (s *Scorer) Recycle(t *Table) {
	if t == nil {
		return
	}
	recycleX(t)
	clear(t.ID)
	clear(t.CampaignID)
	clear(t.PhoneNumberID)
	clear(t.Recipient)
	clear(t.Country)
	*t = Table{
		Names: t.Names[:0],
		Time:  t.Time[:0], ID: t.ID[:0], CampaignID: t.CampaignID[:0], PhoneNumberID: t.PhoneNumberID[:0], Recipient: t.Recipient[:0],
		Country: t.Country[:0],
		Failed:  t.Failed[:0], Family: t.Family[:0], Code: t.Code[:0], Exploration: t.Exploration[:0], Stale: t.Stale[:0],
	}
	tablePool.Put(t)
}

// RecycleFeatures hands back the feature matrix (X) of a table a training
// build handed on (BuildTrainingChunks), once the caller is done with it
// and with every slice of it: a later chunk of a build may reuse its
// memory instead of allocating and clearing a fresh one. The table's
// other columns are left to the collector. Tables not handed back are
// simply collected.
func RecycleFeatures(t *Table) {
	if t != nil {
		recycleX(t)
		t.X = nil
	}
}

// recycleX puts t's feature matrix in the pool newXChunk takes from.
func recycleX(t *Table) {
	if t.X != nil {
		x := t.X[:0]
		xPool.Put(&x)
	}
}

// newTable returns an empty table with the registry's feature names: a
// recycled one when there is one.
func newTable() *Table {
	t, ok := tablePool.Get().(*Table)
	if !ok {
		return &Table{Names: Names()}
	}
	for _, b := range blocks {
		for _, s := range b.specs {
			t.Names = append(t.Names, s.Name)
		}
	}
	return t
}

// newXChunk returns a zeroed chunk of rows rows starting at row first,
// reusing a recycled matrix when one is large enough.
func newXChunk(first, rows int32) *xChunk {
	n := int(rows) * numFeatures
	if p, ok := xPool.Get().(*[]float32); ok {
		if cap(*p) >= n {
			x := (*p)[:n]
			clear(x)
			return &xChunk{first: first, rows: rows, x: x}
		}
		xPool.Put(p)
	}
	return &xChunk{first: first, rows: rows, x: make([]float32, n)}
}
