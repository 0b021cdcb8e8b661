package artifact

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/failcast/failcast/internal/boundedread"
)

// Errors Open and Artifact.Open wrap, for errors.Is.
var (
	ErrFormatVersion  = errors.New("artifact: unsupported format version")
	ErrChecksum       = errors.New("artifact: checksum mismatch")
	ErrSchemaMismatch = errors.New("artifact: feature schema mismatch")
)

// Size caps of the files Open reads: metadata.json and every model file
// must be regular files (not devices, FIFOs or directories, also behind a
// symlink) no larger than these, or Open refuses them before reading.
const (
	MaxMetadataBytes  = 16 << 20 // 16 MiB
	MaxModelFileBytes = 1 << 30  // 1 GiB
)

// Artifact is an opened, verified model directory.
type Artifact struct {
	Dir      string
	Metadata Metadata
}

// Open reads the model directory dir and verifies it: the metadata format
// version must be one this build reads, every file must match its
// recorded SHA-256, and the model's feature schema hash must equal
// wantSchemaHash, the hash of the feature schema this build computes.
// Pass wantSchemaHash "" only to inspect a model, never to score with it.
func Open(dir string, wantSchemaHash string) (*Artifact, error) {
	path := filepath.Join(dir, MetadataFile)
	raw, err := boundedread.ReadFile(path, MaxMetadataBytes)
	if err != nil {
		return nil, fmt.Errorf("artifact: %w", err)
	}
	var head struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("artifact: %s is not valid JSON: %w", path, err)
	}
	switch {
	case head.FormatVersion == nil:
		return nil, fmt.Errorf("%w: %s has no format_version", ErrFormatVersion, path)
	case *head.FormatVersion > FormatVersion:
		return nil, fmt.Errorf("%w: %s has format version %d, this build reads versions up to %d: use a newer failcast build to load it",
			ErrFormatVersion, path, *head.FormatVersion, FormatVersion)
	case *head.FormatVersion < 1:
		return nil, fmt.Errorf("%w: %s has unknown format version %d", ErrFormatVersion, path, *head.FormatVersion)
	}
	var md Metadata
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&md); err != nil {
		return nil, fmt.Errorf("artifact: read %s: %w", path, err)
	}
	if len(md.Files) == 0 {
		return nil, fmt.Errorf("artifact: %s lists no model files", path)
	}
	names := slices.Sorted(maps.Keys(md.Files))
	for _, name := range names {
		if err := checkFileName(name); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := verifyFile(filepath.Join(dir, name), md.Files[name]); err != nil {
			return nil, err
		}
	}
	if wantSchemaHash != "" && md.FeatureSchemaHash != wantSchemaHash {
		return nil, fmt.Errorf("%w: model %s was trained on feature schema %s, this build computes %s: retrain or use a matching build",
			ErrSchemaMismatch, md.ModelVersion, md.FeatureSchemaHash, wantSchemaHash)
	}
	return &Artifact{Dir: dir, Metadata: md}, nil
}

func verifyFile(path, want string) error {
	f, _, err := boundedread.Open(path, MaxModelFileBytes)
	if err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("artifact: read %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, want) {
		return fmt.Errorf("%w: %s has SHA-256 %s, metadata records %s: the file was changed or corrupted", ErrChecksum, path, got, want)
	}
	return nil
}

// Open opens one of the model's files. The reader checks the checksum
// again as it reaches the end, so a file changed since Open fails there
// with ErrChecksum.
func (a *Artifact) Open(name string) (io.ReadCloser, error) {
	want, ok := a.Metadata.Files[name]
	if !ok {
		return nil, fmt.Errorf("artifact: model %s has no file %q (it has %s)", a.Metadata.ModelVersion, name,
			strings.Join(slices.Sorted(maps.Keys(a.Metadata.Files)), ", "))
	}
	path := filepath.Join(a.Dir, name)
	f, _, err := boundedread.Open(path, MaxModelFileBytes)
	if err != nil {
		return nil, fmt.Errorf("artifact: %w", err)
	}
	return &verifyingReader{f: f, h: sha256.New(), want: want, path: path}, nil
}

// ReadFile returns the whole content of one of the model's files,
// verified against its checksum.
func (a *Artifact) ReadFile(name string) ([]byte, error) {
	rc, err := a.Open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

type verifyingReader struct {
	f    io.ReadCloser
	h    hash.Hash
	want string
	path string
}

func (r *verifyingReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	r.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(r.h.Sum(nil)); !strings.EqualFold(got, r.want) {
			return n, fmt.Errorf("%w: %s has SHA-256 %s, metadata records %s: the file was changed after it was opened", ErrChecksum, r.path, got, r.want)
		}
	}
	return n, err
}

func (r *verifyingReader) Close() error { return r.f.Close() }
