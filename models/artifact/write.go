package artifact

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Write creates the model directory dir holding one file per entry of
// files (written by its callback) and metadata.json. md.Files is replaced
// by the files' checksums and md.FormatVersion set to FormatVersion; an
// empty CreatedAt becomes now, an empty CodeVersion CodeVersion() and an
// empty ModelVersion NewModelVersion(CreatedAt, digest of the checksums).
//
// Everything is written and synced under a temporary directory next to
// dir, which is renamed to dir at the end: on any error (a callback's
// included) nothing is left behind. Write fails if dir already exists.
func Write(dir string, md Metadata, files map[string]func(io.Writer) error) (err error) {
	if md.FeatureSchemaHash == "" {
		return errors.New("artifact: metadata has no feature schema hash")
	}
	if len(files) == 0 {
		return errors.New("artifact: no model files to write")
	}
	names := make([]string, 0, len(files))
	for name, fn := range files {
		if err := checkFileName(name); err != nil {
			return err
		}
		if fn == nil {
			return fmt.Errorf("artifact: file %q has no writer", name)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	if err := mustNotExist(dir); err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("artifact: create temporary directory in %s: %w", parent, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()

	md.Files = make(map[string]string, len(names))
	for _, name := range names {
		sum, err := writeFile(filepath.Join(tmp, name), files[name])
		if err != nil {
			return fmt.Errorf("artifact: write %s: %w", name, err)
		}
		md.Files[name] = sum
	}
	md.FormatVersion = FormatVersion
	if md.CreatedAt.IsZero() {
		md.CreatedAt = time.Now().UTC().Truncate(time.Second)
	}
	if md.CodeVersion == "" {
		md.CodeVersion = CodeVersion()
	}
	if md.ModelVersion == "" {
		md.ModelVersion = NewModelVersion(md.CreatedAt, filesDigest(md.Files))
	}
	if _, err := writeFile(filepath.Join(tmp, MetadataFile), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(md)
	}); err != nil {
		return fmt.Errorf("artifact: write %s: %w", MetadataFile, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("artifact: sync %s: %w", tmp, err)
	}
	// Rename replaces an empty directory silently: check again just before.
	if err := mustNotExist(dir); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("artifact: publish %s: %w", dir, err)
	}
	if err := syncDir(parent); err != nil {
		return fmt.Errorf("artifact: sync %s: %w", parent, err)
	}
	return nil
}

func mustNotExist(dir string) error {
	_, err := os.Lstat(dir)
	switch {
	case err == nil:
		return fmt.Errorf("artifact: %s already exists: %w", dir, fs.ErrExist)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("artifact: %w", err)
	}
	return nil
}

// writeFile creates path, fills it with fn through a buffer, syncs it and
// returns its SHA-256.
func writeFile(path string, fn func(io.Writer) error) (sum string, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<16)
	if err := fn(bw); err != nil {
		return "", err
	}
	if err := bw.Flush(); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
