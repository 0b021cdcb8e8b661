package training

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/features/mechanism"
	"github.com/failcast/failcast/models/calibrate"
	"github.com/failcast/failcast/models/metrics"
	"github.com/failcast/failcast/pipeline"
)

// mechanismValidation is a validation window where known mechanisms and
// rules inflate the failure rate: a calibrated model (its P(fail) is the
// true rate of its own causes), 15% of the sends of templates failing on
// their parameters at 70%, 5% US marketing sends (all fail, a rule). It
// returns the Tables and the model's P(fail) of each row.
func mechanismValidation(n int, seed uint64) (*Tables, []float64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	names := features.Names()
	col := featureColumn
	typ, cat, tpl, param := col(features.NameSendTypeIndex), col(features.NameSendCategoryIndex), col(features.NameSendHasTemplate), col(features.NameTemplateParamErrorRate24h)
	persist := col(features.NameTemplateParamErrorsPersist)
	tab := &features.Table{Names: names, Rows: n, X: make([]float32, n*len(names))}
	start := time.Date(2026, 10, 29, 0, 0, 0, 0, time.UTC).UnixMicro()
	valid := make([]float64, n)
	for i := range n {
		x := tab.X[i*len(names) : (i+1)*len(names)]
		x[typ] = 1 // template (pipeline.MessageTypes[1])
		x[cat] = 1 // utility
		x[tpl] = 1
		country := "BR"
		p := 0.01 + 0.12*rng.Float64()*rng.Float64()
		fail := rng.Float64() < p
		switch {
		case i%20 == 0:
			x[cat] = 0 // marketing, to the US
			country, fail = "US", true
		case i%7 < 1:
			x[param], x[persist] = 0.7, 1 // the template's error episode holds
			fail = fail || rng.Float64() < 0.7
		}
		valid[i] = p
		tab.Time = append(tab.Time, start+int64(i)*1e6)
		tab.Country = append(tab.Country, country)
		tab.Failed = append(tab.Failed, fail)
		tab.ID = append(tab.ID, "m")
		tab.CampaignID = append(tab.CampaignID, "c")
		tab.PhoneNumberID = append(tab.PhoneNumberID, "p")
		tab.Recipient = append(tab.Recipient, "r")
		tab.Family = append(tab.Family, 0)
		tab.Code = append(tab.Code, pipeline.NoErrorCode)
		tab.Exploration = append(tab.Exploration, false)
		tab.Stale = append(tab.Stale, false)
	}
	s := &Tables{Table: tab, Valid: indexes(n), ValidLabels: tab.Failed, ValidFailures: count(tab.Failed)}
	return s, valid
}

// TestCalibrationOfCombinedScore: scoring combines the calibrated P(fail)
// with the known mechanisms and decides rule sends itself; the map must
// make that combination sum to the failures. A map fitted on the model's
// P(fail) of every row takes the mechanisms' failures for the model's,
// lifts every send, and scoring then counts them twice (+66% here; the
// demo plan's over-forecast).
func TestCalibrationOfCombinedScore(t *testing.T) {
	if pipeline.MessageTypes[1] != "template" || pipeline.Categories[0] != pipeline.CategoryMarketing || pipeline.Categories[1] != pipeline.CategoryUtility {
		t.Fatal("the test's send feature values no longer name template / marketing / utility")
	}
	s, valid := mechanismValidation(60000, 3)
	tr := newTrainer(DefaultConfig())
	cal := tr.calibrate(s, valid, nil)

	// What scoring outputs with the stored map.
	cols := mechanism.Bind(s.Table.Names)
	expected, actual := 0.0, float64(count(s.ValidLabels))
	for k, i := range s.Valid {
		x := s.Table.Row(i)
		send := cols.SendFromRow(x, s.Table.Time[i], s.Table.Country[i])
		p := valid[k]
		if cal.platt != nil {
			p = cal.platt.Apply(p)
		}
		if cols.Decide(&send, x).Rule != mechanism.NoRule {
			expected += math.Max(p, mechanism.KnownFailurePFail)
			continue
		}
		var pf [pipeline.NumFamilies]float64
		sh := cols.Shares(&send, x, 0)
		mechanism.Combine(&p, &pf, &sh)
		expected += p
	}
	if r := expected/actual - 1; math.Abs(r) > 0.05 {
		t.Errorf("scoring's P(fail) sums to %.0f for %.0f failures (%+.1f%%), want within 5%% (map %+v)", expected, actual, 100*r, cal.platt)
	}
	if math.Abs(sum(cal.after)/actual-1) > 0.05 {
		t.Errorf("the calibration's own figure %.0f for %.0f failures", sum(cal.after), actual)
	}
	if cal.ruleRows != 3000 || cal.mechRows == 0 {
		t.Errorf("rule rows %d (want 3000), mechanism rows %d", cal.ruleRows, cal.mechRows)
	}
	if !cal.check.done {
		t.Errorf("no out-of-time check: %s", cal.check.reason)
	}
	// The thresholds see the model's P(fail) through the map, one per row.
	if len(cal.model) != len(valid) {
		t.Fatalf("%d threshold scores for %d rows", len(cal.model), len(valid))
	}
}

// TestRuleFilter: the sends a rule decides leave the models' rows, and
// are counted.
func TestRuleFilter(t *testing.T) {
	s, _ := mechanismValidation(1000, 4)
	f := &ruleFilter{}
	out := f.drop(s.Table)
	if out.Rows != 950 || f.total() != 50 || len(out.Country) != 950 {
		t.Fatalf("%d rows kept (country %d), %d dropped; want 950, 50", out.Rows, len(out.Country), f.total())
	}
	for i := range out.Rows {
		if out.Country[i] == "US" {
			t.Fatalf("row %d: a US marketing send kept", i)
		}
	}
	if again := f.drop(out); again != out {
		t.Fatal("a part without rule sends was copied")
	}
}

// TestMovableLogLoss: rows a share-1 mechanism fails for sure stay out of
// the calibration's log-losses (one such send that did not fail would
// otherwise add -log(1e-15)/n to every figure), and leaving them out does
// not change which of two probability sets has the lower loss.
func TestMovableLogLoss(t *testing.T) {
	sure := calibrate.Outer{C: 1, D: 0}
	outer := []calibrate.Outer{calibrate.IdentityOuter, calibrate.IdentityOuter, sure, calibrate.IdentityOuter}
	labels := []bool{true, false, false, false}
	a := []float64{0.8, 0.1, 1, 0.2}
	b := []float64{0.6, 0.3, 1, 0.3}
	la, lb := movableLogLoss(a, labels, outer), movableLogLoss(b, labels, outer)
	want, _ := metrics.LogLoss([]float64{0.8, 0.1, 0.2}, []bool{true, false, false})
	if math.Abs(la-want) > 1e-12 {
		t.Errorf("movableLogLoss = %.6f, want %.6f (the certain row left out)", la, want)
	}
	allA, _ := metrics.LogLoss(a, labels)
	allB, _ := metrics.LogLoss(b, labels)
	if allA < 5 {
		t.Fatalf("fixture: the certain row that did not fail should swamp the plain loss, got %.3f", allA)
	}
	if (la < lb) != (allA < allB) {
		t.Errorf("order changed: movable %.4f vs %.4f, all rows %.4f vs %.4f", la, lb, allA, allB)
	}
	if got := movableLogLoss([]float64{1}, []bool{false}, []calibrate.Outer{sure}); !math.IsNaN(got) {
		t.Errorf("no movable rows: %v, want NaN", got)
	}
}

// TestValidationTierLedger: training decides the tier limit on its
// validation rows as scoring does on a plan, in time order through a
// tier ledger: a send the limit refused opens no conversation, so once
// the admitted sends leave the 24-hour window the later ones pass,
// although the feature (which counts every send) still counts the
// refused ones. The rows come out of time order in s.Valid; before the
// ledger every row whose feature count reached the limit was refused.
func TestValidationTierLedger(t *testing.T) {
	names := features.Names()
	col := featureColumn
	typ, cat, tpl := col(features.NameSendTypeIndex), col(features.NameSendCategoryIndex), col(features.NameSendHasTemplate)
	uniq, limit, pair := col(features.NamePhoneUniqueRecipients24h), col(features.NamePhoneTierLimit), col(features.NamePairHoursSincePrevSend)
	rows := []struct {
		hours  int64
		unique float32
		want   float64 // the tier_limit share
	}{
		{0, 0, 0}, {1, 1, 0}, {12, 2, 1}, {13, 3, 1},
		// the sends at 0 and 1 h left the window: two free slots.
		{25, 2, 0}, {26, 3, 0}, {27, 4, 1},
	}
	n := len(rows)
	tab := &features.Table{Names: names, Rows: n, X: make([]float32, n*len(names))}
	start := time.Date(2026, 10, 29, 0, 0, 0, 0, time.UTC).UnixMicro()
	for i, r := range rows {
		x := tab.Row(i)
		x[typ], x[cat], x[tpl] = 1, 1, 1 // a utility template
		x[uniq], x[limit], x[pair] = r.unique, 2, features.NeverHours
		tab.Time = append(tab.Time, start+r.hours*3600e6)
		tab.Country = append(tab.Country, "BR")
		tab.PhoneNumberID = append(tab.PhoneNumberID, "p")
		tab.Recipient = append(tab.Recipient, fmt.Sprintf("r%d", i))
		tab.Failed = append(tab.Failed, r.want == 1)
	}
	valid := []int{6, 5, 4, 3, 2, 1, 0} // not in time order
	labels := make([]bool, n)
	for k, i := range valid {
		labels[k] = tab.Failed[i]
	}
	s := &Tables{Table: tab, Valid: valid, ValidLabels: labels}
	_, outer, _ := validationInputs(s, nil)
	for k, i := range valid {
		if got := outer[k].C; got != rows[i].want {
			t.Errorf("row at %d h, feature count %v: tier share %v, want %v", rows[i].hours, rows[i].unique, got, rows[i].want)
		}
	}
}

// featureColumn is the index of the named feature in features.Names().
func featureColumn(name string) int {
	if j := slices.Index(features.Names(), name); j >= 0 {
		return j
	}
	panic("no feature " + name)
}
