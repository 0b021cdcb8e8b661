package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Inputs is the fingerprint of what a model was trained from: its input
// files and the settings of the run. Two runs with equal Digests read the
// same data with the same settings and, being deterministic, write the
// same model; a trainer uses it to recognise a rerun. The artifact
// package knows nothing of what the files are: the trainer chooses the
// Method and fills Files and Settings, then calls Seal.
type Inputs struct {
	// Digest is the SHA-256 (lower-case hex) of Method, Files and
	// Settings in a canonical order; Seal computes it.
	Digest string `json:"digest"`
	// Method says how each file was fingerprinted, e.g.
	// "parquet-footer-sha256"; fingerprints of different methods never
	// compare equal.
	Method   string            `json:"method"`
	Files    []InputFile       `json:"files"`
	Settings map[string]string `json:"settings"` // setting name -> value, as the trainer formats it
}

// InputFile is one input file's fingerprint.
type InputFile struct {
	Path        string `json:"path"` // relative to the inputs' root, '/'-separated
	Size        int64  `json:"size"`
	Fingerprint string `json:"fingerprint"` // per Inputs.Method
}

// Seal sorts Files by path and sets Digest.
func (in *Inputs) Seal() {
	slices.SortFunc(in.Files, func(a, b InputFile) int { return strings.Compare(a.Path, b.Path) })
	in.Digest = in.digest()
}

func (in *Inputs) digest() string {
	h := sha256.New()
	fmt.Fprintf(h, "method %q\n", in.Method)
	for _, f := range in.Files {
		fmt.Fprintf(h, "file %q %d %q\n", f.Path, f.Size, f.Fingerprint)
	}
	for _, k := range slices.Sorted(maps.Keys(in.Settings)) {
		fmt.Fprintf(h, "setting %q %q\n", k, in.Settings[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Same reports whether in and other fingerprint the same inputs: both
// sealed, and their digests equal and matching their content (a digest
// edited by hand, or a metadata file without inputs, is never the same).
func (in *Inputs) Same(other *Inputs) bool {
	if in == nil || other == nil || in.Digest == "" {
		return false
	}
	return in.Digest == other.Digest && in.digest() == in.Digest && other.digest() == other.Digest
}
