package mechanism

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/pipeline"
)

// rowOf returns Columns and a feature row holding vals (others 0).
func rowOf(vals map[string]float32) (Columns, []float32) {
	names := features.Names()
	x := make([]float32, len(names))
	for j, n := range names {
		if v, ok := vals[n]; ok {
			x[j] = v
		}
	}
	return Bind(names), x
}

// TestOuterIsCombine: the outer map training fits through is exactly
// what Combine does to a calibrated probability, for any shares and
// family split.
func TestOuterIsCombine(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	for it := range 2000 {
		var sh Shares
		for m := range sh {
			switch rng.IntN(3) {
			case 1:
				sh[m] = rng.Float64()
			case 2:
				sh[m] = 1
			}
		}
		if it%7 == 0 {
			sh = Shares{}
		}
		q := rng.Float64()
		var cond []float64
		var pf [pipeline.NumFamilies]float64
		if it%5 != 0 { // a family head
			cond = make([]float64, pipeline.NumFamilies)
			total := 0.0
			for f := 1; f < pipeline.NumFamilies; f++ {
				cond[f] = rng.Float64() * float64(rng.IntN(2))
				total += cond[f]
			}
			for f := 1; f < pipeline.NumFamilies && total > 0; f++ {
				pf[f] = q * cond[f] / total
			}
		}
		p := q
		Combine(&p, &pf, &sh)
		c, d := sh.Outer(cond)
		if want := math.Max(q, c+d*q); math.Abs(p-want) > 1e-12 {
			t.Fatalf("shares %v, split %v, q %v: Combine gives %v, Outer %v + %v q = %v", sh, cond, q, p, c, d, want)
		}
		if sh.Any() != (c != 0 || d != 1) && sh.Any() {
			t.Fatalf("shares %v: outer map %v + %v q", sh, c, d)
		}
	}
}

// TestSendFromRow: training's view of a send from its features decides
// as scoring's view of the planned send does.
func TestSendFromRow(t *testing.T) {
	at := USMarketingCutoff + 3600e6
	plan := pipeline.PlannedSend{ScheduledAt: at, Template: "promo", MessageType: "template", Category: pipeline.CategoryMarketing, Country: "US", MediaBytes: 10 << 20}
	cols, x := rowOf(map[string]float32{
		features.NameSendTypeIndex:      float32(indexOf(pipeline.MessageTypes, "template")),
		features.NameSendCategoryIndex:  float32(indexOf(pipeline.Categories, pipeline.CategoryMarketing)),
		features.NameSendHasTemplate:    1,
		features.NameSendMediaOverLimit: 2,
	})
	fromRow := cols.SendFromRow(x, at, "US")
	fromPlan := FromPlanned(&plan)
	if fromRow != fromPlan {
		t.Fatalf("from the row %+v, from the plan %+v", fromRow, fromPlan)
	}
	if d := cols.Decide(&fromRow, x); d.Rule != RuleUSMarketing {
		t.Fatalf("rule %v, want the US marketing policy", d.Rule)
	}
	if sh := cols.Shares(&fromRow, x, 0); sh[MediaTooLarge] != 1 {
		t.Fatalf("shares %v, want media too large", sh)
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// TestDecideOrder: the account before the template before the recipient;
// a missing feature silences its rule.
func TestDecideOrder(t *testing.T) {
	s := Send{At: USMarketingCutoff, Template: true, MessageType: "template", Category: pipeline.CategoryMarketing, Country: "US"}
	tests := []struct {
		name  string
		vals  map[string]float32
		want  Rule
		until int64
	}{
		{"locked wins", map[string]float32{features.NameAccountLocked: 1, features.NameAccountRestrictedAtSend: 1, features.NameTemplatePausedAtSend: 1}, RuleAccountLocked, 0},
		{"restricted for 2 h", map[string]float32{features.NameAccountRestrictedAtSend: 1, features.NameAccountRestrictionHoursLeft: 2}, RuleAccountRestricted, s.At + 7200e6},
		{"paused, no end known", map[string]float32{features.NameTemplatePausedAtSend: 1, features.NameTemplatePauseHoursLeft: features.NeverHours}, RuleTemplatePaused, 0},
		{"the US policy", nil, RuleUSMarketing, 0},
	}
	for _, tc := range tests {
		cols, x := rowOf(tc.vals)
		d := cols.Decide(&s, x)
		if d.Rule != tc.want || d.Until != tc.until {
			t.Errorf("%s: rule %v until %d, want %v until %d", tc.name, d.Rule, d.Until, tc.want, tc.until)
		}
	}
	none := Bind(nil)
	ca := s
	ca.Country = "CA"
	if d := none.Decide(&ca, nil); d.Rule != NoRule {
		t.Errorf("without features: rule %v, want none", d.Rule)
	}
}
