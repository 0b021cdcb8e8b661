package scoring

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/drift"
	"github.com/failcast/failcast/models/gbdt"
	"github.com/failcast/failcast/models/metrics"
	"github.com/failcast/failcast/pipeline"
)

// The test world: one business number sending daily marketing and utility
// campaigns to a pool of recipients for two weeks before asOf. Two causes
// of failure are visible before the send: invalid numbers (131026 on every
// send) and the per-user marketing limit (131049 when the recipient already
// got marketing messages in the trailing 24 h).
var worldAsOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

const (
	worldRecipients = 1500
	worldDays       = 14
	worldSeed       = 42
)

func recipientID(i int) string { return fmt.Sprintf("h:%016x", uint64(i)*0x9e3779b97f4a7c15) }

// invalid reports whether recipient i has an invalid number.
func invalid(i int) bool { return i%37 == 5 }

type worldSend struct {
	pipeline.PlannedSend
	recipient int
}

// worldHistory returns the history events of the test world, in time order.
func worldHistory(days, recipients int) []pipeline.Event {
	rng := rand.New(rand.NewPCG(worldSeed, 1))
	start := worldAsOf.Add(-time.Duration(days) * 24 * time.Hour)
	var sends []worldSend
	for d := 0; d < days; d++ {
		day := start.Add(time.Duration(d) * 24 * time.Hour)
		for k, c := range []struct {
			hour     int
			category string
			template string
			share    float64
		}{{9, pipeline.CategoryMarketing, "promo", 0.5}, {13, pipeline.CategoryUtility, "order_update", 0.3}, {18, pipeline.CategoryMarketing, "flash_sale", 0.4}} {
			t0 := day.Add(time.Duration(c.hour) * time.Hour).UnixMicro()
			n := 0
			for r := 0; r < recipients; r++ {
				if rng.Float64() >= c.share {
					continue
				}
				sends = append(sends, worldSend{PlannedSend: pipeline.PlannedSend{
					SendID: fmt.Sprintf("d%02d-c%d-%05d", d, k, r), CampaignID: fmt.Sprintf("camp-%02d-%d", d, k),
					WABAID: "waba-1", PhoneNumberID: "pn-1", Recipient: recipientID(r), Country: "BR",
					Template: c.template, Language: "pt_BR", Category: c.category, MessageType: "template",
					MediaBytes: pipeline.NoMediaBytes, ScheduledAt: t0 + int64(n)*50_000, CampaignRateMPS: 20,
				}, recipient: r})
				n++
			}
		}
	}
	slices.SortStableFunc(sends, func(a, b worldSend) int { return cmp.Compare(a.ScheduledAt, b.ScheduledAt) })
	mkt := make(map[int][]int64) // marketing send times per recipient
	var events []pipeline.Event
	for _, s := range sends {
		failed, code := worldOutcome(rng, s, mkt[s.recipient])
		if s.Category == pipeline.CategoryMarketing {
			mkt[s.recipient] = append(mkt[s.recipient], s.ScheduledAt)
		}
		ev := pipeline.Event{
			MessageID: "wamid." + s.SendID, Timestamp: s.ScheduledAt, WABAID: s.WABAID, PhoneNumberID: s.PhoneNumberID,
			Recipient: s.Recipient, Country: s.Country, CampaignID: s.CampaignID, Template: s.Template, Language: s.Language,
			Category: s.Category, MessageType: s.MessageType, MediaBytes: s.MediaBytes, Status: pipeline.StatusAccepted,
			ErrorCode: pipeline.NoErrorCode,
		}
		ev.EventID = pipeline.MakeEventID(ev.MessageID, ev.Status, ev.Timestamp)
		events = append(events, ev)
		out := ev
		out.Timestamp += 2_000_000
		if failed {
			out.Status, out.ErrorCode = pipeline.StatusFailed, code
			info, _ := pipeline.LookupCode(code)
			out.ErrorTitle = info.Title
		} else {
			out.Status = pipeline.StatusDelivered
		}
		out.EventID = pipeline.MakeEventID(out.MessageID, out.Status, out.Timestamp)
		events = append(events, out)
	}
	slices.SortStableFunc(events, func(a, b pipeline.Event) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	return events
}

// worldOutcome decides a send's fate from its visible causes.
func worldOutcome(rng *rand.Rand, s worldSend, mktTimes []int64) (bool, int32) {
	if invalid(s.recipient) {
		return true, 131026
	}
	if s.Category == pipeline.CategoryMarketing {
		n := 0
		for _, t := range mktTimes {
			if t > s.ScheduledAt-24*3600e6 {
				n++
			}
		}
		if n >= 1 && rng.Float64() < 0.8 {
			return true, 131049
		}
	}
	if rng.Float64() < 0.005 {
		return true, 131000
	}
	return false, pipeline.NoErrorCode
}

// testWorld is a history file and a trained model bundle on it, built once
// per test binary.
type testWorld struct {
	dir      string
	history  string // history Parquet file
	registry string // registry dir with current -> the bundle
	model    string // bundle dir
}

var (
	worldOnce sync.Once
	world     testWorld
	worldErr  error
)

// getWorld builds the test world (about a second) or returns the one built.
func getWorld(t testing.TB) testWorld {
	t.Helper()
	worldOnce.Do(func() {
		dir, err := os.MkdirTemp("", "score-world-")
		if err != nil {
			worldErr = err
			return
		}
		world, worldErr = buildWorld(dir, worldDays, worldRecipients)
	})
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return world
}

func TestMain(m *testing.M) {
	code := m.Run()
	if world.dir != "" {
		os.RemoveAll(world.dir)
	}
	os.Exit(code)
}

func buildWorld(dir string, days, recipients int) (testWorld, error) {
	w := testWorld{dir: dir, history: filepath.Join(dir, "history.parquet"), registry: filepath.Join(dir, "registry")}
	hw, err := pipeline.NewHistoryWriter(w.history, pipeline.WriteOptions{})
	if err != nil {
		return w, err
	}
	if err := hw.Write(worldHistory(days, recipients)); err != nil {
		hw.Abort()
		return w, err
	}
	if err := hw.Close(); err != nil {
		return w, err
	}
	version := "20261101T000000Z-test"
	w.model = filepath.Join(w.registry, "versions", version)
	if err := os.MkdirAll(filepath.Dir(w.model), 0o755); err != nil {
		return w, err
	}
	if err := trainBundle(w.history, w.model, version, features.SchemaHash()); err != nil {
		return w, err
	}
	if err := os.Symlink(filepath.Join("versions", version), filepath.Join(w.registry, "current")); err != nil {
		return w, err
	}
	return w, nil
}

// trainWithoutExtras makes trainBundleWith save a bundle as builds before
// reasons and drift did: no node cover, no drift reference.
var trainWithoutExtras bool

// trainBundle trains a small fail + family bundle on the history the way
// cmd/train does and saves it at dir with the given schema hash.
func trainBundle(history, dir, version, schemaHash string) error {
	return trainBundleWith(history, dir, version, schemaHash, 30, 15, 4, 10)
}

// trainBundleWith trains a bundle with the given rounds and depth on the
// last trainDays days of history.
func trainBundleWith(history, dir, version, schemaHash string, failRounds, familyRounds, depth, trainDays int) error {
	ctx := context.Background()
	ds, err := pipeline.OpenDataset(history)
	if err != nil {
		return err
	}
	cfg := features.DefaultConfig()
	tab, err := features.BuildTraining(ctx, ds, cfg, worldAsOf.Add(-time.Duration(trainDays)*24*time.Hour).UnixMicro(), worldAsOf.UnixMicro())
	if err != nil {
		return err
	}
	X := models.Matrix{Rows: tab.Rows, Cols: len(tab.Names), Data: tab.X}
	y := make([]float32, tab.Rows)
	var failed []int
	likely := map[string]map[int32]int{}
	for i, f := range tab.Failed {
		if f {
			y[i] = 1
			failed = append(failed, i)
			fam := pipeline.Family(tab.Family[i]).String()
			if likely[fam] == nil {
				likely[fam] = map[int32]int{}
			}
			likely[fam][tab.Code[i]]++
		}
	}
	p := gbdt.DefaultParams()
	p.NumRounds, p.MaxDepth, p.Seed = failRounds, depth, worldSeed
	fail, err := gbdt.Fit(ctx, p, gbdt.Dataset{X: X, Y: y}, nil)
	if err != nil {
		return fmt.Errorf("fit fail model: %w", err)
	}
	fy := make([]float32, len(failed))
	for k, i := range failed {
		fy[k] = float32(tab.Family[i])
	}
	pf := p
	pf.Objective, pf.NumClass, pf.NumRounds = gbdt.Softmax, pipeline.NumFamilies, familyRounds
	family, err := gbdt.Fit(ctx, pf, gbdt.Dataset{X: X.SelectRows(failed), Y: fy}, nil)
	if err != nil {
		return fmt.Errorf("fit family model: %w", err)
	}
	codes := map[string]int32{}
	for fam, m := range likely {
		best, bestN := int32(0), -1
		for c, n := range m {
			if n > bestN || (n == bestN && c < best) {
				best, bestN = c, n
			}
		}
		codes[fam] = best
	}
	md := artifact.Metadata{
		ModelVersion: version, FeatureSchemaHash: schemaHash, FeatureNames: tab.Names, Seed: worldSeed,
		Thresholds: map[string]artifact.Threshold{
			bundle.ThresholdHigh:   {Threshold: metrics.Threshold{Rule: "precision", Target: 0.8, Reached: true, Value: 0.5}},
			bundle.ThresholdMedium: {Threshold: metrics.Threshold{Rule: "budget", Target: 0.1, Reached: true, Value: 0.2}},
		},
	}
	bundle.SetServing(&md, bundle.Serving{Lead: cfg.Lead, Refresh: cfg.Refresh, LikelyCodes: codes})
	if !trainWithoutExtras {
		if err := fail.SetCover(ctx, X); err != nil {
			return fmt.Errorf("fail model cover: %w", err)
		}
		ref, err := drift.Fit(X, tab.Names, drift.Bins)
		if err != nil {
			return err
		}
		bundle.SetDrift(&md, ref)
	}
	return bundle.Save(dir, md, fail, family)
}

// planSends returns n planned sends starting at start, spaced by spacing,
// cycling through recipients, as campaign id.
func planSends(campaign, category string, start time.Time, spacing time.Duration, n int, rate float64) []pipeline.PlannedSend {
	out := make([]pipeline.PlannedSend, n)
	for i := range out {
		out[i] = pipeline.PlannedSend{
			SendID: fmt.Sprintf("%s-%06d", campaign, i), CampaignID: campaign, WABAID: "waba-1", PhoneNumberID: "pn-1",
			Recipient: recipientID(i % worldRecipients), Country: "BR", Template: "promo", Language: "pt_BR",
			Category: category, MessageType: "template", MediaBytes: pipeline.NoMediaBytes,
			ScheduledAt: start.Add(time.Duration(i) * spacing).UnixMicro(), CampaignRateMPS: rate,
		}
	}
	return out
}
