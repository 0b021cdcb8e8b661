package pipeline

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestPlanTimesSorted: the scheduled_at column alone tells whether a
// Parquet plan's rows are in time order, as ReadPlanWith would read the
// times (units, mapped names); whatever it cannot tell cheaply (CSV,
// string times, nulls, a missing file) is "not sorted", never a wrong
// "sorted". Every answer is checked against the rows ReadPlanWith reads.
func TestPlanTimesSorted(t *testing.T) {
	dir := t.TempDir()
	base := samplePlan() // three sends, a microsecond apart
	swapped := slices.Clone(base)
	swapped[1], swapped[2] = swapped[2], swapped[1]
	ties := slices.Clone(base)
	ties[1].ScheduledAt = ties[0].ScheduledAt
	plan := func(name string, s []PlannedSend) string {
		path := filepath.Join(dir, name)
		if err := WritePlan(path, s); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// Unix times of mixed units (ReadPlan tells them by magnitude):
	// seconds, then milliseconds, then microseconds of later times.
	type unixPlan struct {
		SendID      string `parquet:"send_id"`
		Recipient   string `parquet:"recipient"`
		When        int64  `parquet:"when"`
		Category    string `parquet:"category"`
		MessageType string `parquet:"message_type"`
	}
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	mixed := []unixPlan{
		{"a", "h:1", at.Unix(), "utility", "template"},
		{"b", "h:2", at.UnixMilli() + 1, "utility", "template"},
		{"c", "h:3", at.UnixMicro() + 2000, "utility", "template"},
	}
	mixedPath := filepath.Join(dir, "mixed.parquet")
	writeRecords(t, mixedPath, mixed)
	// The same values read as one unit would be out of order.
	mixedBack := []unixPlan{mixed[0], mixed[2], mixed[1]}
	mixedBackPath := filepath.Join(dir, "mixed-back.parquet")
	writeRecords(t, mixedBackPath, mixedBack)
	type stringPlan struct {
		SendID      string `parquet:"send_id"`
		Recipient   string `parquet:"recipient"`
		ScheduledAt string `parquet:"scheduled_at"`
		Category    string `parquet:"category"`
		MessageType string `parquet:"message_type"`
	}
	stringPath := filepath.Join(dir, "strings.parquet")
	writeRecords(t, stringPath, []stringPlan{{"a", "h:1", "2026-11-01T09:00:00Z", "utility", "template"}})
	type nullPlan struct {
		SendID      string `parquet:"send_id"`
		Recipient   string `parquet:"recipient"`
		ScheduledAt *int64 `parquet:"scheduled_at,optional,timestamp(microsecond)"`
		Category    string `parquet:"category"`
		MessageType string `parquet:"message_type"`
	}
	us := at.UnixMicro()
	nullPath := filepath.Join(dir, "nulls.parquet")
	writeRecords(t, nullPath, []nullPlan{{"a", "h:1", &us, "utility", "template"}, {"b", "h:2", nil, "utility", "template"}})

	mapped := PlanOptions{Mapping: PlanMapping{ColScheduledAt: "when"}}
	tests := []struct {
		name string
		path string
		opts PlanOptions
		want bool
	}{
		{"in order", plan("sorted.parquet", base), PlanOptions{}, true},
		{"ties", plan("ties.parquet", ties), PlanOptions{}, true},
		{"out of order", plan("swapped.parquet", swapped), PlanOptions{}, false},
		{"one row", plan("one.parquet", base[:1]), PlanOptions{}, true},
		{"csv", plan("sorted.csv", base), PlanOptions{}, false},
		{"mapped mixed units in order", mixedPath, mapped, true},
		{"mapped mixed units out of order", mixedBackPath, mapped, false},
		{"string times", stringPath, PlanOptions{}, false},
		{"null time", nullPath, PlanOptions{}, false},
		{"missing file", filepath.Join(dir, "missing.parquet"), PlanOptions{}, false},
		{"no scheduled_at", mixedPath, PlanOptions{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlanTimesSorted(context.Background(), tt.path, tt.opts)
			if got != tt.want {
				t.Fatalf("PlanTimesSorted = %v, want %v", got, tt.want)
			}
			if !got {
				return
			}
			var rows []PlannedSend
			err := ReadPlanWith(context.Background(), tt.path, tt.opts, nil, func(b []PlannedSend) error {
				rows = append(rows, b...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) == 0 || !slices.IsSortedFunc(rows, func(a, b PlannedSend) int { return int(a.ScheduledAt - b.ScheduledAt) }) {
				t.Fatalf("sorted, but ReadPlanWith reads %d rows out of order", len(rows))
			}
		})
	}
}

// TestPlanRowsHint: a Parquet plan's row count comes from its footer;
// anything else is 0 (unknown), never an error.
func TestPlanRowsHint(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		rows int
		want int
	}{{"plan.parquet", 3, 3}, {"empty.parquet", 0, 0}, {"plan.csv", 3, 0}}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		if err := WritePlan(path, samplePlan()[:tt.rows]); err != nil {
			t.Fatal(err)
		}
		if got := PlanRowsHint(path); got != tt.want {
			t.Errorf("%s: PlanRowsHint = %d, want %d", tt.name, got, tt.want)
		}
	}
	if got := PlanRowsHint(filepath.Join(dir, "missing.parquet")); got != 0 {
		t.Errorf("missing file: %d", got)
	}
}
