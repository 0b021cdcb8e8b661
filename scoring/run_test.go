package scoring

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/plans"
	"github.com/failcast/failcast/scoring/predictions"
)

// scoreConfig is the configuration of a run on the test world.
func scoreConfig(w testWorld, out string, plans ...string) Config {
	cfg := DefaultConfig()
	cfg.History, cfg.Registry, cfg.AsOf, cfg.Out, cfg.Plans = w.history, w.registry, worldAsOf, out, plans
	return cfg
}

// runScore runs cfg and returns its result, error and log.
func runScore(t *testing.T, cfg Config) (*Result, error, string) {
	t.Helper()
	var log bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
	res, err := Run(context.Background(), cfg)
	return res, err, log.String()
}

// mustRun runs cfg, fails the test on an error, and returns the result,
// its summary and the log.
func mustRun(t *testing.T, cfg Config) (*Result, string, string) {
	t.Helper()
	res, err, log := runScore(t, cfg)
	if err != nil {
		t.Fatalf("run: %v (exit %d)\nlog:\n%s", err, exitcode.Of(err), log)
	}
	var summary bytes.Buffer
	res.WriteSummary(&summary, 5)
	return res, summary.String(), log
}

// readCSV reads a CSV file into its header and rows (as maps).
func readCSV(t *testing.T, path string) ([]string, []map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, c := range recs[0] {
			m[c] = r[i]
		}
		rows = append(rows, m)
	}
	return recs[0], rows
}

// writePlanCSV writes sends as a plan CSV and appends raw extra lines
// (bad rows) after them.
func writePlanCSV(t *testing.T, path string, sends []pipeline.PlannedSend, extra ...string) {
	t.Helper()
	if err := pipeline.WritePlan(path, sends); err != nil {
		t.Fatal(err)
	}
	if len(extra) == 0 {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range extra {
		f.WriteString(l + "\n")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// demoPlan is a plan of two campaigns: marketing to recipients that just
// got marketing messages (and to invalid numbers among them), and a fast
// utility campaign above throughput.
func demoPlan() []pipeline.PlannedSend {
	mk := planSends("mkt-next", pipeline.CategoryMarketing, worldAsOf.Add(5*time.Hour), 100*time.Millisecond, 400, 10)
	fast := planSends("fast-util", pipeline.CategoryUtility, worldAsOf.Add(6*time.Hour), 5*time.Millisecond, 400, 200)
	for i := range fast {
		fast[i].Template = "order_update"
	}
	all := append(mk, fast...)
	slices.SortStableFunc(all, func(a, b pipeline.PlannedSend) int { return int(a.ScheduledAt - b.ScheduledAt) })
	return all
}

func TestScoreEndToEnd(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.csv")
	sends := demoPlan()
	writePlanCSV(t, plan, sends,
		"bad-type,mkt-next,waba-1,pn-1,h:0000000000000001,BR,promo,pt_BR,marketing,carrier-pigeon,,2026-11-01T07:00:00Z,10",
		"no-time,mkt-next,waba-1,pn-1,h:0000000000000001,BR,promo,pt_BR,marketing,template,,,10",
		"bad-rate,mkt-next,waba-1,pn-1,h:0000000000000001,BR,promo,pt_BR,marketing,template,,2026-11-01T07:00:00Z,fast",
		"too-late,mkt-next,waba-1,pn-1,h:0000000000000001,BR,promo,pt_BR,marketing,template,,2026-10-31T07:00:00Z,10",
	)
	// Outcomes of the first sends, to check evaluation.json.
	var outcomes []pipeline.PlanOutcome
	for i, s := range sends {
		if i%2 == 0 {
			outcomes = append(outcomes, pipeline.PlanOutcome{SendID: s.SendID, Failed: i%4 == 0, ErrorCode: map[bool]int32{true: 131049, false: -1}[i%4 == 0]})
		}
	}
	outcomesPath := filepath.Join(dir, "outcomes.csv")
	if err := pipeline.WriteOutcomes(outcomesPath, outcomes); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "score")
	cfg := scoreConfig(w, out, plan)
	cfg.Outcomes = outcomesPath
	_, stdout, _ := mustRun(t, cfg)

	header, preds := readCSV(t, filepath.Join(out, "predictions.csv"))
	if !slices.Equal(header, predictions.Columns()) {
		t.Errorf("predictions header %v", header)
	}
	if len(preds) != len(sends) {
		t.Fatalf("%d predictions for %d valid sends", len(preds), len(sends))
	}
	byID := map[string]map[string]string{}
	for _, p := range preds {
		byID[p["send_id"]] = p
	}
	// Invalid numbers get a recipient warning and are suppressed.
	for i := 0; i < 400; i++ {
		if !invalid(i % worldRecipients) {
			continue
		}
		p := byID[fmt.Sprintf("mkt-next-%06d", i)]
		if p["risk"] != "high" || p["likely_code"] != "131026" || p["action"] != "suppress" || !strings.Contains(p["warning"], "undeliverable") {
			t.Errorf("invalid recipient %d: risk %s code %s action %q warning %q", i, p["risk"], p["likely_code"], p["action"], p["warning"])
		}
	}
	// Recipients who got yesterday's evening marketing are at risk of 131049.
	deferred := 0
	for _, p := range preds {
		if p["action"] == "defer 24h" {
			deferred++
			if !strings.Contains(p["warning"], "per-user marketing limit (131049)") {
				t.Errorf("deferred send %s warns %q", p["send_id"], p["warning"])
			}
		}
		if p["model_version"] != "20261101T000000Z-test" || p["stale_features"] != "false" {
			t.Errorf("send %s: model_version %q stale %q", p["send_id"], p["model_version"], p["stale_features"])
		}
	}
	if deferred == 0 {
		t.Error("no marketing send deferred")
	}

	header, camps := readCSV(t, filepath.Join(out, "campaigns.csv"))
	if !slices.Equal(header, predictions.CampaignColumns()) || len(camps) != 2 {
		t.Fatalf("campaigns header %v, %d rows", header, len(camps))
	}
	for _, c := range camps {
		switch c["campaign_id"] {
		case "fast-util":
			if c["rate_above_throughput"] != "true" || c["recommended_rate_mps"] != "72.0" || !strings.Contains(c["findings"], "130429") {
				t.Errorf("fast campaign: %v", c)
			}
		case "mkt-next":
			if c["rate_above_throughput"] != "false" || c["recommended_rate_mps"] != "" || c["planned_sends"] != "400" {
				t.Errorf("marketing campaign: %v", c)
			}
		default:
			t.Errorf("unexpected campaign %q", c["campaign_id"])
		}
	}

	_, rejected := readCSV(t, filepath.Join(out, "rejected_rows.csv"))
	wantRejected := map[string]string{"802": "message_type", "803": "scheduled_at", "804": "campaign_rate_mps", "805": "scheduled_at"}
	if len(rejected) != len(wantRejected) {
		t.Fatalf("rejected rows %v", rejected)
	}
	for _, r := range rejected {
		if wantRejected[r["row"]] != r["column"] || r["file"] != plan || r["reason"] == "" {
			t.Errorf("rejected row %v", r)
		}
	}

	var ev Evaluation
	b, err := os.ReadFile(filepath.Join(out, "evaluation.json"))
	if err == nil {
		err = json.Unmarshal(b, &ev)
	}
	if err != nil || ev.WithOutcome != len(outcomes) || ev.MissingOutcome != len(sends)-len(outcomes) {
		t.Errorf("evaluation %+v (%v)", ev, err)
	}
	for _, s := range []string{"scored 800 planned sends in 2 campaigns", filepath.Join(out, "predictions.csv"), "rejected:    4 plan rows",
		"top campaigns by expected failures", "against the outcomes", "actions: suppress"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("summary lacks %q:\n%s", s, stdout)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 5 {
		t.Errorf("output dir holds %d entries, want the 5 outputs (drift.json included) and no temporaries", len(entries))
	}
}

func TestBadRowsFailKeepsEarlierOutputs(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "score")
	good := filepath.Join(dir, "good.csv")
	writePlanCSV(t, good, demoPlan())
	mustRun(t, scoreConfig(w, out, good))
	before := map[string][]byte{}
	for _, name := range []string{"predictions.csv", "campaigns.csv", "rejected_rows.csv", "drift.json"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		before[name] = b
	}

	bad := filepath.Join(dir, "bad.csv")
	other := planSends("other", pipeline.CategoryUtility, worldAsOf.Add(2*time.Hour), time.Second, 50, 1)
	writePlanCSV(t, bad, other, "bad-type,other,waba-1,pn-1,h:0000000000000001,BR,promo,pt_BR,utility,carrier-pigeon,,2026-11-01T07:00:00Z,1")
	failCfg := scoreConfig(w, out, bad)
	failCfg.BadRows = FailOnBadRows
	_, err, _ := runScore(t, failCfg)
	if exitcode.Of(err) != exitcode.Input {
		t.Fatalf("--bad-rows fail on a bad row: %v, exit %d, want %d", err, exitcode.Of(err), exitcode.Input)
	}
	for _, s := range []string{bad + ": row 52: column message_type", "carrier-pigeon"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not name %q: %v", s, err)
		}
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != len(before) {
		t.Errorf("output dir holds %d entries after the failed run, want the %d earlier outputs", len(entries), len(before))
	}
	for name, b := range before {
		if now, _ := os.ReadFile(filepath.Join(out, name)); !bytes.Equal(now, b) {
			t.Errorf("%s changed by the failed run", name)
		}
	}

	// The same plan with --bad-rows reject scores the good rows.
	_, stdout, _ := mustRun(t, scoreConfig(w, out, bad))
	if !strings.Contains(stdout, "scored 50 planned sends") || !strings.Contains(stdout, "rejected:    1 plan rows") {
		t.Errorf("--bad-rows reject:\n%s", stdout)
	}
}

func TestRefusesModelOfOtherFeatureSchema(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "old-model")
	if err := trainBundle(w.history, model, "20261001T000000Z-old", "0123456789abcdef-other-schema"); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "plan.csv")
	writePlanCSV(t, plan, demoPlan())
	out := filepath.Join(dir, "score")
	cfg := scoreConfig(w, out, plan)
	cfg.Model = model
	_, err, _ := runScore(t, cfg)
	if exitcode.Of(err) != exitcode.Input {
		t.Fatalf("%v: exit %d, want %d", err, exitcode.Of(err), exitcode.Input)
	}
	for _, s := range []string{"refusing the model", "feature schema 0123456789abcdef-other-schema", features.SchemaHash()} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "predictions.csv")); !os.IsNotExist(err) {
		t.Error("predictions.csv written although the model was refused")
	}
}

// TestInputErrors: inputs that cannot be read fail the run with an input
// error (exit 3) naming them.
func TestInputErrors(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.csv")
	writePlanCSV(t, plan, demoPlan())
	out := filepath.Join(dir, "score")
	badTokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(badTokens, []byte("waba_id,token_expires_at\nwaba-1,soon\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		set  func(*Config)
		msg  string
	}{
		{"missing plan file", func(c *Config) { c.Plans = []string{filepath.Join(dir, "nope.csv")} }, "nope.csv"},
		{"plan of unknown format", func(c *Config) { c.Plans = []string{filepath.Join(dir, "plan.xlsx")} }, "plan.xlsx"},
		{"missing history", func(c *Config) { c.History = filepath.Join(dir, "no-history") }, "no-history"},
		{"empty registry", func(c *Config) { c.Registry = filepath.Join(dir, "empty-registry") }, "has no current model"},
		{"missing model", func(c *Config) { c.Model = filepath.Join(dir, "no-model") }, "no-model"},
		{"missing outcomes", func(c *Config) { c.Outcomes = filepath.Join(dir, "none.parquet") }, "none.parquet"},
		{"bad token file", func(c *Config) { c.Tokens = badTokens }, "row 2: column token_expires_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := scoreConfig(w, out, plan)
			tt.set(&cfg)
			_, err, _ := runScore(t, cfg)
			if exitcode.Of(err) != exitcode.Input || !strings.Contains(fmt.Sprint(err), tt.msg) {
				t.Errorf("%v: exit %d, want %d and an error naming %q", err, exitcode.Of(err), exitcode.Input, tt.msg)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("a failed run left %d entries in %s", len(entries), out)
			}
		})
	}
}

// TestConfigValidate: every bad setting is a usage error (exit 2) naming
// its flag, and Run refuses it before reading anything.
func TestConfigValidate(t *testing.T) {
	valid := DefaultConfig()
	valid.Plans, valid.History, valid.AsOf = []string{"plan.csv"}, "history", worldAsOf
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := []struct {
		name string
		set  func(*Config)
		msg  string
	}{
		{"no plan", func(c *Config) { c.Plans = nil }, "--plan is required"},
		{"empty plan name", func(c *Config) { c.Plans = []string{"a.csv", ""} }, "--plan"},
		{"no history", func(c *Config) { c.History = "" }, "--history is required"},
		{"no as-of", func(c *Config) { c.AsOf = time.Time{} }, "--as-of"},
		{"no model", func(c *Config) { c.Registry, c.Model = "", "" }, "--registry or --model"},
		{"no out", func(c *Config) { c.Out = "" }, "--out"},
		{"bad bad-rows", func(c *Config) { c.BadRows = "ignore" }, "reject or fail"},
		{"explore above 1", func(c *Config) { c.Explore = 2 }, "--explore"},
		{"explore NaN", func(c *Config) { c.Explore = math.NaN() }, "--explore"},
		{"no throughput", func(c *Config) { c.ThroughputMPS = 0 }, "--throughput-mps"},
		{"safety above 1", func(c *Config) { c.ThrottleSafety = 1.5 }, "--throttle-safety"},
		{"batch size 0", func(c *Config) { c.BatchSize = 0 }, "--batch-size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.set(&cfg)
			err := cfg.Validate()
			if exitcode.Of(err) != exitcode.Usage || !strings.Contains(fmt.Sprint(err), tt.msg) {
				t.Errorf("Validate() = %v (exit %d), want a usage error naming %q", err, exitcode.Of(err), tt.msg)
			}
			if _, runErr := Run(context.Background(), cfg); exitcode.Of(runErr) != exitcode.Usage {
				t.Errorf("Run: %v, want the usage error", runErr)
			}
		})
	}
}

// predictionsByID runs cfg and returns predictions.csv rows by send id,
// and the file's bytes.
func predictionsByID(t *testing.T, cfg Config) (map[string]map[string]string, []byte) {
	t.Helper()
	mustRun(t, cfg)
	path := filepath.Join(cfg.Out, "predictions.csv")
	_, rows := readCSV(t, path)
	m := map[string]map[string]string{}
	for _, r := range rows {
		m[r["send_id"]] = r
	}
	b, _ := os.ReadFile(path)
	return m, b
}

func TestPlanOrder(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	sends := demoPlan()
	sorted := filepath.Join(dir, "sorted.parquet")
	if err := pipeline.WritePlan(sorted, sends); err != nil {
		t.Fatal(err)
	}
	_, want := predictionsByID(t, scoreConfig(w, filepath.Join(dir, "a"), sorted))

	// The same sends shuffled: sorted in memory, same file.
	shuffled := slices.Clone(sends)
	for i := range shuffled {
		j := (i * 7919) % len(shuffled)
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	}
	unsorted := filepath.Join(dir, "unsorted.csv")
	writePlanCSV(t, unsorted, shuffled)
	if _, got := predictionsByID(t, scoreConfig(w, filepath.Join(dir, "b"), unsorted)); !bytes.Equal(got, want) {
		t.Error("an unsorted plan scores differently from the sorted plan")
	}
	requireSorted := scoreConfig(w, filepath.Join(dir, "c"), unsorted)
	requireSorted.RequireSorted = true
	_, err, _ := runScore(t, requireSorted)
	if exitcode.Of(err) != exitcode.Input || !strings.Contains(fmt.Sprint(err), "unsorted.csv is not in scheduled_at order") {
		t.Errorf("--require-sorted on an unsorted plan: %v (exit %d)", err, exitcode.Of(err))
	}

	// Split into two sorted files that overlap in time: merged, same file.
	var odd, even []pipeline.PlannedSend
	for i, s := range sends {
		if i%2 == 0 {
			even = append(even, s)
		} else {
			odd = append(odd, s)
		}
	}
	p1, p2 := filepath.Join(dir, "even.parquet"), filepath.Join(dir, "odd.csv")
	if err := pipeline.WritePlan(p1, even); err != nil {
		t.Fatal(err)
	}
	writePlanCSV(t, p2, odd)
	if _, got := predictionsByID(t, scoreConfig(w, filepath.Join(dir, "d"), p1, p2)); !bytes.Equal(got, want) {
		t.Error("two overlapping plans score differently from the one plan")
	}
}

func TestExplorationReproducible(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.parquet")
	if err := pipeline.WritePlan(plan, demoPlan()); err != nil {
		t.Fatal(err)
	}
	run := func(name string, seed uint64, batch int) (map[string]map[string]string, []byte) {
		cfg := scoreConfig(w, filepath.Join(dir, name), plan)
		cfg.Explore, cfg.Seed, cfg.BatchSize = 0.3, seed, batch
		return predictionsByID(t, cfg)
	}
	a, aBytes := run("a", 7, 8192)
	_, bBytes := run("b", 7, 37)
	c, _ := run("c", 8, 8192)
	base, _ := predictionsByID(t, scoreConfig(w, filepath.Join(dir, "base"), plan))
	if !bytes.Equal(aBytes, bBytes) {
		t.Error("same seed, other batch size: different predictions")
	}
	explored, held, differ := 0, 0, 0
	for id, p := range a {
		want := base[id]["action"]
		switch {
		case p["exploration"] == "true":
			explored++
			if p["action"] != "send as planned (exploration)" || (want != "suppress" && want != "defer 24h") {
				t.Errorf("send %s explored: action %q, without exploration %q", id, p["action"], want)
			}
		case want == "suppress" || want == "defer 24h":
			held++
			if p["action"] != want {
				t.Errorf("send %s: action %q, want %q", id, p["action"], want)
			}
		}
		if p["exploration"] != c[id]["exploration"] {
			differ++
		}
	}
	if share := float64(explored) / float64(explored+held); explored == 0 || share < 0.15 || share > 0.45 {
		t.Errorf("explored %d of %d held-back sends, want about 30%%", explored, explored+held)
	}
	if differ == 0 {
		t.Error("another seed explores the same sends")
	}
}

func TestStaleFeatures(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	near := planSends("near", pipeline.CategoryUtility, worldAsOf.Add(2*time.Hour), time.Second, 20, 1)
	far := planSends("far", pipeline.CategoryUtility, worldAsOf.Add(60*time.Hour), time.Second, 20, 1)
	plan := filepath.Join(dir, "plan.parquet")
	if err := pipeline.WritePlan(plan, append(near, far...)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "score")
	_, stdout, stderr := mustRun(t, scoreConfig(w, out, plan))
	_, rows := readCSV(t, filepath.Join(out, "predictions.csv"))
	for _, r := range rows {
		stale := strings.HasPrefix(r["send_id"], "far")
		if (r["stale_features"] == "true") != stale || strings.Contains(r["warning"], "stale features") != stale {
			t.Errorf("send %s: stale_features %s warning %q", r["send_id"], r["stale_features"], r["warning"])
		}
	}
	if !strings.Contains(stdout, "stale features: 20 sends") || !strings.Contains(stderr, "sends=20") {
		t.Errorf("stale sends not reported:\n%s\n%s", stdout, stderr)
	}
}

func TestRawRecipientNumbers(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	sends := planSends("raw", pipeline.CategoryUtility, worldAsOf.Add(2*time.Hour), time.Second, 5, 1)
	for i := range sends {
		sends[i].Recipient = fmt.Sprintf("+55 11 98765-%04d", 4321+i)
	}
	plan := filepath.Join(dir, "plan.csv")
	writePlanCSV(t, plan, sends)
	hasher := pipeline.NewRecipientHasher([]byte("test-key"))
	tests := []struct {
		name string
		key  string
		want func(number string) string
		log  string
	}{
		{"no key: masked", "", pipeline.MaskNumber, "plan recipients are not hashed"},
		{"key: hashed", "test-key", hasher.Hash, "hashing raw recipient numbers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			cfg := scoreConfig(w, out, plan)
			cfg.HashKey, cfg.HashKeyFrom = []byte(tt.key), "$FAILCAST_TEST_HASH_KEY"
			_, _, log := mustRun(t, cfg)
			if !strings.Contains(log, tt.log) || !strings.Contains(log, cfg.HashKeyFrom) {
				t.Fatalf("log lacks %q or %s:\n%s", tt.log, cfg.HashKeyFrom, log)
			}
			data, _ := os.ReadFile(filepath.Join(out, "predictions.csv"))
			if bytes.Contains(data, []byte("98765")) {
				t.Error("a raw phone number reached predictions.csv")
			}
			_, rows := readCSV(t, filepath.Join(out, "predictions.csv"))
			for i, r := range rows {
				if want := tt.want(sends[i].Recipient); r["recipient"] != want {
					t.Errorf("send %s: recipient %q, want %q", r["send_id"], r["recipient"], want)
				}
			}
		})
	}
}

// TestTokenInventory: with --tokens, the sends after their WABA's token
// expiry get "renew token" and the campaign says when to renew.
func TestTokenInventory(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.csv")
	sends := demoPlan()
	writePlanCSV(t, plan, sends)
	expiry := worldAsOf.Add(5*time.Hour + 20*time.Second) // inside the marketing campaign
	tokens := filepath.Join(dir, "tokens.csv")
	if err := pipeline.WriteTokenExpiries(tokens, []pipeline.TokenExpiry{{WABAID: "waba-1", ExpiresAt: expiry.UnixMicro()}}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "score")
	cfg := scoreConfig(w, out, plan)
	cfg.Tokens = tokens
	mustRun(t, cfg)
	_, rows := readCSV(t, filepath.Join(out, PredictionsFile))
	after := 0
	for _, r := range rows {
		at, err := time.Parse(time.RFC3339, r["scheduled_at"])
		if err != nil {
			t.Fatal(err)
		}
		renew := r["action"] == "renew token" && r["likely_code"] == "190" && r["risk"] == "high"
		if !at.Before(expiry) {
			after++
			if !renew {
				t.Fatalf("send %s at %s, after the expiry: action %q code %s risk %s", r["send_id"], r["scheduled_at"], r["action"], r["likely_code"], r["risk"])
			}
		} else if r["action"] == "renew token" {
			t.Fatalf("send %s at %s, before the expiry, gets renew token", r["send_id"], r["scheduled_at"])
		}
	}
	if after == 0 || after == len(rows) {
		t.Fatalf("%d of %d sends after the expiry; the test wants some on each side", after, len(rows))
	}
	_, camps := readCSV(t, filepath.Join(out, CampaignsFile))
	for _, c := range camps {
		if c["token_risk"] != "true" || c["token_expires_at"] == "" || !strings.Contains(c["findings"], "waba-1") {
			t.Errorf("campaign %s: token_risk %s token_expires_at %q findings %q", c["campaign_id"], c["token_risk"], c["token_expires_at"], c["findings"])
		}
	}
}

// TestScorePlansStopsOnSinkError: a failure of the last stage stops the
// pipeline and comes back as is, without a deadlock, whatever the batch
// it happens at.
func TestScorePlansStopsOnSinkError(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.csv")
	writePlanCSV(t, plan, demoPlan()) // 800 sends
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := loadModel(w.registry, "", log)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := pipeline.OpenDataset(w.history)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := NewScorer(ScorerConfig{Thresholds: m.thresholds, ModelVersion: m.version, AsOf: worldAsOf.UnixMicro()})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	for _, failAt := range []int{1, 2, 5} {
		t.Run(fmt.Sprint("batch ", failAt), func(t *testing.T) {
			fs, err := features.NewScorer(context.Background(), ds, m.cfg, worldAsOf.UnixMicro())
			if err != nil {
				t.Fatal(err)
			}
			p, err := plans.Survey(context.Background(), []string{plan}, worldAsOf.UnixMicro(), 50, func(pipeline.RowError) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			done := make(chan error, 1)
			go func() {
				done <- scorePlans(context.Background(), p.StreamOnce, p.BatchSize(), func() (*features.Scorer, error) { return fs, nil }, m, sc, nil, func([]Prediction) error {
					calls++
					if calls == failAt {
						return boom
					}
					return nil
				})
			}()
			select {
			case err := <-done:
				if !errors.Is(err, boom) {
					t.Fatalf("err = %v, want the sink's", err)
				}
				if calls != failAt {
					t.Fatalf("sink called %d times, want %d: no batch after the failure", calls, failAt)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("scorePlans did not return after the sink failed")
			}
		})
	}
}
