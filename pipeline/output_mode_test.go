package pipeline

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/failcast/failcast/internal/atomicfile"
)

func TestOutputFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits")
	}
	events := genEvents(200, 12, day0, 2_000_000_000, 20) // ~5 days
	outcomes := []PlanOutcome{{SendID: "s1", ErrorCode: NoErrorCode}, {SendID: "s2", Failed: true, ErrorCode: 131026}}
	tests := []struct {
		name  string
		write func(dir string) error
		files string // glob below dir of the files written
		want  int    // number of files
	}{
		{"history file", func(dir string) error {
			w, err := NewHistoryWriter(filepath.Join(dir, "h.parquet"), WriteOptions{})
			if err != nil {
				return err
			}
			if err := w.Write(events); err != nil {
				w.Abort()
				return err
			}
			return w.Close()
		}, "h.parquet", 1},
		{"partitioned history", func(dir string) error {
			w, err := NewPartitionedHistoryWriter(filepath.Join(dir, "history"), WriteOptions{})
			if err != nil {
				return err
			}
			if err := w.Write(events); err != nil {
				w.Abort()
				return err
			}
			return w.Close()
		}, "history/dt=*/part-0.parquet", int(dayOf(events[len(events)-1].Timestamp)-dayOf(events[0].Timestamp)) + 1},
		{"plan csv", func(dir string) error { return WritePlan(filepath.Join(dir, "plan.csv"), samplePlan()) }, "plan.csv", 1},
		{"plan parquet", func(dir string) error { return WritePlan(filepath.Join(dir, "plan.parquet"), samplePlan()) }, "plan.parquet", 1},
		{"outcomes csv", func(dir string) error { return WriteOutcomes(filepath.Join(dir, "o.csv"), outcomes) }, "o.csv", 1},
		{"outcomes parquet", func(dir string) error { return WriteOutcomes(filepath.Join(dir, "o.parquet"), outcomes) }, "o.parquet", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tc.write(dir); err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, tc.files))
			if len(files) != tc.want {
				t.Fatalf("%d files match %s, want %d", len(files), tc.files, tc.want)
			}
			for _, f := range files {
				st, err := os.Stat(f)
				if err != nil {
					t.Fatal(err)
				}
				if got := st.Mode().Perm(); got != atomicfile.Mode {
					t.Errorf("%s: mode %v, want %v", f, got, atomicfile.Mode)
				}
			}
		})
	}
}
