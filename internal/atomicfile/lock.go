package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"
)

// LockPath is the lock file of the writers of target: ".NAME.lock"
// beside it.
func LockPath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".lock")
}

// TryLock takes the OS file lock (flock(2), via gofrs/flock) that
// serialises the writers of target, on LockPath(target); the kernel
// releases it when its holder dies, however it dies. ok is false, with no
// error, when another process holds it. release unlocks; the lock file
// stays. Take it before CleanLeftovers and RecoverDir.
func TryLock(target string) (release func(), ok bool, err error) {
	path := LockPath(target)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, false, fmt.Errorf("create directory for %s: %w", target, err)
	}
	fl := flock.New(path)
	ok, err = fl.TryLock()
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		return nil, false, nil
	}
	return func() { fl.Unlock() }, true, nil
}
