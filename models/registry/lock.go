package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// LockFile is the name of the lock file inside a registry directory.
const LockFile = "lock"

// unreadableLockGrace is how long a lock file whose content cannot be read
// (its holder died between creating and writing it) is respected before it
// is treated as stale.
const unreadableLockGrace = 30 * time.Second

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
	return fmt.Sprintf("registry is locked by %s (lock file %s); wait for it to finish, or remove the file if that process is gone", e.Holder, e.Path)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Lock is a held registry lock. Release it with Unlock.
type Lock struct {
	reg  *Registry
	path string
	info LockInfo
}

// Info returns what the lock file says about this holder.
func (l *Lock) Info() LockInfo { return l.info }

// Lock takes the registry's lock for this process, creating the registry
// directory if needed. If another live process holds it, Lock waits up to
// wait (0: not at all) and then returns a *LockedError. A lock left by a
// process that is no longer alive is taken over, with a log line.
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
		err := createLockFile(path, info)
		if err == nil {
			l := &Lock{reg: r, path: path, info: info}
			r.lock = l
			return l, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("registry: create lock %s: %w", path, err)
		}
		holder, stale, err := r.inspectLock(path)
		if err != nil {
			return nil, err
		}
		if stale {
			if err := r.breakStaleLock(path, holder); err != nil {
				return nil, err
			}
			continue
		}
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

// Unlock removes the lock file if it is still this process's.
func (l *Lock) Unlock() error {
	if l == nil || l.reg.lock != l {
		return nil
	}
	l.reg.lock = nil
	got, err := readLockFile(l.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("registry: read lock %s before removing it: %w", l.path, err)
	}
	if got != l.info {
		return fmt.Errorf("registry: lock %s is now held by %s, not removing it", l.path, got)
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("registry: remove lock: %w", err)
	}
	return nil
}

// createLockFile creates path exclusively and writes info into it.
func createLockFile(path string, info LockInfo) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(info)
	data = append(data, '\n')
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write lock: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("sync lock: %w", err)
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

// inspectLock reads the lock at path and says whether its holder is gone.
func (r *Registry) inspectLock(path string) (LockInfo, bool, error) {
	info, err := readLockFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return LockInfo{}, true, nil // released meanwhile: retry at once
	}
	if err != nil {
		st, serr := os.Stat(path)
		if serr != nil {
			return LockInfo{}, true, nil
		}
		// The holder may be between creating and writing the file.
		return LockInfo{}, r.now().Sub(st.ModTime()) > unreadableLockGrace, nil
	}
	return info, !processAlive(info.PID), nil
}

// breakStaleLock removes a stale lock. It first moves the file aside under
// a name of its own, so that two processes recovering the same stale lock
// cannot remove a fresh lock the other has just created.
func (r *Registry) breakStaleLock(path string, holder LockInfo) error {
	aside := path + ".stale-" + strconv.Itoa(os.Getpid())
	if err := os.Rename(path, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // someone else recovered it
		}
		return fmt.Errorf("registry: move stale lock %s aside: %w", path, err)
	}
	got, err := readLockFile(aside)
	if err == nil && holder.PID != 0 && got != holder {
		// We moved a lock that is not the stale one we inspected: a
		// concurrent run took over in between. Put it back.
		if lerr := os.Link(aside, path); lerr != nil {
			r.log.Warn("registry: could not restore a live lock moved aside", "lock", path, "err", lerr)
		}
		os.Remove(aside)
		return nil
	}
	os.Remove(aside)
	if holder.PID == 0 {
		r.log.Warn("registry: removed an unreadable stale lock", "lock", path)
	} else {
		r.log.Warn("registry: recovered a stale lock from a process that is no longer running", "lock", path, "holder", holder.String())
	}
	return nil
}

// processAlive reports whether a process with this pid exists. A process
// that exists but belongs to another user counts as alive.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
