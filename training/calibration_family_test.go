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
	"github.com/failcast/failcast/pipeline"
)

// familyValidation is a validation window of utility template sends,
// over several campaigns, where the model's P(fail) is right but its
// family split is not: it gives throttle 30% of every send's failure mass,
// recipient 50% and transient 20%. One send in ten belongs to a campaign
// above its number's throughput (the throughput mechanism fails 60% of
// them, all throttle); the others fail with the model's P(fail), never
// throttle: recipient 70% and transient 30% of the time, or, when
// throttleLate, throttle at the model's 30% in the second half of the
// window. It returns the Tables, the model's P(fail) and split.
func familyValidation(n int, seed uint64, throttleLate bool) (*Tables, []float64, [][]float64) {
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
		switch {
		case i%10 == 0:
			x[sends1s] = 199 // 200 msg/s against 80: 60% fail
			if rng.Float64() < 0.6 {
				fam = pipeline.FamilyThrottle
			}
		case rng.Float64() < p:
			switch u := rng.Float64(); {
			case throttleLate && i >= n/2 && u < 0.3:
				fam = pipeline.FamilyThrottle
			case u < 0.7:
				fam = pipeline.FamilyRecipient
			default:
				fam = pipeline.FamilyTransient
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
// fail with it. The family weights take it off (scoring's expected
// throttle failures were 3x the actual ones before them), lower P(fail)
// by as much, and leave transient alone: no mechanism covers it, so its
// under-forecast here is the window's and is not fitted.
func TestFamilyCalibration(t *testing.T) {
	s, valid, split := familyValidation(40000, 5, false)
	tr := newTrainer(DefaultConfig())
	cal := tr.calibrate(s, valid, split)
	fc := cal.family
	if !fc.kept {
		t.Fatalf("no family weights: %s", fc.note)
	}
	if w := fc.weights.Weight(int(pipeline.FamilyThrottle)); w > 0.3 {
		t.Errorf("throttle weight %.3f, want at most 0.3 (the model's throttle mass off the mechanism does not fail)", w)
	}
	if w := fc.weights.Weight(int(pipeline.FamilyTransient)); w != 1 {
		t.Errorf("transient weight %.3f, want 1: no mechanism covers it", w)
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
		want := fc.weights.Apply(valid[k], split[k])
		if cal.platt != nil {
			want = cal.platt.Apply(want)
		}
		if math.Abs(cal.model[k]-want) > 1e-12 {
			t.Fatalf("row %d: threshold score %v, want %v", k, cal.model[k], want)
		}
	}
	if got := cal.serving(bundle.Serving{}).FamilyWeights; got.Weight(int(pipeline.FamilyThrottle)) != fc.weights.Weight(int(pipeline.FamilyThrottle)) {
		t.Errorf("serving stores %v, want %v", got, fc.weights)
	}
}

// TestFamilyCalibrationOutOfTime: a weight fitted on the first half of
// the window that the second half contradicts (throttle fails at the
// model's rate there) is not kept.
func TestFamilyCalibrationOutOfTime(t *testing.T) {
	s, valid, split := familyValidation(40000, 6, true)
	tr := newTrainer(DefaultConfig())
	fc := tr.calibrate(s, valid, split).family
	if w := fc.weights.Weight(int(pipeline.FamilyThrottle)); w != 1 {
		t.Errorf("throttle weight %.3f kept, want none: %s", w, fc.check.String())
	}
	if !fc.check.done || fc.check.weights.Weight(int(pipeline.FamilyThrottle)) >= 1 {
		t.Errorf("fixture: the first half should fit a throttle weight below 1: %s", fc.check.String())
	}
}

// TestMechanismFamilies: the families the weights may move are those of
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
