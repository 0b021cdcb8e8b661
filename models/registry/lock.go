package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// LockFile is the name of the lock file inside a registry directory.
const LockFile = "lock"

// pollInterval is how often Lock retries while waiting for a holder.
var pollInterval = 500 * time.Millisecond

// LockInfo describes the holder of a registry lock. It carries no host
// name: a registry is expected to be used from one machine (or one pod).
type LockInfo struct {
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
	Owner     string    `json:"owner"` // what holds the lock, such as "failcast train"
}

// String describes the holder for log and error messages.
func (i LockInfo) String() string {
	if i.PID == 0 {
		return "an unknown process (unreadable lock file)"
	}
	s := fmt.Sprintf("pid %d, started at %s", i.PID, i.StartedAt.UTC().Format(time.RFC3339))
	if i.Owner != "" {
		s = i.Owner + " (" + s + ")"
	}
	return s
}

// ErrLocked is matched (with errors.Is) by the error Lock returns when
// another live process holds the registry.
var ErrLocked = errors.New("registry is locked by another run")

// LockedError is the error Lock returns when another live process holds
// the registry. Use errors.As to get the holder.
type LockedError struct {
	Path   string   // the lock file
	Holder LockInfo // who holds it
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("registry is locked by %s (lock file %s); wait for it to finish (the lock is released by the system when that process ends, however it ends)", e.Holder, e.Path)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Lock is a held registry lock. Release it with Unlock.
type Lock struct {
	reg  *Registry
	path string
	fl   *flock.Flock
	info LockInfo
}

// Info returns what the lock file says about this holder.
func (l *Lock) Info() LockInfo { return l.info }

// Lock takes the registry's lock for this process, creating the registry
// directory if needed. The lock is an OS file lock (flock) on the lock
// file, which the kernel releases when its holder dies, however it dies:
// a lock can never be left stale, even where process ids repeat (a job
// that is PID 1 of its container on every run). The file also holds the
// holder's details (LockInfo) for messages. If another process holds
// the lock, Lock waits up to wait (0: not at all) and then returns a
// *LockedError naming the holder. A lock file left by a dead holder is
// taken over with a log line.
func (r *Registry) Lock(ctx context.Context, owner string, wait time.Duration) (*Lock, error) {
	if r.lock != nil {
		return nil, fmt.Errorf("registry %s: lock already held by this Registry", r.dir)
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, fmt.Errorf("registry: create %s: %w", r.dir, err)
	}
	path := filepath.Join(r.dir, LockFile)
	info := LockInfo{PID: os.Getpid(), StartedAt: r.now().UTC().Truncate(time.Second), Owner: owner}
	deadline := r.now().Add(wait)
	for {
		fl := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o644))
		ok, err := fl.TryLock()
		if err != nil {
			return nil, fmt.Errorf("registry: lock %s: %w", path, err)
		}
		if ok {
			// The previous holder removes the file before releasing it: make
			// sure the path still names the file we locked.
			held, herr := fl.Stat()
			now, nerr := os.Stat(path)
			if herr != nil || nerr != nil || !os.SameFile(held, now) {
				fl.Unlock()
				continue
			}
			if prev, err := readLockFile(path); err == nil {
				r.log.Warn("registry: recovered a stale lock from a process that is no longer running", "lock", path, "holder", prev.String())
			} else if st, _ := os.Stat(path); st != nil && st.Size() > 0 {
				r.log.Warn("registry: recovered an unreadable stale lock", "lock", path)
			}
			if err := writeLockInfo(path, info); err != nil {
				os.Remove(path)
				fl.Unlock()
				return nil, err
			}
			l := &Lock{reg: r, path: path, fl: fl, info: info}
			r.lock = l
			return l, nil
		}
		holder, _ := readLockFile(path) // zero (unknown) while the holder is writing it
		if !r.now().Before(deadline) {
			return nil, &LockedError{Path: path, Holder: holder}
		}
		r.log.Info("registry is locked, waiting", "holder", holder.String(), "lock", path)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("registry: waiting for lock held by %s: %w", holder, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// Unlock removes the lock file and releases the OS lock (in this order,
// so that a waiting process never locks a file that is being removed).
func (l *Lock) Unlock() error {
	if l == nil || l.reg.lock != l {
		return nil
	}
	l.reg.lock = nil
	defer l.fl.Unlock()
	held, herr := l.fl.Stat()
	now, err := os.Stat(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil || herr != nil || !os.SameFile(held, now) {
		return fmt.Errorf("registry: lock %s was replaced while held, not removing it", l.path)
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("registry: remove lock: %w", err)
	}
	return nil
}

// writeLockInfo writes the holder's details into the locked file.
func writeLockInfo(path string, info LockInfo) error {
	data, _ := json.Marshal(info)
	data = append(data, '\n')
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("registry: write lock %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("registry: write lock %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("registry: sync lock %s: %w", path, err)
	}
	return f.Close()
}

func readLockFile(path string) (LockInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return LockInfo{}, err
	}
	var info LockInfo
	if err := json.Unmarshal(data, &info); err != nil || info.PID <= 0 {
		return LockInfo{}, fmt.Errorf("lock file %s: want JSON with a positive pid, got %q", path, truncate(data, 80))
	}
	return info, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
