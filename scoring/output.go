package scoring

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/failcast/failcast/internal/atomicfile"
)

// OutputDir writes a set of output files atomically: each file is written
// to a temporary file in the target directory and renamed into place only
// when Commit is called, after every file was written in full. A run that
// fails calls Abort, which removes the temporary files and leaves the
// outputs of an earlier run untouched.
type OutputDir struct {
	dir   string
	files []*pendingFile
	done  bool
}

type pendingFile struct {
	name string
	file *atomicfile.File
}

// NewOutputDir creates dir if needed and returns an OutputDir for it.
func NewOutputDir(dir string) (*OutputDir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	return &OutputDir{dir: dir}, nil
}

// Path returns the final path of the output file name.
func (o *OutputDir) Path(name string) string { return filepath.Join(o.dir, name) }

// Create starts the output file name (a base name) and returns a buffered
// writer for it. Nothing is visible under the final name before Commit.
func (o *OutputDir) Create(name string) (io.Writer, error) {
	if o.done {
		return nil, fmt.Errorf("output %s: already committed or aborted", o.Path(name))
	}
	if name != filepath.Base(name) || name == "." || name == ".." {
		return nil, fmt.Errorf("output %q: want a file name without directories", name)
	}
	f, err := atomicfile.Create(o.Path(name))
	if err != nil {
		return nil, err
	}
	o.files = append(o.files, &pendingFile{name: name, file: f})
	return f, nil
}

// Commit finishes every file, then renames them into place. If any file
// fails before the renames, none is renamed.
func (o *OutputDir) Commit() error {
	if o.done {
		return errors.New("outputs already committed or aborted")
	}
	for _, f := range o.files {
		if err := f.file.Seal(); err != nil {
			o.Abort()
			return err
		}
	}
	o.done = true
	for i, f := range o.files {
		if err := f.file.Commit(); err != nil {
			for _, g := range o.files[i+1:] {
				g.file.Abort()
			}
			return err
		}
	}
	return nil
}

// Abort removes every temporary file. It is a no-op after Commit.
func (o *OutputDir) Abort() {
	if o.done {
		return
	}
	o.done = true
	for _, f := range o.files {
		f.file.Abort()
	}
}
