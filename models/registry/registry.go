package registry

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Names inside a registry directory.
const (
	VersionsDir = "versions"
	CurrentLink = "current"
	tempPrefix  = ".tmp-"
)

// ErrNoChampion is returned by Current when no version has been promoted.
var ErrNoChampion = errors.New("registry has no champion yet")

// ErrNotLocked is returned by operations that change the registry when the
// caller does not hold its lock.
var ErrNotLocked = errors.New("registry: the lock must be held to change the registry")

// Registry is a model registry directory. Reading it (Current, Versions)
// needs no lock; changing it does.
type Registry struct {
	dir  string
	log  *slog.Logger
	now  func() time.Time
	lock *Lock
}

// Option configures a Registry.
type Option func(*Registry)

// WithLogger sets the logger used for recoveries and clean-ups.
func WithLogger(l *slog.Logger) Option { return func(r *Registry) { r.log = l } }

// WithClock sets the clock (for tests).
func WithClock(now func() time.Time) Option { return func(r *Registry) { r.now = now } }

// Open returns the registry at dir. It creates nothing: Lock creates the
// directory when a run first writes to it.
func Open(dir string, opts ...Option) *Registry {
	r := &Registry{dir: dir, log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Dir returns the registry's directory.
func (r *Registry) Dir() string { return r.dir }

// VersionDir returns the directory of a version.
func (r *Registry) VersionDir(version string) string {
	return filepath.Join(r.dir, VersionsDir, version)
}

// Current returns the champion's version name and directory, or
// ErrNoChampion.
func (r *Registry) Current() (version, dir string, err error) {
	link := filepath.Join(r.dir, CurrentLink)
	target, err := os.Readlink(link)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", ErrNoChampion
	}
	if err != nil {
		return "", "", fmt.Errorf("registry: read %s: %w", link, err)
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(r.dir, target)
	}
	version = filepath.Base(target)
	if _, err := os.Stat(target); err != nil {
		return version, target, fmt.Errorf("registry: champion %s: %w", version, err)
	}
	return version, target, nil
}

// Version is one stored version.
type Version struct {
	Name    string
	Dir     string
	ModTime time.Time
	Current bool
}

// Versions lists the complete versions, oldest first (by name, which
// NewVersionName makes sortable by time). Temporary directories of runs in
// progress or of runs that died are not listed.
func (r *Registry) Versions() ([]Version, error) {
	root := filepath.Join(r.dir, VersionsDir)
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: list versions: %w", err)
	}
	current, _, _ := r.Current()
	var out []Version
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		v := Version{Name: e.Name(), Dir: filepath.Join(root, e.Name()), Current: e.Name() == current}
		if fi, err := e.Info(); err == nil {
			v.ModTime = fi.ModTime()
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// NewVersionName returns a version name for a run started at t that does
// not exist yet: the UTC time to the second ("20261124T021500Z"), with a
// "-2", "-3", ... suffix if a run in the same second already wrote one.
func (r *Registry) NewVersionName(t time.Time) string {
	base := t.UTC().Format("20060102T150405Z")
	name := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(r.VersionDir(name)); errors.Is(err, fs.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}

// Staging is a version being written. Write files into Dir, then Commit;
// Abort (or a crash) leaves nothing visible.
type Staging struct {
	reg     *Registry
	version string
	dir     string
	done    bool
}

// Stage creates a temporary directory for a new version. It requires the
// lock.
func (r *Registry) Stage(version string) (*Staging, error) {
	if r.lock == nil {
		return nil, ErrNotLocked
	}
	if version == "" || strings.ContainsAny(version, `/\`) || strings.HasPrefix(version, ".") {
		return nil, fmt.Errorf("registry: bad version name %q (want a plain name not starting with '.')", version)
	}
	if _, err := os.Lstat(r.VersionDir(version)); err == nil {
		return nil, fmt.Errorf("registry: version %s already exists", version)
	}
	root := filepath.Join(r.dir, VersionsDir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("registry: create %s: %w", root, err)
	}
	dir, err := os.MkdirTemp(root, tempPrefix+version+"-")
	if err != nil {
		return nil, fmt.Errorf("registry: create staging directory: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("registry: chmod staging directory: %w", err)
	}
	return &Staging{reg: r, version: version, dir: dir}, nil
}

// Dir returns the temporary directory to write the version's files into.
// It exists and is empty. A writer that insists on creating the directory
// itself (such as artifact.Write) may remove it first and recreate it at
// the same path; Commit only needs it to exist by then.
func (s *Staging) Dir() string { return s.dir }

// Version returns the name the version gets on Commit.
func (s *Staging) Version() string { return s.version }

// Commit syncs the staged files and renames the directory to its version
// name, making it visible. It does not promote the version.
func (s *Staging) Commit() (string, error) {
	if s.done {
		return "", fmt.Errorf("registry: staging of %s already finished", s.version)
	}
	if s.reg.lock == nil {
		return "", ErrNotLocked
	}
	if err := syncTree(s.dir); err != nil {
		return "", fmt.Errorf("registry: sync staged version %s: %w", s.version, err)
	}
	final := s.reg.VersionDir(s.version)
	if _, err := os.Lstat(final); err == nil {
		return "", fmt.Errorf("registry: version %s already exists", s.version)
	}
	if err := os.Rename(s.dir, final); err != nil {
		return "", fmt.Errorf("registry: publish version %s: %w", s.version, err)
	}
	s.done = true
	if err := syncDir(filepath.Dir(final)); err != nil {
		return "", fmt.Errorf("registry: sync %s: %w", filepath.Dir(final), err)
	}
	return final, nil
}

// Abort removes the staging directory. It is safe to call after Commit
// (it then does nothing), so it can be deferred.
func (s *Staging) Abort() error {
	if s.done {
		return nil
	}
	s.done = true
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("registry: remove staging directory %s: %w", s.dir, err)
	}
	return nil
}

// Promote makes version the champion by atomically replacing the current
// symlink. It requires the lock.
func (r *Registry) Promote(version string) error {
	if r.lock == nil {
		return ErrNotLocked
	}
	if fi, err := os.Stat(r.VersionDir(version)); err != nil || !fi.IsDir() {
		return fmt.Errorf("registry: promote %s: not a version directory: %w", version, errOr(err, fs.ErrInvalid))
	}
	target := filepath.Join(VersionsDir, version) // relative: the registry can be moved or mounted elsewhere
	tmp := filepath.Join(r.dir, tempPrefix+CurrentLink+"-"+randomSuffix())
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("registry: create temporary symlink: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(r.dir, CurrentLink)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("registry: replace %s symlink: %w", CurrentLink, err)
	}
	if err := syncDir(r.dir); err != nil {
		return fmt.Errorf("registry: sync %s: %w", r.dir, err)
	}
	return nil
}

// Prune deletes the oldest versions so that at most keep remain, never
// deleting the champion. It returns the deleted versions' names. keep < 1
// keeps everything. It requires the lock.
func (r *Registry) Prune(keep int) ([]string, error) {
	if r.lock == nil {
		return nil, ErrNotLocked
	}
	if keep < 1 {
		return nil, nil
	}
	versions, err := r.Versions()
	if err != nil {
		return nil, err
	}
	excess := len(versions) - keep
	var deleted []string
	for _, v := range versions {
		if excess <= 0 {
			break
		}
		if v.Current {
			continue
		}
		// Rename first so a crash mid-delete leaves a temporary directory
		// (cleaned up later), never a half-deleted version.
		doomed := filepath.Join(r.dir, VersionsDir, tempPrefix+"deleted-"+v.Name+"-"+randomSuffix())
		if err := os.Rename(v.Dir, doomed); err != nil {
			return deleted, fmt.Errorf("registry: prune %s: %w", v.Name, err)
		}
		if err := os.RemoveAll(doomed); err != nil {
			return deleted, fmt.Errorf("registry: prune %s: %w", v.Name, err)
		}
		deleted = append(deleted, v.Name)
		excess--
	}
	return deleted, nil
}

// CleanTemp removes what runs that died left behind: temporary version
// directories (every entry of versions/ whose name starts with '.', which
// covers the temporaries of writers used inside a staging directory),
// temporary symlinks and stale lock files moved aside. Since it requires the lock, no other run can be
// writing them. It returns the removed paths.
func (r *Registry) CleanTemp() ([]string, error) {
	if r.lock == nil {
		return nil, ErrNotLocked
	}
	var removed []string
	for k, root := range []string{r.dir, filepath.Join(r.dir, VersionsDir)} {
		prefix := tempPrefix
		if k == 1 {
			prefix = "."
		}
		entries, err := os.ReadDir(root)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return removed, fmt.Errorf("registry: clean %s: %w", root, err)
		}
		for _, e := range entries {
			leftover := strings.HasPrefix(e.Name(), prefix) || (k == 0 && strings.HasPrefix(e.Name(), LockFile+".stale-"))
			if !leftover {
				continue
			}
			p := filepath.Join(root, e.Name())
			if err := os.RemoveAll(p); err != nil {
				return removed, fmt.Errorf("registry: remove leftover %s: %w", p, err)
			}
			removed = append(removed, p)
		}
	}
	for _, p := range removed {
		r.log.Info("registry: removed leftover of an interrupted run", "path", p)
	}
	return removed, nil
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func errOr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// syncTree fsyncs every regular file under dir and the directories
// themselves, so a rename that follows publishes complete files.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		if d.IsDir() {
			return syncDir(p)
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return err
	}
	return nil
}
