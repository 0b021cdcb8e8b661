package features

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

func TestRegistry(t *testing.T) {
	specs := Specs()
	if len(specs) != numFeatures || len(Names()) != numFeatures {
		t.Fatalf("%d specs, %d names, want %d", len(specs), len(Names()), numFeatures)
	}
	valid := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	entities := map[string]bool{"send": true, "recipient": true, "pair": true, "phone": true, "campaign": true, "template": true, "waba": true, "country": true}
	kinds := map[Kind]int{}
	for i, s := range specs {
		if !valid.MatchString(s.Name) {
			t.Errorf("feature %d: name %q is not snake_case", i, s.Name)
		}
		if !entities[s.Entity] {
			t.Errorf("%s: unknown entity %q", s.Name, s.Entity)
		}
		if s.Unit == "" || s.Description == "" {
			t.Errorf("%s: missing unit or description", s.Name)
		}
		if Index(s.Name) != i {
			t.Errorf("Index(%s) = %d, want %d", s.Name, Index(s.Name), i)
		}
		kinds[s.Kind]++
	}
	for _, k := range []Kind{Send, Schedule, Outcome} {
		if kinds[k] == 0 {
			t.Errorf("no %s features", k)
		}
	}
	if Index("no_such_feature") != -1 {
		t.Error("Index of an unknown name is not -1")
	}
}

// TestKindsFollowTheirState checks the registry's kinds against what each
// block reads: a send block runs without any state, a schedule block with
// the schedule state only (a nil outcome state), an outcome block with the
// outcome state only, so a block reading the wrong state panics here.
func TestKindsFollowTheirState(t *testing.T) {
	events := generateAll(smallGen(41))
	eng := newEngine(DefaultConfig().TrainingCutoff)
	eng.sched.newChunk = func(first int32) *xChunk { return newXChunk(first, chunkRows) }
	cl := newClassifier(newEntities(), DefaultConfig(), 0, 1<<62, &rowStore{}, func(b *recBatch) *recBatch {
		eng.process(b)
		b.recs = b.recs[:0]
		return b
	})
	cl.events(events[:len(events)/2])
	cl.flush()
	r := record{kind: recSend, ts: events[len(events)/2].Timestamp, row: -1, ids: entityIDs{recip: 1, phone: 1, tpl: 1, camp: 1, waba: 1, country: 1}, mtype: 2, media: 1 << 20}
	eng.sched.state.ensure(&r.ids)
	eng.out.state.ensure(&r.ids)
	v := &view{t: r.ts, cutoff: eng.cutoff(r.ts), r: &r}
	for _, b := range blocks {
		out := make([]float32, len(b.specs))
		for i := range out {
			out[i] = float32(math.NaN())
		}
		switch b.kind {
		case Send:
			if b.schedule != nil || b.outcome != nil {
				t.Errorf("send block %s has a state function", b.specs[0].Name)
			}
			b.send(v, out)
		case Schedule:
			if b.send != nil || b.outcome != nil {
				t.Errorf("schedule block %s has another function", b.specs[0].Name)
			}
			b.schedule(v, eng.sched.state, out)
		case Outcome:
			if b.send != nil || b.schedule != nil {
				t.Errorf("outcome block %s has another function", b.specs[0].Name)
			}
			b.outcome(v, &eng.out.state, out)
		}
		for i, x := range out {
			if math.IsNaN(float64(x)) {
				t.Errorf("%s block: feature %s not written", b.kind, b.specs[i].Name)
			}
		}
	}
}

func TestSchemaHash(t *testing.T) {
	h := SchemaHash()
	if len(h) != 64 || h != SchemaHash() {
		t.Fatalf("SchemaHash() = %q, want 64 stable hex digits", h)
	}
	saved := blocks[0].specs[0].Name
	blocks[0].specs[0].Name = "renamed"
	changed := SchemaHash()
	blocks[0].specs[0].Name = saved
	if changed == h {
		t.Fatal("renaming a feature did not change the schema hash")
	}
}

func TestColdStartValues(t *testing.T) {
	events := generateAll(smallGen(42))
	sc, err := NewScorer(t.Context(), &memSource{events: events}, DefaultConfig(), events[len(events)-1].Timestamp+1)
	if err != nil {
		t.Fatal(err)
	}
	p := planOf(events[:1], 0)[0]
	p.SendID, p.Recipient, p.PhoneNumberID, p.CampaignID, p.Template, p.WABAID, p.Country = "new", "h:new", "newphone", "newcamp", "newtpl", "newwaba", "ZZ"
	p.ScheduledAt = sc.AsOf()
	tab, err := sc.Next([]pipeline.PlannedSend{p})
	if err != nil {
		t.Fatal(err)
	}
	checkFinite(t, tab)
	for name, want := range map[string]float32{
		"recipient_unseen": 1, "phone_unseen": 1, "campaign_unseen": 1, "template_unseen": 1, "waba_unseen": 1, "country_unseen": 1,
		"recipient_hours_since_failure": NeverHours, "recipient_failed_30d": 0, "recipient_last_outcome_family": -1,
		"phone_tier_limit": 250, "phone_hours_since_auth_error": NeverHours, "template_fail_rate_7d": 0,
		"pair_hours_since_prev_send": NeverHours, "recipient_sends_24h": 0, "horizon_hours": 0,
	} {
		if got := tab.At(0, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestDocIsCurrent(t *testing.T) {
	var want bytes.Buffer
	if err := WriteMarkdown(&want); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "docs", "features.md")
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("docs/features.md is stale or missing (%v); regenerate it from the repository root with: go run ./cmd/featuredoc", err)
	}
}

// TestNamedFeaturesRegistered: every feature name declared for readers
// (Name* constants and functions) is a registered feature, so a reader
// that uses them reads a feature that exists.
func TestNamedFeaturesRegistered(t *testing.T) {
	named := []string{
		NameHorizonHours, NameRecipientMarketing24h, NamePairHoursSincePrevSend, NamePhoneSends1s,
		NamePhoneUniqueRecipients24h, NameCampaignSends1s, NameRecipientHoursSinceInbound,
		NameRecipientLastOutcomeFamily, NamePhoneTierLimit, NamePhoneTransientErrors24h, NamePhoneAuthErrors24h,
		NamePhoneHoursSinceTransientError, NamePhoneHoursSinceAuthError, NameTemplateHoursSincePause,
		NameTemplateDisabled, NameTemplateParamErrorRate24h, NameWABAHoursSinceTokenExpired,
	}
	for _, c := range KeyCodes {
		named = append(named, NameRecipientCode30d(c), NameRecipientHoursSinceCode(c))
	}
	registered := map[string]bool{}
	for _, n := range Names() {
		registered[n] = true
	}
	for _, n := range named {
		if !registered[n] {
			t.Errorf("feature %q is declared for readers but not registered", n)
		}
	}
	for _, name := range []func(int32) string{NameRecipientCode30d, NameRecipientHoursSinceCode} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("a feature name of a code outside KeyCodes did not panic")
				}
			}()
			name(131000)
		}()
	}
}
