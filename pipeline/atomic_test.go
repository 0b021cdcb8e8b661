package pipeline

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
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
				if got := st.Mode().Perm(); got != OutputFileMode {
					t.Errorf("%s: mode %v, want %v", f, got, OutputFileMode)
				}
			}
		})
	}
}

func TestAtomicFileLifecycle(t *testing.T) {
	tests := []struct {
		name     string
		steps    func(f *AtomicFile) error
		wantFile bool // the final file exists afterwards
	}{
		{"commit", func(f *AtomicFile) error { return f.Commit() }, true},
		{"seal then commit", func(f *AtomicFile) error {
			if err := f.Seal(); err != nil {
				return err
			}
			return f.Commit()
		}, true},
		{"seal then abort", func(f *AtomicFile) error {
			if err := f.Seal(); err != nil {
				return err
			}
			return f.Abort()
		}, false},
		{"abort", func(f *AtomicFile) error { return f.Abort() }, false},
		{"abort after commit is a no-op", func(f *AtomicFile) error {
			if err := f.Commit(); err != nil {
				return err
			}
			return f.Abort()
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.txt")
			f, err := CreateAtomic(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write([]byte("hello\n")); err != nil {
				t.Fatal(err)
			}
			if err := tc.steps(f); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			switch {
			case tc.wantFile && err != nil:
				t.Fatal(err)
			case tc.wantFile && string(got) != "hello\n":
				t.Fatalf("file holds %q, want %q", got, "hello\n")
			case !tc.wantFile && !errors.Is(err, fs.ErrNotExist):
				t.Fatalf("file exists after %s (err %v)", tc.name, err)
			}
			entries, _ := os.ReadDir(dir)
			if want := map[bool]int{true: 1, false: 0}[tc.wantFile]; len(entries) != want {
				t.Fatalf("%d entries in dir, want %d (temporary file left?)", len(entries), want)
			}
			if _, err := f.Write([]byte("x")); err == nil {
				t.Fatal("write after finish succeeded")
			}
			if err := f.Commit(); err == nil {
				t.Fatal("second commit succeeded")
			}
		})
	}
}
