package training

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/features/mechanism"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/calibrate"
	"github.com/failcast/failcast/pipeline"
)

// familyValidation is a validation window of utility template sends,
// over several campaigns, where the model's family split over-forecasts
// throttle: it gives throttle 30% of every send's failure mass, recipient
// 50% and transient 20%. One send in ten belongs to a campaign above its
// number's throughput (the throughput mechanism fails 60% of them, all
// throttle); the others fail with the model's recipient and transient
// probabilities only: its throttle mass there is excess. With
// throttleLate, they also fail throttle at the model's 30% in the second
// half of the window. It returns the Tables, the model's P(fail) and
// split.
//
// With confident, one send in twenty outside the mechanism is one the
// model sees its number bursting (P(fail) 0.5, 80% of it throttle), and
// it fails throttle at that 40%: the model's own throttle signal is right
// there.
//
// With incidents, the sends outside the mechanism also fail, at 30% of
// P(fail), with template_state: failures no model family foresaw, which
// the throttle excess happens to make up for in the sum.
func familyValidation(n int, seed uint64, throttleLate, confident bool, incidents ...bool) (*Tables, []float64, [][]float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	names := features.Names()
	col := featureColumn
	typ, cat, tpl, sends1s := col(features.NameSendTypeIndex), col(features.NameSendCategoryIndex), col(features.NameSendHasTemplate), col(features.NameCampaignSends1s)
	tab := &features.Table{Names: names, Rows: n, X: make([]float32, n*len(names))}
	start := time.Date(2026, 10, 29, 0, 0, 0, 0, time.UTC).UnixMicro()
	valid := make([]float64, n)
	split := make([][]float64, n)
	for i := range n {
		x := tab.Row(i)
		x[typ], x[cat], x[tpl] = 1, 1, 1
		p := 0.02 + 0.2*rng.Float64()*rng.Float64()
		valid[i] = p
		split[i] = make([]float64, pipeline.NumFamilies)
		split[i][0] = 1 - p
		split[i][pipeline.FamilyThrottle] = 0.3 * p
		split[i][pipeline.FamilyRecipient] = 0.5 * p
		split[i][pipeline.FamilyTransient] = 0.2 * p
		fam := pipeline.FamilyNone
		burst := confident && i%20 == 5
		if burst {
			p = 0.5
			valid[i] = p
			split[i][0] = 1 - p
			split[i][pipeline.FamilyThrottle] = 0.8 * p
			split[i][pipeline.FamilyRecipient] = 0.1 * p
			split[i][pipeline.FamilyTransient] = 0.1 * p
		}
		switch {
		case burst:
			if rng.Float64() < 0.4 {
				fam = pipeline.FamilyThrottle
			}
		case i%10 == 0:
			x[sends1s] = 199 // 200 msg/s against 80: 60% fail
			if rng.Float64() < 0.6 {
				fam = pipeline.FamilyThrottle
			}
		default:
			switch u := rng.Float64(); {
			case u < 0.5*p:
				fam = pipeline.FamilyRecipient
			case u < 0.7*p:
				fam = pipeline.FamilyTransient
			case u < p && throttleLate && i >= n/2:
				fam = pipeline.FamilyThrottle
			case u < p && len(incidents) > 0 && incidents[0]:
				fam = pipeline.FamilyTemplateState
			}
		}
		tab.Time = append(tab.Time, start+int64(i)*1e6)
		tab.Country = append(tab.Country, "BR")
		tab.Failed = append(tab.Failed, fam != pipeline.FamilyNone)
		tab.Family = append(tab.Family, uint8(fam))
		tab.CampaignID = append(tab.CampaignID, fmt.Sprintf("c%d", i%13))
		tab.PhoneNumberID = append(tab.PhoneNumberID, "p")
		tab.Recipient = append(tab.Recipient, fmt.Sprintf("r%d", i))
	}
	s := &Tables{Table: tab, Valid: indexes(n), ValidLabels: tab.Failed, ValidFailures: count(tab.Failed)}
	return s, valid, split
}

// TestFamilyCalibration: the model spreads throttle probability over
// every send, although only the sends the throughput mechanism covers
// fail with it. The family maps take it off (scoring's expected
// throttle failures were 1.3x the actual ones before them; the fixture
// checks at least 1.25x), lower P(fail) by as much, and leave transient
// alone: no mechanism covers it.
func TestFamilyCalibration(t *testing.T) {
	s, valid, split := familyValidation(40000, 5, false, false)
	tr := newTrainer(DefaultConfig())
	cal := tr.calibrate(s, valid, split)
	fc := cal.family
	if !fc.kept {
		t.Fatalf("no family weights: %s", fc.note)
	}
	thr := int(pipeline.FamilyThrottle)
	if q := fc.maps.ApplyClass(thr, 0.03); q > 0.3*0.03 {
		t.Errorf("throttle map %+v takes 0.03 to %.4f, want at most 0.3 of it (the model's throttle mass off the mechanism does not fail)", fc.maps.Map(thr), q)
	}
	if m := fc.maps.Map(int(pipeline.FamilyTransient)); m != calibrate.Identity {
		t.Errorf("transient map %+v, want none: no mechanism covers it", m)
	}
	for _, f := range []pipeline.Family{pipeline.FamilyThrottle, pipeline.FamilyRecipient} {
		before, after, actual := fc.byBefore[f], fc.byAfter[f], fc.byActual[f]
		if math.Abs(after/actual-1) > 0.2 {
			t.Errorf("%s: scoring's expected failures %.0f (uncalibrated %.0f) vs %.0f actual, want within 20%%", f, after, before, actual)
		}
	}
	if fc.byBefore[pipeline.FamilyThrottle] < 1.25*fc.byActual[pipeline.FamilyThrottle] {
		t.Errorf("fixture: uncalibrated throttle %.0f vs %.0f actual, want an over-forecast", fc.byBefore[pipeline.FamilyThrottle], fc.byActual[pipeline.FamilyThrottle])
	}
	// The thresholds see the weighted P(fail).
	for k := range valid {
		want := fc.maps.Apply(valid[k], split[k])
		if cal.platt != nil {
			want = cal.platt.Apply(want)
		}
		if math.Abs(cal.model[k]-want) > 1e-12 {
			t.Fatalf("row %d: threshold score %v, want %v", k, cal.model[k], want)
		}
	}
	if got := cal.serving(bundle.Serving{}).FamilyMaps; got.Map(thr) != fc.maps.Map(thr) {
		t.Errorf("serving stores %v, want %v", got, fc.maps)
	}
}

// TestFamilyCalibrationOutOfTime: a map fitted on the first half of
// the window that the second half contradicts (throttle fails at the
// model's rate there) is not kept.
func TestFamilyCalibrationOutOfTime(t *testing.T) {
	s, valid, split := familyValidation(40000, 6, true, false)
	tr := newTrainer(DefaultConfig())
	fc := tr.calibrate(s, valid, split).family
	thr := int(pipeline.FamilyThrottle)
	if m := fc.maps.Map(thr); m != calibrate.Identity {
		t.Errorf("throttle map %+v kept, want none: %s", m, fc.check.String())
	}
	if !fc.check.done || fc.check.maps.ApplyClass(thr, 0.03) >= 0.03 {
		t.Errorf("fixture: the first half should fit a throttle map that lowers it: %s", fc.check.String())
	}
}

// TestMechanismFamilies: the families the maps may move are those of
// the mechanisms.
func TestMechanismFamilies(t *testing.T) {
	got := mechanismFamilies()
	for m := mechanism.Mechanism(0); m < mechanism.NumMechanisms; m++ {
		if !got[m.Family()] {
			t.Errorf("%s's family %s not eligible", m.Kind(), m.Family())
		}
	}
	if got[pipeline.FamilyTransient] || got[pipeline.FamilyTemplateState] || got[pipeline.FamilyNone] {
		t.Error("a family no mechanism covers is eligible")
	}
}

// TestFamilyCalibrationKeepsConfident: where the model's own throttle
// probability is confident and right (bursts it sees), the map keeps it,
// while it takes the thin throttle mass off every other send; a constant
// factor would cut both alike and turn the bursts' likely family to
// recipient.
func TestFamilyCalibrationKeepsConfident(t *testing.T) {
	s, valid, split := familyValidation(40000, 8, false, true)
	fc := newTrainer(DefaultConfig()).calibrate(s, valid, split).family
	thr := int(pipeline.FamilyThrottle)
	m := fc.maps.Map(thr)
	if m == calibrate.Identity {
		t.Fatalf("no throttle map: %s", fc.note)
	}
	if q := fc.maps.ApplyClass(thr, 0.4); q < 0.3 {
		t.Errorf("throttle map %+v takes a confident 0.4 to %.3f, want at least 0.3 (those sends fail throttle at 0.4)", m, q)
	}
	if q := fc.maps.ApplyClass(thr, 0.03); q > 0.01 {
		t.Errorf("throttle map %+v takes the thin 0.03 to %.4f, want at most 0.01", m, q)
	}
	if after, actual := fc.byAfter[thr], fc.byActual[thr]; math.Abs(after/actual-1) > 0.2 {
		t.Errorf("throttle: expected %.0f (uncalibrated %.0f) vs %.0f actual, want within 20%%", after, fc.byBefore[thr], actual)
	}
}

// TestFamilyCalibrationPlattDecidedBefore: the model's P(fail) sums to the
// window's failures, its throttle excess making up for failures of a
// family it did not foresee. The family maps take the excess off; a
// Platt map fitted after them would lift every send for the unforeseen
// failures, and is not stored: the model's P(fail) before the maps needs
// none.
func TestFamilyCalibrationPlattDecidedBefore(t *testing.T) {
	s, valid, split := familyValidation(40000, 9, false, false, true)
	tr := newTrainer(DefaultConfig())
	cal := tr.calibrate(s, valid, split)
	if !cal.family.kept {
		t.Fatalf("no family maps: %s", cal.family.note)
	}
	if cal.platt != nil {
		t.Errorf("a Platt map %+v stored", *cal.platt)
	}
	// The fixture: fitted on the mapped P(fail) a map is kept.
	mv, mf := cal.family.apply(valid, split)
	if after := tr.calibrateFail(s, mv, mf); after.platt == nil {
		t.Fatalf("fixture: no Platt map after the family maps either: %s", after.note)
	}
	if before := tr.calibrateFail(s, valid, split); before.platt != nil {
		t.Fatalf("fixture: the model's P(fail) needs a map: %+v", *before.platt)
	}
	for k := range valid {
		if want := cal.family.maps.Apply(valid[k], split[k]); math.Abs(cal.model[k]-want) > 1e-12 {
			t.Fatalf("row %d: threshold score %v, want the mapped %v", k, cal.model[k], want)
		}
	}
}
