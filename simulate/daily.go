package simulate

import (
	"slices"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// dailyWriter writes a hive-partitioned history (pipeline.PartitionPath),
// closing each day's file as soon as the next day starts, so that only one
// partition is held in memory. Each file is renamed into place when its day
// is done; WriteOutputs writes into a staging directory, so the dataset as
// a whole still appears at once.
type dailyWriter struct {
	dir     string
	current *pipeline.HistoryWriter
	day     int64
	// accountDropped counts the account events left out because the
	// history contract has no account columns (see historyKeepsAccount).
	accountDropped int64
	kept           []pipeline.Event
}

// historyKeepsAccount reports whether history files keep account events:
// only once the history contract declares their columns
// (pipeline.HistoryColumns), which the Parquet reader then accepts. Until
// then they are left out of history/ (and counted); raw/webhooks.ndjson
// carries them.
var historyKeepsAccount = slices.Contains(pipeline.HistoryColumns, pipeline.ColAccountValue)

// dropAccount returns events without the account events, in w.kept.
func (w *dailyWriter) dropAccount(events []pipeline.Event) []pipeline.Event {
	w.kept = w.kept[:0]
	for i := range events {
		if events[i].Status.IsAccountEvent() {
			w.accountDropped++
			continue
		}
		w.kept = append(w.kept, events[i])
	}
	return w.kept
}

const microsPerDay = int64(24 * time.Hour / time.Microsecond)

// rowGroupRows bounds the rows a partition buffers before writing them.
const rowGroupRows = 1 << 17

func (w *dailyWriter) Write(events []pipeline.Event) error {
	if !historyKeepsAccount {
		events = w.dropAccount(events)
	}
	for len(events) > 0 {
		day := events[0].Timestamp / microsPerDay
		n := 1
		for n < len(events) && events[n].Timestamp/microsPerDay == day {
			n++
		}
		if w.current == nil || day != w.day {
			if err := w.closeDay(); err != nil {
				return err
			}
			hw, err := pipeline.NewHistoryWriter(pipeline.PartitionPath(w.dir, time.UnixMicro(day*microsPerDay)), pipeline.WriteOptions{RowGroupRows: rowGroupRows})
			if err != nil {
				return err
			}
			w.current, w.day = hw, day
		}
		if err := w.current.Write(events[:n]); err != nil {
			return err
		}
		events = events[n:]
	}
	return nil
}

func (w *dailyWriter) closeDay() error {
	if w.current == nil {
		return nil
	}
	err := w.current.Close()
	w.current = nil
	return err
}

// Close finishes the last day.
func (w *dailyWriter) Close() error { return w.closeDay() }

// Abort removes the unfinished day's file (finished days are in the staging
// directory, which the command removes).
func (w *dailyWriter) Abort() error {
	if w.current == nil {
		return nil
	}
	err := w.current.Abort()
	w.current = nil
	return err
}
