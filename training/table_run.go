package training

import (
	"context"
	"fmt"
	"slices"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models/evaluate"
	"github.com/failcast/failcast/pipeline"
)

// RunTable is Run on a feature table built elsewhere from the same
// history and windows (scale/beam's training-table pipeline, read with
// features.ReadParquet) instead of a table built from cfg.History, which
// then only names the input in messages. The table must be this build's
// features, in time order, with every row in [From, AsOf) of cfg's
// windows: a row at or after as-of is refused (the label-leakage guard
// holds for tables too). Everything after the table (split, models,
// champion comparison, registry) is Run's.
func RunTable(ctx context.Context, cfg Config, tab *features.Table) (*Result, error) {
	if tab == nil {
		return nil, exitcode.Usagef("RunTable: no table")
	}
	cfg.table = tab
	return Run(ctx, cfg)
}

// features returns the run's feature table: cfg.table, checked against the
// windows, or one built from cfg.History.
func (t *trainer) features(ctx context.Context, w Windows, out *features.ParquetWriter) (*features.Table, error) {
	tab := t.cfg.table
	if tab == nil {
		ds, err := pipeline.OpenDataset(t.cfg.History)
		if err != nil {
			return nil, exitcode.AsInput(fmt.Errorf("history: %w", err))
		}
		if err := pipeline.CheckHashKey(ds, t.cfg.HashKey, t.cfg.HashKeyFrom); err != nil {
			return nil, err
		}
		return t.buildFeatures(ctx, ds, w, out)
	}
	name := t.historyName()
	switch {
	case !slices.Equal(tab.Names, features.Names()):
		return nil, exitcode.Inputf("feature table %s has %d features, this build computes %d (schema %s)", name, len(tab.Names), len(features.Names()), features.SchemaHash())
	case tab.Rows == 0:
		return nil, exitcode.Inputf("feature table %s has no rows", name)
	case !slices.IsSorted(tab.Time):
		return nil, exitcode.Inputf("feature table %s is not in send time order", name)
	case tab.Time[0] < w.From.UnixMicro():
		return nil, exitcode.Inputf("feature table %s starts at %s, before the training window's start %s: built with other windows?",
			name, evaluate.FormatMicros(tab.Time[0]), evaluate.FormatMicros(w.From.UnixMicro()))
	case tab.Time[tab.Rows-1] >= w.AsOf.UnixMicro():
		return nil, exitcode.Inputf("feature table %s has a send at %s, at or after --as-of %s: refusing to train on it",
			name, evaluate.FormatMicros(tab.Time[tab.Rows-1]), evaluate.FormatMicros(w.AsOf.UnixMicro()))
	}
	t.log.Info("training on a given feature table", "table", name, "rows", tab.Rows)
	if out != nil {
		if err := out.Write(tab); err != nil {
			return nil, fmt.Errorf("--features-out: %w", err)
		}
	}
	return tab, nil
}
