package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"testing"
)

func TestAtomicFileLifecycle(t *testing.T) {
	tests := []struct {
		name     string
		steps    func(f *File) error
		wantFile bool // the final file exists afterwards
	}{
		{"commit", func(f *File) error { return f.Commit() }, true},
		{"seal then commit", func(f *File) error {
			if err := f.Seal(); err != nil {
				return err
			}
			return f.Commit()
		}, true},
		{"seal then abort", func(f *File) error {
			if err := f.Seal(); err != nil {
				return err
			}
			return f.Abort()
		}, false},
		{"abort", func(f *File) error { return f.Abort() }, false},
		{"abort after commit is a no-op", func(f *File) error {
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
			f, err := Create(path)
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
