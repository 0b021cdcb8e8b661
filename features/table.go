package features

import (
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

	// Labels (training only; false / FamilyNone / NoErrorCode when scoring).
	Failed      []bool
	Family      []uint8 // pipeline.Family of the first failure
	Code        []int32 // error code of the first failure, NoErrorCode if none
	Exploration []bool  // the send was an exploration send

	// Stale marks scored rows whose horizon exceeds Lead+Refresh, older
	// than anything the training path produced.
	Stale []bool
}

func newTable() *Table { return &Table{Names: Names()} }

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

func (t *Table) appendIdentity(ts int64, id, campaign, phone, recip string, exploration bool) int32 {
	t.Time = append(t.Time, ts)
	t.ID = append(t.ID, id)
	t.CampaignID = append(t.CampaignID, campaign)
	t.PhoneNumberID = append(t.PhoneNumberID, phone)
	t.Recipient = append(t.Recipient, recip)
	t.Failed = append(t.Failed, false)
	t.Family = append(t.Family, uint8(pipeline.FamilyNone))
	t.Code = append(t.Code, pipeline.NoErrorCode)
	t.Exploration = append(t.Exploration, exploration)
	t.Stale = append(t.Stale, false)
	t.Rows++
	return int32(t.Rows - 1)
}

// appendSend adds the identity columns of a history send.
func (t *Table) appendSend(e *pipeline.Event, en *entities, ids entityIDs) int32 {
	return t.appendIdentity(e.Timestamp, en.msgIDs.clone(e.MessageID), en.camp.names[ids.camp],
		en.phone.names[ids.phone], en.recip.names[ids.recip], e.Exploration)
}

func (t *Table) label(row int, code int32) {
	fam, _ := failureOf(code)
	t.Failed[row] = true
	t.Family[row] = uint8(fam)
	t.Code[row] = code
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
	t.Failed, t.Family, t.Code = t.Failed[:n], t.Family[:n], t.Code[:n]
	t.Exploration, t.Stale = t.Exploration[:n], t.Stale[:n]
}
