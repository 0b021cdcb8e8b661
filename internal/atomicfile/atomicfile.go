package atomicfile

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Mode is the permission of every file failcast writes (histories, plans,
// outcomes, predictions, models, reports): readable by everyone, writable
// by the owner. Temporary files start private (os.CreateTemp's
// 0600) and get this mode before they are renamed into place.
const Mode os.FileMode = 0o644

// File is a file written under a temporary name in the directory of
// its final path and renamed into place on Commit, so readers never see a
// half-written file and a failed write leaves an earlier file untouched.
//
// Its life is open -> sealed -> done. Seal flushes and closes the
// temporary file (releasing its buffer and descriptor) without renaming
// it, so many finished files can wait for a joint commit at little cost;
// Commit seals if needed and renames; Abort removes the temporary file.
type File struct {
	path    string // final path
	tmpName string // temporary path
	tmp     *os.File
	buf     *bufio.Writer
	sealed  bool // tmp is flushed, chmodded and closed; tmp and buf are nil
	done    bool // committed or aborted
	umask   bool // keep the mode the umask gave (CreateUmask): no chmod
}

// Create creates the temporary file for path, buffered. The directory of path
// is created if needed.
func Create(path string) (*File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create directory for %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	return &File{path: path, tmpName: tmp.Name(), tmp: tmp, buf: bufio.NewWriterSize(tmp, 1<<20)}, nil
}

// CreateUmask is Create for files that must not be more readable than
// the user's umask allows (files holding raw input, such as the export's
// reject file): the file gets mode 0666 &^ umask, as os.Create gives,
// instead of Mode.
func CreateUmask(path string) (*File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create directory for %s: %w", path, err)
	}
	for range 100 {
		name := filepath.Join(dir, "."+filepath.Base(path)+".tmp-"+randomSuffix())
		tmp, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666) // the kernel applies the umask
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create temporary file for %s: %w", path, err)
		}
		return &File{path: path, tmpName: name, tmp: tmp, buf: bufio.NewWriterSize(tmp, 1<<20), umask: true}, nil
	}
	return nil, fmt.Errorf("create temporary file for %s: no free name", path)
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Write writes to the temporary file.
func (f *File) Write(p []byte) (int, error) {
	if f.sealed || f.done {
		return 0, fmt.Errorf("write %s: file already finished", f.path)
	}
	return f.buf.Write(p)
}

// Seal flushes and syncs the temporary file, sets its mode to
// Mode and closes it, keeping it under its temporary name for
// commit. On failure the temporary file is removed. Sealing twice is a
// no-op.
func (f *File) Seal() error {
	if f.done {
		return fmt.Errorf("%s: already committed or aborted", f.path)
	}
	if f.sealed {
		return nil
	}
	err := f.buf.Flush()
	if err == nil && !f.umask {
		err = f.tmp.Chmod(Mode)
	}
	if err == nil {
		err = f.tmp.Sync()
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	f.tmp, f.buf, f.sealed = nil, nil, true
	if err != nil {
		f.done = true
		os.Remove(f.tmpName)
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

// Commit seals the temporary file if needed and renames it to the final
// path. On failure the temporary file is removed.
func (f *File) Commit() error {
	if err := f.Seal(); err != nil {
		return err
	}
	f.done = true
	if err := os.Rename(f.tmpName, f.path); err != nil {
		os.Remove(f.tmpName)
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

// Abort closes and removes the temporary file. It is a no-op after commit.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	if !f.sealed {
		f.tmp.Close()
		f.tmp, f.buf, f.sealed = nil, nil, true
	}
	if err := os.Remove(f.tmpName); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove temporary file for %s: %w", f.path, err)
	}
	return nil
}

// WriteFile writes the file path atomically with the function write:
// if write fails, nothing is left behind and an earlier file stays.
func WriteFile(path string, write func(f *File) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// Sealed reports whether the file is sealed, committed or aborted: its
// temporary file no longer holds a descriptor or buffer.
func (f *File) Sealed() bool { return f.sealed || f.done }

// Name returns the final path of the file.
func (f *File) Name() string { return f.path }

// TempName returns the temporary path the file is written under until
// Commit.
func (f *File) TempName() string { return f.tmpName }

// WriteBytes writes data to path atomically.
func WriteBytes(path string, data []byte) error {
	return WriteFile(path, func(f *File) error {
		_, err := f.Write(data)
		return err
	})
}
