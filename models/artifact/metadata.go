package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/failcast/failcast/internal/buildinfo"
	"github.com/failcast/failcast/models/metrics"
)

// FormatVersion is the metadata format this build writes and the newest it
// reads. Bump it when a change would make older builds misread a model.
// 2: extra.family_calibration (models/bundle): P(fail) is the sum of the
// mapped family probabilities, and the thresholds are chosen on it; a
// build that ignores the maps would compare the unmapped P(fail) with them.
const FormatVersion = 2

// MetadataFile is the name of the metadata file in a model directory.
const MetadataFile = "metadata.json"

// Metadata describes one trained model. Write fills FormatVersion, Files
// and, when empty, CreatedAt, CodeVersion and ModelVersion.
type Metadata struct {
	FormatVersion     int       `json:"format_version"`
	ModelVersion      string    `json:"model_version"` // e.g. "20261101T020000Z-3fa2c1d9"
	CreatedAt         time.Time `json:"created_at"`
	CodeVersion       string    `json:"code_version"` // VCS revision of the build, or "devel"
	FeatureSchemaHash string    `json:"feature_schema_hash"`
	FeatureNames      []string  `json:"feature_names"`

	TrainWindow Window   `json:"train_window"`
	ValidWindow Window   `json:"valid_window"`
	LeadTime    Duration `json:"lead_time"`
	Rows        Rows     `json:"rows"`
	// Sampling is how the training rows of the failure model were
	// down-sampled; nil when every row was used.
	Sampling *Sampling `json:"sampling,omitempty"`

	Hyperparameters map[string]any `json:"hyperparameters,omitempty"`
	Seed            uint64         `json:"seed"`

	Metrics    Metrics              `json:"metrics"`              // on the validation window
	Thresholds map[string]Threshold `json:"thresholds,omitempty"` // by name, e.g. "high", "medium"
	Champion   *Champion            `json:"champion,omitempty"`   // filled when compared with the champion
	// Inputs fingerprints the data and settings the model was trained
	// from (nil for models written before it was recorded).
	Inputs *Inputs        `json:"inputs,omitempty"`
	Extra  map[string]any `json:"extra,omitempty"` // anything else worth keeping

	Files map[string]string `json:"files"` // file name -> SHA-256, lower-case hex
}

// Window is a time range, both ends included.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// WindowFromMicros returns the Window between two Unix microsecond times.
func WindowFromMicros(from, to int64) Window {
	return Window{From: time.UnixMicro(from).UTC(), To: time.UnixMicro(to).UTC()}
}

// Rows counts the rows a model was trained and validated on.
type Rows struct {
	Train          int `json:"train"`
	Valid          int `json:"valid"`
	TrainPositives int `json:"train_positives"`
	ValidPositives int `json:"valid_positives"`
}

// Sampling describes negative down-sampling of a model's training rows:
// every failed send was kept and a seeded share of the successful ones,
// each kept success weighted 1/SuccessShare in training. The weights
// undo the sampling, so the model's raw scores are P(fail) at the
// history's own failure rate: no correction is to be applied to them.
type Sampling struct {
	SuccessShare  float64 `json:"success_share"`  // share of successful training sends kept, in (0, 1]
	SuccessWeight float64 `json:"success_weight"` // training weight of each kept success: 1/SuccessShare
	MaxRows       int     `json:"max_rows"`       // the row target the share was chosen for
	RowsBefore    int     `json:"rows_before"`    // training rows in the window
	RowsKept      int     `json:"rows_kept"`      // rows the model was trained on
	FailuresKept  int     `json:"failures_kept"`  // all failed training rows
}

// Metrics are the model's scores on the validation window.
type Metrics struct {
	Binary *metrics.Summary      `json:"binary,omitempty"` // P(fail)
	Family *metrics.MultiSummary `json:"family,omitempty"` // error family, one class per family
}

// Threshold is a named operating point and how it was chosen: the
// metrics.Threshold on the validation window (its Rule and Target say
// whether by target precision or alert budget) plus a free-text note.
type Threshold struct {
	metrics.Threshold
	Note string `json:"note,omitempty"`
}

// MarshalJSON flattens the embedded metrics.Threshold (whose own
// MarshalJSON would otherwise hide Note).
func (t Threshold) MarshalJSON() ([]byte, error) {
	inner, err := json.Marshal(t.Threshold)
	if err != nil {
		return nil, err
	}
	if t.Note == "" {
		return inner, nil
	}
	note, err := json.Marshal(t.Note)
	if err != nil {
		return nil, err
	}
	out := append(inner[:len(inner)-1:len(inner)-1], `,"note":`...)
	out = append(out, note...)
	return append(out, '}'), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Threshold) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &t.Threshold); err != nil {
		return err
	}
	var n struct {
		Note string `json:"note"`
	}
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	t.Note = n.Note
	return nil
}

// Champion records the comparison of this model with the champion it was
// meant to replace. The registry's caller fills it.
type Champion struct {
	ComparedWith    string    `json:"compared_with"` // the champion's ModelVersion, "" if there was none
	Metric          string    `json:"metric"`        // e.g. "pr_auc"
	ChampionValue   float64   `json:"champion_value"`
	ChallengerValue float64   `json:"challenger_value"`
	Promoted        bool      `json:"promoted"`
	Reason          string    `json:"reason,omitempty"`
	DecidedAt       time.Time `json:"decided_at"`
}

// Duration is a time.Duration that reads and writes JSON as a string such
// as "24h0m0s".
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string such as \"24h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// CodeVersion returns the identity of the running build's code, as
// package internal/buildinfo defines it: the VCS revision ("-dirty" with
// local changes), or "devel-" and a digest of the executable when the
// build carries no revision, so that a new build never looks like the one
// a model was trained with.
func CodeVersion() string { return buildinfo.CodeVersion() }

// NewModelVersion returns a model version id: the UTC creation time to
// the second and the first 8 hex digits of digest, e.g.
// "20261101T020000Z-3fa2c1d9". Ids sort by time.
func NewModelVersion(created time.Time, digest string) string {
	if len(digest) > 8 {
		digest = digest[:8]
	}
	return created.UTC().Format("20060102T150405Z") + "-" + digest
}

// filesDigest is the SHA-256 of the sorted "name sha256" lines of files.
func filesDigest(files map[string]string) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s %s\n", n, files[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkFileName accepts plain file names only: no directories, no hidden
// files, not the metadata file.
func checkFileName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("artifact: bad file name %q", name)
	case strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0):
		return fmt.Errorf("artifact: file name %q: want a plain name without directories", name)
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("artifact: file name %q: names starting with '.' are reserved", name)
	case name == MetadataFile:
		return fmt.Errorf("artifact: file name %q is reserved for the metadata", name)
	}
	return nil
}
