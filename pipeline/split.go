package pipeline

import (
	"context"
	"fmt"
)

// Split is one row group of a history dataset: the unit that distributed
// readers (scale/beam) hand to their workers. Scanning every split of
// Splits with ScanSplit and ordering all events by (Timestamp, Rank,
// position within their split's scan) gives exactly Scan's order, so a
// reader that regroups the events (by account, say) can restore, for
// each group, the order a single Scan would have given it.
type Split struct {
	File  string // Parquet file path
	Group int    // row group index within the file
	Rank  int    // the row group's place in Scan's order
	Rows  int64  // rows in the row group (before any time filter)
	Min   int64  // smallest Timestamp, Unix µs
	Max   int64  // largest Timestamp, Unix µs
}

// Splits returns the row groups a Scan with these options would read, in
// the order it reads them (Rank 0, 1, ...). It checks the dataset and
// every file's schema for opts.Columns as Scan does.
func (d *Dataset) Splits(ctx context.Context, opts ScanOptions) ([]Split, error) {
	ss, err := setupScan(opts)
	if err != nil {
		return nil, err
	}
	if err := d.Check(ctx); err != nil {
		return nil, err
	}
	units, err := d.plan(ctx, ss.required, ss.from, ss.to, ss.stats)
	if err != nil {
		return nil, err
	}
	out := make([]Split, len(units))
	for i, u := range units {
		out[i] = Split{File: u.meta.path, Group: u.g.index, Rank: u.seq, Rows: u.g.rows, Min: u.g.min, Max: u.g.max}
	}
	return out, nil
}

// ScanSplit scans one split as Scan scans the whole dataset: fn gets its
// events with Timestamps in [opts.From, opts.To), in the order Scan would
// hand them on (time order; an unsorted row group is sorted in memory,
// stably). The split's file is opened on its own; dataset-wide checks are
// Splits' job.
func ScanSplit(ctx context.Context, s Split, opts ScanOptions, fn func(batch []Event) error) error {
	ss, err := setupScan(opts)
	if err != nil {
		return err
	}
	d, err := OpenDatasetFiles([]string{s.File})
	if err != nil {
		return err
	}
	m, err := d.meta(s.File)
	if err != nil {
		return err
	}
	if err := m.requireColumns(ss.required); err != nil {
		return err
	}
	if s.Group < 0 || s.Group >= len(m.groups) {
		return fmt.Errorf("scan split: %s has %d row groups, split names group %d", s.File, len(m.groups), s.Group)
	}
	g, err := m.groupInfo(ctx, s.Group)
	if err != nil {
		return err
	}
	if g.rows != s.Rows {
		return fmt.Errorf("scan split: %s row group %d has %d rows, the split was planned with %d: the file changed since", s.File, s.Group, g.rows, s.Rows)
	}
	if g.rows == 0 || g.max < ss.from || g.min >= ss.to {
		return nil
	}
	ss.stats.FilesOpened.Add(1)
	return ss.scanner(ctx, fn).run([]unit{{meta: m, g: g, seq: s.Rank}})
}
