package features

import (
	"runtime/debug"

	"github.com/failcast/failcast/pipeline"
)

// Table is a feature table: one row per send, the feature values in X and
// the identity and label columns beside them.
type Table struct {
	Names []string  // feature names, in registry order
	Rows  int       // number of rows
	X     []float32 // row-major Rows x len(Names)

	Time          []int64  // send time, Unix µs UTC
	ID            []string // message id (training) or send id (scoring)
	CampaignID    []string
	PhoneNumberID []string
	Recipient     []string // hashed recipient, as in the history
	Country       []string // the recipient's country ("" unknown), as in the history or plan

	// Labels (training only; false / FamilyNone / NoErrorCode when scoring).
	Failed      []bool
	Family      []uint8 // pipeline.Family of the first failure
	Code        []int32 // error code of the first failure, NoErrorCode if none
	Exploration []bool  // the send was an exploration send

	// Stale marks scored rows whose horizon exceeds Lead+Refresh, older
	// than anything the training path produced.
	Stale []bool
}

// Col returns the column of the named feature, or -1.
func (t *Table) Col(name string) int {
	for i, n := range t.Names {
		if n == name {
			return i
		}
	}
	return -1
}

// Row returns the feature values of row i, aliasing X.
func (t *Table) Row(i int) []float32 {
	n := len(t.Names)
	return t.X[i*n : (i+1)*n]
}

// At returns the value of the named feature in row i; it panics when the
// feature does not exist.
func (t *Table) At(i int, name string) float32 {
	j := t.Col(name)
	if j < 0 {
		panic("features: no feature " + name)
	}
	return t.X[i*len(t.Names)+j]
}

func (t *Table) appendIdentity(ts int64, id, campaign, phone, recip, country string, exploration bool) int32 {
	t.Time = append(t.Time, ts)
	t.ID = append(t.ID, id)
	t.CampaignID = append(t.CampaignID, campaign)
	t.PhoneNumberID = append(t.PhoneNumberID, phone)
	t.Recipient = append(t.Recipient, recip)
	t.Country = append(t.Country, country)
	t.Failed = append(t.Failed, false)
	t.Family = append(t.Family, uint8(pipeline.FamilyNone))
	t.Code = append(t.Code, pipeline.NoErrorCode)
	t.Exploration = append(t.Exploration, exploration)
	t.Stale = append(t.Stale, false)
	t.Rows++
	return int32(t.Rows - 1)
}

// truncate keeps the first n rows.
func (t *Table) truncate(n int) {
	if n >= t.Rows {
		return
	}
	t.Rows = n
	t.X = t.X[:n*len(t.Names)]
	t.Time, t.ID, t.CampaignID = t.Time[:n], t.ID[:n], t.CampaignID[:n]
	t.PhoneNumberID, t.Recipient = t.PhoneNumberID[:n], t.Recipient[:n]
	if len(t.Country) > n {
		t.Country = t.Country[:n]
	}
	t.Failed, t.Family, t.Code = t.Failed[:n], t.Family[:n], t.Code[:n]
	t.Exploration, t.Stale = t.Exploration[:n], t.Stale[:n]
}

// ConcatTables joins the tables BuildTrainingChunks hands on, in order,
// into one (an empty table when there are none), as BuildTraining does.
// The parts are consumed: their memory goes as they are copied. All parts
// must have the same feature names.
func ConcatTables(parts []*Table) *Table {
	if len(parts) == 0 {
		return newTable()
	}
	return concatTables(parts, parts[0].Names)
}

// concatTables joins tables with the same feature names into one,
// dropping each part once it is copied. Without care the copy would hold
// every row twice at its peak; so the parts' identity columns go before
// the feature values are copied, and the copied parts are handed back to
// the OS every quarter of the table, at least every bigCopyBytes (the
// joined X is fresh memory, resident only as it is written). The peak of
// a build is before the join, where the engine state and the parts meet.
func concatTables(parts []*Table, names []string) *Table {
	if len(parts) == 1 {
		return parts[0]
	}
	n := 0
	for _, p := range parts {
		n += p.Rows
	}
	t := &Table{Names: names, Rows: n}
	t.Time = make([]int64, 0, n)
	t.ID = make([]string, 0, n)
	t.CampaignID = make([]string, 0, n)
	t.PhoneNumberID = make([]string, 0, n)
	t.Recipient = make([]string, 0, n)
	t.Country = make([]string, 0, n)
	t.Failed = make([]bool, 0, n)
	t.Family = make([]uint8, 0, n)
	t.Code = make([]int32, 0, n)
	t.Exploration = make([]bool, 0, n)
	t.Stale = make([]bool, 0, n)
	for _, p := range parts {
		t.Time = append(t.Time, p.Time...)
		t.ID = append(t.ID, p.ID...)
		t.CampaignID = append(t.CampaignID, p.CampaignID...)
		t.PhoneNumberID = append(t.PhoneNumberID, p.PhoneNumberID...)
		t.Recipient = append(t.Recipient, p.Recipient...)
		t.Country = append(t.Country, countries(p)...)
		t.Failed = append(t.Failed, p.Failed...)
		t.Family = append(t.Family, p.Family...)
		t.Code = append(t.Code, p.Code...)
		t.Exploration = append(t.Exploration, p.Exploration...)
		t.Stale = append(t.Stale, p.Stale...)
		x := p.X
		*p = Table{X: x}
	}
	total := n * len(names) * 4
	big := total >= bigCopyBytes
	if big {
		debug.FreeOSMemory()
	}
	// Each hand-back is a full collection, whose cost grows with the
	// heap: hand back every quarter of the table (at least bigCopyBytes),
	// so a big table costs a fixed number of them.
	every := max(bigCopyBytes, total/4)
	t.X = make([]float32, 0, n*len(names))
	copied := 0
	for i, p := range parts {
		t.X = append(t.X, p.X...)
		parts[i] = nil
		if copied += len(p.X) * 4; big && copied >= every {
			debug.FreeOSMemory()
			copied = 0
		}
	}
	return t
}

// bigCopyBytes is how much of a big table concatTables copies between
// handing memory back to the OS.
const bigCopyBytes = 256 << 20

// labelChunk holds the identity and label columns of up to chunkRows
// consecutive rows while they are built. Entity columns are ids until
// the chunk becomes a Table.
type labelChunk struct {
	first              int32 // index of the chunk's first row
	time               []int64
	id                 []string
	camp, phone, recip []int32
	country            []int32
	failed             []bool
	family             []uint8
	code               []int32
	expl               []bool
}

func newLabelChunk(first int32) *labelChunk {
	return &labelChunk{
		first: first,
		time:  make([]int64, 0, chunkRows), id: make([]string, 0, chunkRows),
		camp: make([]int32, 0, chunkRows), phone: make([]int32, 0, chunkRows), recip: make([]int32, 0, chunkRows),
		country: make([]int32, 0, chunkRows),
		failed:  make([]bool, 0, chunkRows), family: make([]uint8, 0, chunkRows), code: make([]int32, 0, chunkRows),
		expl: make([]bool, 0, chunkRows),
	}
}

// table turns the first n rows of the chunk and their feature values x
// into a Table.
func (c *labelChunk) table(n int, x []float32, names []string, en *entities) *Table {
	t := &Table{Names: names, Rows: n, X: x[:n*len(names)], Time: c.time[:n], ID: c.id[:n],
		Failed: c.failed[:n], Family: c.family[:n], Code: c.code[:n], Exploration: c.expl[:n], Stale: make([]bool, n)}
	t.CampaignID = make([]string, n)
	t.PhoneNumberID = make([]string, n)
	t.Recipient = make([]string, n)
	t.Country = make([]string, n)
	for i := range n {
		t.CampaignID[i] = en.camp.names[c.camp[i]]
		t.PhoneNumberID[i] = en.phone.names[c.phone[i]]
		t.Recipient[i] = en.recip.names[c.recip[i]]
		t.Country[i] = en.country.names[c.country[i]]
	}
	return t
}

// rowStore holds the identity and label columns of the training rows
// not yet handed on, in chunks of chunkRows rows. Only the classifier's
// goroutine uses it.
type rowStore struct {
	chunks []*labelChunk // pending chunks, in row order
	rows   int32         // rows added so far
}

// add appends the identity columns of a history send and returns its row.
func (s *rowStore) add(e *pipeline.Event, en *entities, ids entityIDs) int32 {
	row := s.rows
	if row%chunkRows == 0 {
		s.chunks = append(s.chunks, newLabelChunk(row))
	}
	c := s.chunks[len(s.chunks)-1]
	c.time = append(c.time, e.Timestamp)
	c.id = append(c.id, en.msgIDs.clone(e.MessageID))
	c.camp = append(c.camp, ids.camp)
	c.phone = append(c.phone, ids.phone)
	c.recip = append(c.recip, ids.recip)
	c.country = append(c.country, ids.country)
	c.failed = append(c.failed, false)
	c.family = append(c.family, uint8(pipeline.FamilyNone))
	c.code = append(c.code, pipeline.NoErrorCode)
	c.expl = append(c.expl, e.Exploration)
	s.rows++
	return row
}

// label marks row as failed with code. The row's chunk is still pending:
// a chunk is handed on only once its labels are final.
func (s *rowStore) label(row int32, code int32) {
	c := s.chunks[int(row-s.chunks[0].first)/chunkRows]
	i := row - c.first
	fam, _ := failureOf(code)
	c.failed[i] = true
	c.family[i] = uint8(fam)
	c.code[i] = code
}

// SelectRows returns a new table of the given rows of t, in the order
// given.
func (t *Table) SelectRows(rows []int) *Table {
	nf, n := len(t.Names), len(rows)
	// Every column sized at once: growing them row by row cost about as
	// much as copying the rows.
	out := &Table{Names: t.Names, Rows: n, X: make([]float32, 0, n*nf), Time: make([]int64, 0, n),
		ID: make([]string, 0, n), CampaignID: make([]string, 0, n), PhoneNumberID: make([]string, 0, n),
		Recipient: make([]string, 0, n), Country: make([]string, 0, n), Failed: make([]bool, 0, n),
		Family: make([]uint8, 0, n), Code: make([]int32, 0, n), Exploration: make([]bool, 0, n), Stale: make([]bool, 0, n)}
	for _, i := range rows {
		out.X = append(out.X, t.X[i*nf:(i+1)*nf]...)
		out.Time = append(out.Time, t.Time[i])
		out.ID = append(out.ID, t.ID[i])
		out.CampaignID = append(out.CampaignID, t.CampaignID[i])
		out.PhoneNumberID = append(out.PhoneNumberID, t.PhoneNumberID[i])
		out.Recipient = append(out.Recipient, t.Recipient[i])
		out.Country = append(out.Country, t.countryOf(i))
		out.Failed = append(out.Failed, t.Failed[i])
		out.Family = append(out.Family, t.Family[i])
		out.Code = append(out.Code, t.Code[i])
		out.Exploration = append(out.Exploration, t.Exploration[i])
		out.Stale = append(out.Stale, t.Stale[i])
	}
	return out
}

// countryOf returns row i's country, "" when the table has no country
// column (a table read back from a features file).
func (t *Table) countryOf(i int) string {
	if i < len(t.Country) {
		return t.Country[i]
	}
	return ""
}

// countries returns t's country column, "" for every row when it has none.
func countries(t *Table) []string {
	if len(t.Country) == t.Rows {
		return t.Country
	}
	return make([]string, t.Rows)
}
