package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/failcast/failcast/exitcode"
)

// DuplicateFileError reports two files of a dataset that hold the same
// events: a copy of a partition file left in its directory (part-0
// (copy).parquet, a backup), which a scan would count twice.
type DuplicateFileError struct {
	File, Copy string
	How        string // what they share: "same size and row groups" or "same event ids"
}

func (e *DuplicateFileError) Error() string {
	return fmt.Sprintf("%s and %s hold the same events (%s): the dataset would count them twice; remove one of them", e.File, e.Copy, e.How)
}

// Misfiled is a file under a dt=YYYY-MM-DD directory whose rows are not
// all of that day, as its timestamp statistics say.
type Misfiled struct {
	File     string
	Day      string // the directory's day
	Min, Max int64  // the rows' timestamp range, Unix micros
}

// Check reads every file's footer and verifies the dataset as a whole,
// once (the result is cached; Scan and TimeRange call it):
//
//   - two files holding the same events are an error
//     (*DuplicateFileError, classed exitcode.Input): same size and the
//     same row groups (rows and timestamp ranges), or the same rows and
//     range and the same set of event ids;
//   - files under a dt= directory whose timestamp statistics fall outside
//     that day are misfiled: they are reported by name in a warning and
//     by Misfiled, and scans prune them by their statistics only, never by
//     their directory, so their rows are not dropped by a time range.
//
// Files without timestamp statistics (INT96 timestamps) are not checked
// for misfiling.
func (d *Dataset) Check(ctx context.Context) error {
	d.mu.Lock()
	if d.checked {
		err := d.checkErr
		d.mu.Unlock()
		return err
	}
	d.mu.Unlock()
	err := d.check(ctx)
	d.mu.Lock()
	d.checked, d.checkErr = true, err
	d.mu.Unlock()
	return err
}

// Misfiled returns the misfiled files Check found.
func (d *Dataset) Misfiled() []Misfiled {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Misfiled, 0, len(d.misfiled))
	for _, path := range d.files {
		if m, ok := d.misfiled[path]; ok {
			out = append(out, m)
		}
	}
	return out
}

// fileRange is a file's row count and timestamp range from statistics;
// ok is false when some row group has no statistics.
func (m *fileMeta) fileRange() (rows, lo, hi int64, ok bool) {
	lo, hi, ok = maxInt64, minInt64, true
	for _, g := range m.groups {
		rows += g.rows
		if g.rows == 0 {
			continue
		}
		if !g.hasStats {
			ok = false
			continue
		}
		lo, hi = minOf(lo, g.min), maxOf(hi, g.max)
	}
	return rows, lo, hi, ok
}

func (d *Dataset) check(ctx context.Context) error {
	type key struct{ rows, lo, hi int64 }
	byRange := map[key][]*fileMeta{}
	misfiled := map[string]Misfiled{}
	for _, path := range d.files {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := d.meta(path)
		if err != nil {
			return err
		}
		rows, lo, hi, ok := m.fileRange()
		if !ok || rows == 0 {
			continue
		}
		if m.hasDay && (dayOf(lo) != m.day || dayOf(hi) != m.day) {
			day := time.UnixMicro(m.day * microsPerDay).UTC().Format(time.DateOnly)
			misfiled[path] = Misfiled{File: path, Day: day, Min: lo, Max: hi}
			slog.Warn("history file holds rows outside its dt= partition; it is read whole, whatever the time range, move its rows to their partitions",
				"file", path, "partition", day, "first", time.UnixMicro(lo).UTC().Format(time.RFC3339), "last", time.UnixMicro(hi).UTC().Format(time.RFC3339))
		}
		k := key{rows, lo, hi}
		for _, other := range byRange[k] {
			if how, err := sameEvents(ctx, other, m); err != nil {
				return err
			} else if how != "" {
				return exitcode.AsInput(&DuplicateFileError{File: other.path, Copy: m.path, How: how})
			}
		}
		byRange[k] = append(byRange[k], m)
	}
	d.mu.Lock()
	d.misfiled = misfiled
	d.mu.Unlock()
	return nil
}

// sameEvents compares two files with the same rows and time range: equal
// sizes and row groups, else equal sets of event ids.
func sameEvents(ctx context.Context, a, b *fileMeta) (string, error) {
	if a.size == b.size && len(a.groups) == len(b.groups) {
		same := true
		for i := range a.groups {
			ga, gb := a.groups[i], b.groups[i]
			if ga.rows != gb.rows || ga.min != gb.min || ga.max != gb.max || ga.hasStats != gb.hasStats {
				same = false
				break
			}
		}
		if same {
			return "same size and row groups", nil
		}
	}
	if a.requireColumns([]int{hcEventID}) != nil || b.requireColumns([]int{hcEventID}) != nil {
		return "", nil
	}
	ids := map[string]bool{}
	if err := a.eachEventID(ctx, func(id string) bool { ids[id] = true; return true }); err != nil {
		return "", err
	}
	all := true
	if err := b.eachEventID(ctx, func(id string) bool {
		all = all && ids[id]
		return all
	}); err != nil {
		return "", err
	}
	if all {
		return "same event ids", nil
	}
	return "", nil
}

// eachEventID calls fn with every event id of the file until fn returns
// false.
func (m *fileMeta) eachEventID(ctx context.Context, fn func(string) bool) error {
	buf := newEventBatch(4096)
	for _, g := range m.groups {
		rd, err := newGroupReader(m, g, []int{hcEventID}, minInt64, maxInt64, nil, false, nil)
		if err != nil {
			return err
		}
		for {
			if err := ctx.Err(); err != nil {
				rd.close()
				return err
			}
			n, done, err := rd.read(buf)
			if err != nil {
				rd.close()
				return err
			}
			for i := range buf[:n] {
				if !fn(buf[i].EventID) {
					rd.close()
					return nil
				}
			}
			if done {
				break
			}
		}
		rd.close()
	}
	return nil
}
