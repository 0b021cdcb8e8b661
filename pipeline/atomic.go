package pipeline

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// atomicFile is a file written under a temporary name in the directory of
// its final path and renamed into place on commit, so readers never see a
// half-written file and a failed write leaves an earlier file untouched.
type atomicFile struct {
	path string // final path
	tmp  *os.File
	buf  *bufio.Writer
	done bool
}

// createAtomic creates the temporary file for path. The directory of path
// is created if needed.
func createAtomic(path string) (*atomicFile, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create directory for %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	return &atomicFile{path: path, tmp: tmp, buf: bufio.NewWriterSize(tmp, 1<<20)}, nil
}

// Write writes to the temporary file.
func (f *atomicFile) Write(p []byte) (int, error) { return f.buf.Write(p) }

// commit flushes, syncs and closes the temporary file and renames it to the
// final path. On failure the temporary file is removed.
func (f *atomicFile) commit() error {
	if f.done {
		return fmt.Errorf("%s: already committed or aborted", f.path)
	}
	f.done = true
	err := f.buf.Flush()
	if err == nil {
		err = f.tmp.Sync()
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.tmp.Name())
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

// abort closes and removes the temporary file. It is a no-op after commit.
func (f *atomicFile) abort() error {
	if f.done {
		return nil
	}
	f.done = true
	f.tmp.Close()
	if err := os.Remove(f.tmp.Name()); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove temporary file for %s: %w", f.path, err)
	}
	return nil
}

// writeFileAtomic writes a whole file atomically with the function write.
func writeFileAtomic(path string, write func(f *atomicFile) error) error {
	f, err := createAtomic(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.abort()
		return err
	}
	return f.commit()
}
