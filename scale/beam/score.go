package scalebeam

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/filter"

	"github.com/failcast/failcast/internal/atomicfile"
	"github.com/failcast/failcast/models/registry"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring"
	"github.com/failcast/failcast/scoring/predictions"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*planFile)(nil)).Elem())
	register.DoFn4x1[context.Context, planFile, func(string, []byte), func(string), error](&readPlanFn{})
	register.DoFn5x1[context.Context, string, func(*[]byte) bool, func(*[]byte) bool, func(string, []byte), error](&scoreShardFn{})
	register.DoFn3x1[context.Context, string, func(*[]byte) bool, error](&mergeScoresFn{})
}

// summaryKey is the one key the shards' scoring summaries meet under.
const summaryKey = "summary"

// ScoringConfig is what the scoring pipeline needs.
type ScoringConfig struct {
	History  string   // dataset spec
	Plans    []string // plan files (.parquet or .csv)
	AsOf     time.Time
	Model    string // model (bundle) directory; "" = Registry's current model, resolved once when the pipeline is built
	Registry string
	Out      string // shared directory: shards/<account>/{predictions,campaigns,rejected_rows}.csv, campaigns.csv, summary.json
	Tokens   string // token file (score --tokens), read by every shard; "" none

	Explore        float64
	Seed           uint64
	ThroughputMPS  float64
	ThrottleSafety float64
}

// DefaultScoringConfig has score's defaults.
func DefaultScoringConfig() ScoringConfig {
	d := scoring.DefaultConfig()
	return ScoringConfig{Registry: d.Registry, Out: d.Out, Seed: d.Seed, ThroughputMPS: d.ThroughputMPS, ThrottleSafety: d.ThrottleSafety}
}

// planFile is one plan file and its place in the list.
type planFile struct {
	Index int
	Path  string
}

// Scoring adds the scoring pipeline to s: the history before as-of and
// the plans are keyed by business account the same way, joined
// (CoGroupByKey), and each account with planned sends is scored by the
// score stage itself (scoring.Run on the account's history and plan, with
// the one model) into shards/<account>/ under Out; a last step writes the
// merged campaigns.csv and summary.json.
func Scoring(s beam.Scope, cfg ScoringConfig) error {
	if cfg.Out == "" || len(cfg.Plans) == 0 || cfg.AsOf.IsZero() {
		return fmt.Errorf("scoring needs --out, --plan and --as-of")
	}
	if cfg.Model == "" {
		// Every shard must use the same model, even if the registry's
		// champion changes while the pipeline runs.
		_, dir, err := registry.Open(cfg.Registry).Current()
		if err != nil {
			return fmt.Errorf("registry %s: %w", cfg.Registry, err)
		}
		cfg.Model = dir
	}
	asOf := cfg.AsOf.UnixMicro()
	frags, histPhones, _, _, err := readHistory(s, cfg.History, asOf)
	if err != nil {
		return err
	}
	files := make([]planFile, len(cfg.Plans))
	for i, p := range cfg.Plans {
		files[i] = planFile{Index: i, Path: p}
	}
	ps := s.Scope("ReadPlans")
	plans, planPhones := beam.ParDo2(ps, &readPlanFn{AsOf: asOf}, beam.Reshuffle(ps, beam.CreateList(ps, files)))
	phones := filter.Distinct(s, beam.Flatten(s, histPhones, planPhones))
	joined := beam.CoGroupByKey(s, byAccount(s, frags, phones), byAccount(s, plans, phones))
	summaries := beam.ParDo(s.Scope("ScoreAccounts"), &scoreShardFn{
		Model: cfg.Model, AsOf: asOf, Out: cfg.Out, Tokens: cfg.Tokens,
		Explore: cfg.Explore, Seed: cfg.Seed, ThroughputMPS: cfg.ThroughputMPS, ThrottleSafety: cfg.ThrottleSafety,
	}, joined)
	beam.ParDo0(s.Scope("MergeSummary"), &mergeScoresFn{Out: cfg.Out}, beam.GroupByKey(s, summaries))
	return nil
}

// readPlanFn reads one plan file and emits its sends keyed by account.
// A row the plan contract refuses, or one scheduled before as-of, fails
// the pipeline with its file and row (single-node score can instead
// reject such rows to rejected_rows.csv).
type readPlanFn struct {
	AsOf int64
}

func (f *readPlanFn) ProcessElement(ctx context.Context, pf planFile, emit func(string, []byte), emitPhone func(string)) error {
	byKey := map[string][]keyedSend{}
	pairs := map[string]bool{}
	var row int64
	err := pipeline.ReadPlan(ctx, pf.Path, nil, func(batch []pipeline.PlannedSend) error {
		for i := range batch {
			p := &batch[i]
			row++
			if p.ScheduledAt < f.AsOf {
				return fmt.Errorf("plan %s: send %q is scheduled at %s, before --as-of %s", pf.Path, p.SendID, formatMicros(p.ScheduledAt), formatMicros(f.AsOf))
			}
			key := accountKey(p.WABAID, p.PhoneNumberID)
			byKey[key] = append(byKey[key], keyedSend{s: *p, file: int32(pf.Index), row: row})
			if p.WABAID != "" && p.PhoneNumberID != "" {
				pairs[phonePair(p.PhoneNumberID, p.WABAID)] = true
			}
			if len(byKey[key]) == fragmentEvents {
				emit(key, encodePlan(byKey[key]))
				byKey[key] = byKey[key][:0]
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("plan %s: %w", pf.Path, err)
	}
	for _, key := range slices.Sorted(mapsKeys(byKey)) {
		if len(byKey[key]) > 0 {
			emit(key, encodePlan(byKey[key]))
		}
	}
	for _, p := range slices.Sorted(mapsKeys(pairs)) {
		emitPhone(p)
	}
	return nil
}

// shardSummary is what one account's scoring reports to the merge.
type shardSummary struct {
	Account          string         `json:"account"`
	Dir              string         `json:"dir"`
	Events           int            `json:"history_events"`
	Sends            int            `json:"sends"`
	Rejected         int            `json:"rejected"`
	Stale            int            `json:"stale"`
	ExpectedFailures float64        `json:"expected_failures"`
	ByAction         map[string]int `json:"by_action"`
	ByRisk           map[string]int `json:"by_risk"`
	Seconds          float64        `json:"seconds"`
	Model            string         `json:"model"`
}

// shardDir is the directory of an account's outputs under Out.
func shardDir(account string) string {
	if account == "" {
		return "account=_none"
	}
	return "account=" + url.PathEscape(account)
}

// scoreShardFn scores one account's planned sends against its history
// with scoring.Run: the same stage, files and contract as single-node
// score, on the account's rows (written to a scratch directory first).
type scoreShardFn struct {
	Model, Out, Tokens            string
	AsOf                          int64
	Explore                       float64
	Seed                          uint64
	ThroughputMPS, ThrottleSafety float64
}

func (f *scoreShardFn) ProcessElement(ctx context.Context, account string, hist, plan func(*[]byte) bool, emit func(string, []byte)) error {
	var sends []keyedSend
	var b []byte
	for plan(&b) {
		var err error
		if sends, err = decodePlan(sends, b); err != nil {
			return fmt.Errorf("account %q: %w", account, err)
		}
	}
	if len(sends) == 0 {
		return nil // history only: nothing to score
	}
	events, err := shardEvents(hist)
	if err != nil {
		return fmt.Errorf("account %q: %w", account, err)
	}
	began := time.Now()
	slices.SortFunc(sends, func(a, b keyedSend) int {
		if c := cmpInt(int64(a.file), int64(b.file)); c != 0 {
			return c
		}
		return cmpInt(a.row, b.row)
	})
	tmp, err := os.MkdirTemp("", "failcast-beam-shard-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	histPath, planPath := filepath.Join(tmp, "history.parquet"), filepath.Join(tmp, "plan.parquet")
	if err := writeHistory(histPath, events); err != nil {
		return fmt.Errorf("account %q: %w", account, err)
	}
	ps := make([]pipeline.PlannedSend, len(sends))
	for i := range sends {
		ps[i] = sends[i].s
	}
	if err := pipeline.WritePlan(planPath, ps); err != nil {
		return fmt.Errorf("account %q: %w", account, err)
	}
	cfg := scoring.DefaultConfig()
	cfg.Plans, cfg.History, cfg.AsOf, cfg.Model = []string{planPath}, histPath, time.UnixMicro(f.AsOf).UTC(), f.Model
	cfg.Out = filepath.Join(f.Out, "shards", shardDir(account))
	cfg.Tokens, cfg.Explore, cfg.Seed = f.Tokens, f.Explore, f.Seed
	cfg.ThroughputMPS, cfg.ThrottleSafety = f.ThroughputMPS, f.ThrottleSafety
	if key, ok := os.LookupEnv("FAILCAST_HASH_KEY"); ok {
		cfg.HashKey = []byte(key)
	}
	res, err := scoring.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("account %q: score: %w", account, err)
	}
	sum := shardSummary{Account: account, Dir: cfg.Out, Events: len(events), Sends: res.Sends, Rejected: res.Rejected, Stale: res.Stale,
		ExpectedFailures: res.ExpectedFailures, ByAction: map[string]int{}, ByRisk: map[string]int{}, Model: res.Model,
		Seconds: time.Since(began).Seconds()}
	for a, n := range res.Totals.ByAction {
		sum.ByAction[string(a)] = n
	}
	for r, n := range res.Totals.ByRisk {
		sum.ByRisk[string(r)] = n
	}
	j, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	slog.Info("account scored", "account", account, "history_events", len(events), "sends", res.Sends, "seconds", sum.Seconds)
	emit(summaryKey, j)
	return nil
}

// writeHistory writes an account's events, in order, as one history file.
func writeHistory(path string, events []keyedEvent) error {
	w, err := pipeline.NewHistoryWriter(path, pipeline.WriteOptions{})
	if err != nil {
		return err
	}
	batch := make([]pipeline.Event, 0, 8192)
	for i := range events {
		batch = append(batch, events[i].e)
		if len(batch) == cap(batch) || i == len(events)-1 {
			if err := w.Write(batch); err != nil {
				w.Abort()
				return err
			}
			batch = batch[:0]
		}
	}
	return w.Close()
}

// Summary is the merged summary.json of a Beam scoring run.
type Summary struct {
	Model            string         `json:"model"`
	AsOf             string         `json:"as_of"`
	Shards           []shardSummary `json:"shards"`
	Sends            int            `json:"sends"`
	Rejected         int            `json:"rejected"`
	Stale            int            `json:"stale"`
	ExpectedFailures float64        `json:"expected_failures"`
	ByAction         map[string]int `json:"by_action"`
	ByRisk           map[string]int `json:"by_risk"`
}

// mergeScoresFn writes summary.json and the merged campaigns.csv (every
// shard's campaigns, ordered as score orders them: expected failures
// descending, then campaign id).
type mergeScoresFn struct {
	Out string
}

func (f *mergeScoresFn) ProcessElement(ctx context.Context, _ string, parts func(*[]byte) bool) error {
	sum := Summary{ByAction: map[string]int{}, ByRisk: map[string]int{}}
	var b []byte
	for parts(&b) {
		var s shardSummary
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("shard summary: %w", err)
		}
		if sum.Model != "" && s.Model != sum.Model {
			return fmt.Errorf("shards scored with two models (%s, %s)", sum.Model, s.Model)
		}
		sum.Model = s.Model
		sum.Shards = append(sum.Shards, s)
		sum.Sends += s.Sends
		sum.Rejected += s.Rejected
		sum.Stale += s.Stale
		sum.ExpectedFailures += s.ExpectedFailures
		for k, n := range s.ByAction {
			sum.ByAction[k] += n
		}
		for k, n := range s.ByRisk {
			sum.ByRisk[k] += n
		}
	}
	slices.SortFunc(sum.Shards, func(a, b shardSummary) int { return strings.Compare(a.Account, b.Account) })
	var dirs []string
	for _, s := range sum.Shards {
		dirs = append(dirs, s.Dir)
	}
	camps, err := mergeCampaigns(dirs)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(f.Out, scoring.CampaignsFile), func(w *atomicfile.File) error {
		_, err := w.Write(camps)
		return err
	}); err != nil {
		return err
	}
	j, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(f.Out, "summary.json"), func(w *atomicfile.File) error {
		_, err := w.Write(append(j, '\n'))
		return err
	}); err != nil {
		return err
	}
	slog.Info("scoring merged", "shards", len(sum.Shards), "sends", sum.Sends, "expected_failures", sum.ExpectedFailures, "out", f.Out)
	return nil
}

// mergeCampaigns concatenates the shards' campaigns.csv in score's order.
func mergeCampaigns(dirs []string) ([]byte, error) {
	cols := predictions.CampaignColumns()
	idIdx, expIdx := slices.Index(cols, predictions.ColCampaignID), slices.Index(cols, "expected_failures")
	if idIdx < 0 || expIdx < 0 {
		return nil, fmt.Errorf("campaigns.csv contract lacks campaign_id or expected_failures")
	}
	type rec struct {
		fields []string
		exp    float64
	}
	var recs []rec
	for _, d := range dirs {
		path := filepath.Join(d, scoring.CampaignsFile)
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rows) == 0 || !slices.Equal(rows[0], cols) {
			return nil, fmt.Errorf("%s: header is not the campaigns.csv contract", path)
		}
		for i, r := range rows[1:] {
			v, err := strconv.ParseFloat(r[expIdx], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: row %d: expected_failures %q: %w", path, i+2, r[expIdx], err)
			}
			recs = append(recs, rec{r, v})
		}
	}
	slices.SortStableFunc(recs, func(a, b rec) int {
		switch {
		case a.exp > b.exp:
			return -1
		case a.exp < b.exp:
			return 1
		}
		return strings.Compare(a.fields[idIdx], b.fields[idIdx])
	})
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(cols)
	for _, r := range recs {
		w.Write(r.fields)
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
