package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// StageDir creates an empty hidden directory beside target
// (".NAME.stage-*") in which a new version of the directory target is
// built, to be switched into place with SwitchDir.
func StageDir(target string) (string, error) {
	parent := filepath.Dir(target)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("create directory for %s: %w", target, err)
	}
	dir, err := os.MkdirTemp(parent, "."+filepath.Base(target)+".stage-*")
	if err != nil {
		return "", fmt.Errorf("create staging directory for %s: %w", target, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.Remove(dir)
		return "", err
	}
	return dir, nil
}

// SwitchDir puts the directory staged (from StageDir) in the place of the
// directory target, so that readers of target see either the old or the
// new directory, never a mix. On Linux the two are exchanged in one
// rename (renameat2 RENAME_EXCHANGE) and the old one is then removed; a
// run killed in between leaves the old directory under the hidden staged
// name, which CleanLeftovers removes. Where the exchange is not available,
// target is first moved aside: a kill between the two renames leaves no
// target, which RecoverDir puts back. A target that does not exist yet is
// simply renamed into place.
func SwitchDir(staged, target string) error {
	if err := syncDir(staged); err != nil {
		return err
	}
	if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(staged, target); err != nil {
			return fmt.Errorf("switch %s into place: %w", target, err)
		}
		return syncDir(filepath.Dir(target))
	}
	err := exchange(staged, target)
	if errors.Is(err, errNoExchange) {
		old := filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".old-"+randomSuffix())
		if err = os.Rename(target, old); err == nil {
			if err = os.Rename(staged, target); err != nil {
				os.Rename(old, target)
			} else {
				staged = old
			}
		}
	}
	if err != nil {
		if errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EXDEV) {
			return fmt.Errorf("switch %s into place: %w (is it a mount point? point the output at a directory inside it)", target, err)
		}
		return fmt.Errorf("switch %s into place: %w", target, err)
	}
	if err := syncDir(filepath.Dir(target)); err != nil {
		return err
	}
	if err := os.RemoveAll(staged); err != nil {
		return fmt.Errorf("remove the previous %s: %w", target, err)
	}
	return nil
}

var errNoExchange = errors.New("atomic directory exchange not supported")

// RecoverDir puts back a directory target that a run killed between the
// two renames of SwitchDir's fallback left moved aside. It reports
// whether it did. Call it under the lock that serialises writers of
// target.
func RecoverDir(target string) (bool, error) {
	if _, err := os.Lstat(target); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	olds, _ := filepath.Glob(filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".old-*"))
	if len(olds) != 1 {
		return false, nil
	}
	if err := os.Rename(olds[0], target); err != nil {
		return false, fmt.Errorf("restore %s from %s: %w", target, olds[0], err)
	}
	return true, nil
}

// CleanLeftovers removes what killed runs left of writes to target:
// staging and moved-aside directories beside it (".NAME.stage-*",
// ".NAME.old-*") and temporary files (".*.tmp-*") inside target and its
// subdirectories when target is a directory, or beside it when it is a
// file. It returns what it removed. Call it only under the lock that
// serialises writers of target: it cannot tell a killed run's files from
// a live one's.
func CleanLeftovers(target string) ([]string, error) {
	var removed []string
	var errs []error
	rm := func(p string) {
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
			return
		}
		removed = append(removed, p)
	}
	base := "." + filepath.Base(target)
	entries, _ := os.ReadDir(filepath.Dir(target))
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, base+".stage-") || strings.HasPrefix(n, base+".old-") || strings.HasPrefix(n, base+".tmp-") {
			rm(filepath.Join(filepath.Dir(target), n))
		}
	}
	if st, err := os.Stat(target); err == nil && st.IsDir() {
		filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if !d.IsDir() && strings.HasPrefix(d.Name(), ".") && strings.Contains(d.Name(), ".tmp-") {
				rm(p)
			}
			return nil
		})
	}
	return removed, errors.Join(errs...)
}

// syncDir flushes a directory's entries to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
