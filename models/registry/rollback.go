package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// ErrUnknownVersion is wrapped by the errors of Version and Rollback for a
// version the registry does not hold.
var ErrUnknownVersion = errors.New("registry: no such version")

// Version returns the stored version name, or an error wrapping
// ErrUnknownVersion.
func (r *Registry) Version(name string) (Version, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return Version{}, fmt.Errorf("%w: %q is not a version name", ErrUnknownVersion, name)
	}
	dir := r.VersionDir(name)
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.IsDir()) {
		return Version{}, fmt.Errorf("%w: %s has no version %s", ErrUnknownVersion, r.dir, name)
	}
	if err != nil {
		return Version{}, fmt.Errorf("registry: %w", err)
	}
	current, _, _ := r.Current()
	return Version{Name: name, Dir: dir, ModTime: fi.ModTime(), Current: name == current}, nil
}

// Rollback makes version the champion: it takes the registry lock (waiting
// up to wait for another run, as Lock does), calls check on the version's
// directory if check is not nil (the caller's test that the version is fit
// to score with; the registry does not know what a version holds), and
// promotes it. It returns the champion it replaced ("" if there was none).
// A rollback to the champion itself changes nothing.
func (r *Registry) Rollback(ctx context.Context, version, owner string, wait time.Duration, check func(dir string) error) (previous string, err error) {
	if _, err := r.Version(version); err != nil {
		return "", err
	}
	lock, err := r.Lock(ctx, owner, wait)
	if err != nil {
		return "", err
	}
	defer func() {
		if uerr := lock.Unlock(); err == nil && uerr != nil {
			err = uerr
		}
	}()
	v, err := r.Version(version) // again, under the lock: a prune may have removed it
	if err != nil {
		return "", err
	}
	previous, _, cerr := r.Current()
	if cerr != nil && !errors.Is(cerr, ErrNoChampion) && previous == "" {
		return "", cerr
	}
	if check != nil {
		if err := check(v.Dir); err != nil {
			return previous, fmt.Errorf("registry: version %s: %w", version, err)
		}
	}
	if previous == version && cerr == nil {
		return previous, nil
	}
	if err := r.Promote(version); err != nil {
		return previous, err
	}
	r.log.Info("registry: champion switched", "from", previous, "to", version, "by", owner)
	return previous, nil
}
