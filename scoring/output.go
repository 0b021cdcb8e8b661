package scoring

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/internal/atomicfile"
)

// outputNames are the files a run may leave in its output directory;
// anything else there is not score's.
var outputNames = []string{PredictionsFile, CampaignsFile, RejectedFile, EvaluationFile, DriftFile}

// OutputDir writes a run's set of output files all or nothing: the files
// are written into a new staging directory beside the output directory
// (atomicfile.StageDir) and Commit switches it into the output
// directory's place in one step (atomicfile.SwitchDir), so readers see
// the earlier run's files or this run's, never a mix, and a run that is
// killed or fails leaves the earlier files as they were. The output
// directory is the run's own: it holds only the files of one run
// (outputNames), and one run at a time writes it (an OS file lock beside
// it, atomicfile.TryLock). NewOutputDir removes what killed runs left:
// staging directories and temporary files.
type OutputDir struct {
	dir     string // the output directory
	stage   string // the staging directory the files are written to
	files   []*atomicfile.File
	release func() // the lock
	done    bool
}

// NewOutputDir locks the output directory dir, removes what killed runs
// left beside and in it (logged to log, which may be nil), and stages a
// new version of it. An output directory holding other files than a
// run's is refused (a usage error naming them); another run writing it is
// exitcode.Locked.
func NewOutputDir(dir string, log *slog.Logger) (*OutputDir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("output directory %s: %w", dir, err)
	}
	if filepath.Dir(abs) == abs {
		return nil, exitcode.Usagef("--out %s: want a directory of its own, not the file system root", dir)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	release, ok, err := atomicfile.TryLock(abs)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, exitcode.Wrap(exitcode.Locked, fmt.Errorf("another score run is writing %s (lock %s); wait for it to finish", dir, atomicfile.LockPath(abs)))
	}
	o := &OutputDir{dir: dir, release: release}
	if err := o.open(abs, log); err != nil {
		release()
		return nil, err
	}
	return o, nil
}

func (o *OutputDir) open(abs string, log *slog.Logger) error {
	if restored, err := atomicfile.RecoverDir(abs); err != nil {
		return err
	} else if restored {
		log.Warn("restored the outputs a killed run had moved aside", "out", o.dir)
	}
	cleaned, err := atomicfile.CleanLeftovers(abs)
	if err != nil {
		return fmt.Errorf("remove leftovers of killed runs: %w", err)
	}
	if len(cleaned) > 0 {
		log.Warn("removed leftovers of killed runs", "count", len(cleaned), "first", cleaned[0])
	}
	if err := checkOwnDir(o.dir, abs); err != nil {
		return err
	}
	if o.stage, err = atomicfile.StageDir(abs); err != nil {
		return err
	}
	return nil
}

// checkOwnDir refuses an output directory that holds what a run does not
// write: switching it would remove those files.
func checkOwnDir(name, abs string) error {
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !st.IsDir():
		return exitcode.Usagef("--out %s is a file, not a directory", name)
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return err
	}
	var foreign []string
	for _, e := range entries {
		if !slices.Contains(outputNames, e.Name()) || !e.Type().IsRegular() {
			foreign = append(foreign, e.Name())
		}
	}
	if len(foreign) > 0 {
		return exitcode.Usagef("--out %s holds %s, which score does not write: each run replaces the whole directory (so that its files change together), so give score a directory of its own",
			name, strings.Join(foreign, ", "))
	}
	return nil
}

// Path returns the final path of the output file name.
func (o *OutputDir) Path(name string) string { return filepath.Join(o.dir, name) }

// Create starts the output file name (a base name) and returns a buffered
// writer for it. Nothing is visible in the output directory before
// Commit.
func (o *OutputDir) Create(name string) (io.Writer, error) {
	if o.done {
		return nil, fmt.Errorf("output %s: already committed or aborted", o.Path(name))
	}
	if name != filepath.Base(name) || name == "." || name == ".." {
		return nil, fmt.Errorf("output %q: want a file name without directories", name)
	}
	f, err := atomicfile.Create(filepath.Join(o.stage, name))
	if err != nil {
		return nil, err
	}
	o.files = append(o.files, f)
	return f, nil
}

// testHookBeforeSwitch, when set by a test, runs once the outputs are
// staged, just before they are switched into place.
var testHookBeforeSwitch func()

// Commit finishes every file in the staging directory, then switches it
// into the output directory's place. If anything fails before the
// switch, the output directory is left as it was.
func (o *OutputDir) Commit() error {
	if o.done {
		return errors.New("outputs already committed or aborted")
	}
	for _, f := range o.files {
		if err := f.Commit(); err != nil {
			o.Abort()
			return err
		}
	}
	if testHookBeforeSwitch != nil {
		testHookBeforeSwitch()
	}
	if err := atomicfile.SwitchDir(o.stage, filepath.Clean(o.dir)); err != nil {
		o.Abort()
		return err
	}
	o.done = true
	o.release()
	return nil
}

// Abort removes the staging directory and releases the lock. It is a
// no-op after Commit.
func (o *OutputDir) Abort() {
	if o.done {
		return
	}
	o.done = true
	for _, f := range o.files {
		f.Abort()
	}
	os.RemoveAll(o.stage)
	o.release()
}
