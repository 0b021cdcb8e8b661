package training

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models/artifact"
)

// fingerprintMethod is how each history file is fingerprinted: the
// SHA-256 of its Parquet footer (the file metadata: schema, every row
// group's row count, byte offsets and compressed sizes of every column
// chunk, min/max statistics, key-value metadata such as the hash-key
// fingerprint), with the file's size and its path relative to the
// dataset's root. It is robust to copying the dataset elsewhere (no
// absolute paths, no modification times, which cp, rsync without -t,
// object stores and container volumes all change) and costs one small
// read per file, not a pass over the data. Any rewrite that adds, drops
// or changes rows changes the row counts, the statistics or the chunk
// sizes in the footer; an edit that keeps all of these byte for byte is
// not detected (hash the whole files to rule it out; see docs/train.md).
const fingerprintMethod = "parquet-footer-sha256"

// maxFooterBytes bounds the footer read of one history file.
const maxFooterBytes = 64 << 20

// inputsFingerprint fingerprints the run's history files and settings
// (artifact.Inputs): equal fingerprints mean a rerun of the same night.
func (t *trainer) inputsFingerprint(files []string, w Windows) (*artifact.Inputs, error) {
	in := &artifact.Inputs{Method: fingerprintMethod, Settings: t.cfg.fingerprintSettings(w)}
	root := commonDir(files)
	for _, f := range files {
		size, sum, err := parquetFooterDigest(f)
		if err != nil {
			return nil, exitcode.AsInput(fmt.Errorf("history: %w", err))
		}
		rel, err := filepath.Rel(root, f)
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		in.Files = append(in.Files, artifact.InputFile{Path: filepath.ToSlash(rel), Size: size, Fingerprint: sum})
	}
	in.Seal()
	return in, nil
}

// fingerprintSettings are the settings that reach a version's content
// (its models, thresholds, report and decision), formatted for
// artifact.Inputs. Operational settings (registry, --keep, --wait,
// metrics and feature files, progress, the --min-* gates) and --force are
// not among them. The build's code version and feature schema are: a new
// build may train another model from the same data.
func (c Config) fingerprintSettings(w Windows) map[string]string {
	i := strconv.Itoa
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return map[string]string{
		"as_of": w.AsOf.UTC().Format(time.RFC3339Nano), "seed": strconv.FormatUint(c.Seed, 10),
		"train_days": i(c.TrainDays), "valid_days": i(c.ValidDays),
		"lead": c.Lead.String(), "refresh": c.Refresh.String(), "warmup": c.Warmup.String(),
		"rounds": i(c.Rounds), "depth": i(c.Depth), "learning_rate": f(c.LearningRate), "early_stop": i(c.EarlyStop),
		"baselines": strconv.FormatBool(c.Baselines), "baseline_rows": i(c.BaselineRows), "logreg_rows": i(c.LogRegRows),
		"target_precision": f(c.TargetPrecision), "alert_budget": f(c.AlertBudget),
		"tolerance": f(c.Tolerance), "backtest_folds": i(c.BacktestFolds), "backtest_rows": i(c.BacktestRows),
		"feature_schema_hash": features.SchemaHash(), "code_version": artifact.CodeVersion(),
	}
}

// parquetFooterDigest returns the size of the Parquet file at path and the
// SHA-256 of its footer. It refuses a file that is not a regular file or
// does not end in a Parquet footer.
func parquetFooterDigest(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, "", err
	}
	if !fi.Mode().IsRegular() {
		return 0, "", fmt.Errorf("%s is not a regular file", path)
	}
	size := fi.Size()
	var tail [8]byte
	if size < 12 {
		return 0, "", fmt.Errorf("%s: %d bytes is too short for a Parquet file", path, size)
	}
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return 0, "", fmt.Errorf("%s: read the Parquet footer: %w", path, err)
	}
	if string(tail[4:]) != "PAR1" {
		return 0, "", fmt.Errorf("%s does not end in a Parquet footer (magic %q, want \"PAR1\")", path, tail[4:])
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-12 || n > maxFooterBytes {
		return 0, "", fmt.Errorf("%s: Parquet footer length %d does not fit the file's %d bytes", path, n, size)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, size-8-n, n)); err != nil {
		return 0, "", fmt.Errorf("%s: read the Parquet footer: %w", path, err)
	}
	return size, hex.EncodeToString(h.Sum(nil)), nil
}

// commonDir returns the deepest directory holding every file: the
// dataset's root, which fingerprint paths are relative to.
func commonDir(files []string) string {
	if len(files) == 0 {
		return "."
	}
	dir := filepath.Dir(filepath.Clean(files[0]))
	for _, f := range files[1:] {
		f = filepath.Clean(f)
		for dir != filepath.Dir(dir) && !strings.HasPrefix(f, dir+string(filepath.Separator)) {
			dir = filepath.Dir(dir)
		}
	}
	return dir
}
