package scalebeam

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/training"
)

func init() {
	register.DoFn5x1[context.Context, string, func(*[]byte) bool, int64, func(string, []byte), error](&trainShardFn{})
	register.DoFn3x1[context.Context, string, func(*[]byte) bool, error](&writeTableFn{})
}

// tableKey is the one key the training rows of all shards meet under.
const tableKey = "table"

// TrainingConfig is what the training-table pipeline needs: the history,
// where the table goes, and the training run's settings (only those that
// shape the windows and the features are used: AsOf, TrainDays,
// ValidDays, Lead, Refresh, Warmup).
type TrainingConfig struct {
	History string          // dataset spec: file, directory (hive partitions), glob
	Out     string          // Parquet file of the table, as train --features-out writes it
	Train   training.Config // windows and feature settings
}

// TrainingTable adds the training-table pipeline to s: the history before
// as-of is read split by row group, grouped by business account, each
// account folded by the feature engine (features.BuildTrainingShardChunks
// in the windows of training.Config.Windows), and the rows of all
// accounts written to one Parquet file in the order a single-node build
// gives them. It returns the number of splits.
func TrainingTable(s beam.Scope, cfg TrainingConfig) (int, error) {
	if cfg.Out == "" {
		return 0, fmt.Errorf("the training table needs an output path")
	}
	w := cfg.Train.Windows()
	asOf := w.AsOf.UnixMicro()
	from, err := examplesFrom(cfg.History, w, cfg.Train.Warmup)
	if err != nil {
		return 0, err
	}
	frags, phones, ends, n, err := readHistory(s, cfg.History, asOf)
	if err != nil {
		return 0, err
	}
	shards := beam.GroupByKey(s, byAccount(s, frags, phones))
	end := latest(s, ends)
	rows := beam.ParDo(s.Scope("FoldAccounts"), &trainShardFn{Features: w.Features, From: from, AsOf: asOf}, shards, beam.SideInput{Input: end})
	beam.ParDo0(s.Scope("WriteTable"), &writeTableFn{Path: cfg.Out}, beam.GroupByKey(s, rows))
	return n, nil
}

// examplesFrom is the first send time that becomes a training row: the
// windows' From, or later when Warmup asks for history to only warm the
// state (as training.BuildTables does).
func examplesFrom(spec string, w training.Windows, warmup time.Duration) (int64, error) {
	from := w.From.UnixMicro()
	if warmup <= 0 {
		return from, nil
	}
	ds, err := pipeline.OpenDataset(spec)
	if err != nil {
		return 0, fmt.Errorf("history: %w", err)
	}
	minT, _, _, err := ds.TimeRange(context.Background())
	if err != nil {
		return 0, fmt.Errorf("history %s: %w", spec, err)
	}
	return max(from, minT+warmup.Microseconds()), nil
}

// trainShardFn folds one account's history into its training rows.
type trainShardFn struct {
	Features features.Config
	From     int64 // first send time of a training row, Unix µs
	AsOf     int64 // nothing at or after it is read
}

func (f *trainShardFn) ProcessElement(ctx context.Context, account string, frags func(*[]byte) bool, dataEnd int64, emit func(string, []byte)) error {
	events, err := shardEvents(frags)
	if err != nil {
		return fmt.Errorf("account %q: %w", account, err)
	}
	// A row's place is its send's: the first event of its message id.
	first := make(map[string]order, len(events)/3)
	for i := range events {
		if _, ok := first[events[i].e.MessageID]; !ok {
			first[events[i].e.MessageID] = events[i].order()
		}
	}
	began := time.Now()
	rows := 0
	err = features.BuildTrainingShardChunks(ctx, &memSource{events: events}, f.Features, f.From, f.AsOf, dataEnd, func(t *features.Table) error {
		c := rowChunk{tab: t, order: make([]order, t.Rows)}
		for i := range t.Rows {
			o, ok := first[t.ID[i]]
			if !ok {
				return fmt.Errorf("account %q: training row of message %q has no event in the shard", account, t.ID[i])
			}
			c.order[i] = o
		}
		rows += t.Rows
		emit(tableKey, encodeRows(c))
		return nil
	})
	if err != nil {
		return fmt.Errorf("account %q: %w", account, err)
	}
	slog.Info("account folded", "account", account, "events", len(events), "rows", rows, "seconds", time.Since(began).Seconds())
	return nil
}

// writeTableFn writes the rows of all accounts to one Parquet file in
// whole-history order (send time, then the send's place in the scan),
// which is the order of a single-node build.
type writeTableFn struct {
	Path string
}

func (f *writeTableFn) ProcessElement(ctx context.Context, _ string, chunks func(*[]byte) bool) error {
	names := features.Names()
	var parts []rowChunk
	var b []byte
	total := 0
	for chunks(&b) {
		c, err := decodeRows(b, names)
		if err != nil {
			return err
		}
		parts = append(parts, c)
		total += c.tab.Rows
	}
	type ref struct{ part, row int32 }
	refs := make([]ref, 0, total)
	for p, c := range parts {
		for r := range c.tab.Rows {
			refs = append(refs, ref{int32(p), int32(r)})
		}
	}
	slices.SortFunc(refs, func(a, b ref) int {
		return parts[a.part].order[a.row].cmp(parts[b.part].order[b.row])
	})
	w, err := features.NewParquetWriter(f.Path, names)
	if err != nil {
		return err
	}
	defer w.Abort() // after Close, a no-op
	for start := 0; start < len(refs); start += features.ChunkRows {
		sel := refs[start:min(start+features.ChunkRows, len(refs))]
		t := &features.Table{Names: names, Rows: len(sel), X: make([]float32, 0, len(sel)*len(names))}
		for _, r := range sel {
			src := parts[r.part].tab
			i := int(r.row)
			t.X = append(t.X, src.Row(i)...)
			t.Time = append(t.Time, src.Time[i])
			t.ID = append(t.ID, src.ID[i])
			t.CampaignID = append(t.CampaignID, src.CampaignID[i])
			t.PhoneNumberID = append(t.PhoneNumberID, src.PhoneNumberID[i])
			t.Recipient = append(t.Recipient, src.Recipient[i])
			t.Failed = append(t.Failed, src.Failed[i])
			t.Family = append(t.Family, src.Family[i])
			t.Code = append(t.Code, src.Code[i])
			t.Exploration = append(t.Exploration, src.Exploration[i])
			t.Stale = append(t.Stale, src.Stale[i])
		}
		if err := w.Write(t); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	slog.Info("training table written", "path", f.Path, "rows", len(refs), "chunks", len(parts))
	return nil
}

func formatMicros(us int64) string {
	if us == math.MaxInt64 || us == math.MinInt64 {
		return "the end"
	}
	return time.UnixMicro(us).UTC().Format(time.RFC3339)
}
