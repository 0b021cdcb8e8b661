package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// errNotInstalled marks a peer that is missing on this machine.
var errNotInstalled = errors.New("not installed")

// runTool runs name with args in dir, with its output (stdout and stderr)
// in logPath, and returns the wall seconds.
func runTool(ctx context.Context, dir, logPath string, env []string, name string, args ...string) (float64, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return 0, err
	}
	defer log.Close()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, log, log
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	began := time.Now()
	err = cmd.Run()
	wall := time.Since(began).Seconds()
	if err != nil {
		out, _ := os.ReadFile(logPath)
		return wall, fmt.Errorf("%s %s: %w; its output ends with: %s", name, strings.Join(args, " "), err, tail(out, 400))
	}
	return wall, nil
}

// tail returns the last n bytes of b as a string.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// readPredictions reads one probability per line (blank lines skipped) and
// checks there are want of them, each a finite number in [0, 1].
func readPredictions(r io.Reader, name string, want int) ([]float64, error) {
	out := make([]float64, 0, want)
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: want a probability, got %q", name, line, s)
		}
		if math.IsNaN(v) || v < 0 || v > 1 {
			return nil, fmt.Errorf("%s line %d: %v is not a probability in [0, 1]", name, line, v)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(out) != want {
		return nil, fmt.Errorf("%s has %d predictions, want %d (one per validation row)", name, len(out), want)
	}
	return out, nil
}

func readPredictionFile(path string, want int) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readPredictions(f, path, want)
}

var trainingLoopTime = regexp.MustCompile(`Complete Training loop time: ([0-9.eE+-]+) sec`)

// parseTrainingLoopTime returns the last "Complete Training loop time"
// XGBoost's CLI logs at verbosity 3.
func parseTrainingLoopTime(log []byte) (float64, error) {
	m := trainingLoopTime.FindAllSubmatch(log, -1)
	if len(m) == 0 {
		return 0, errors.New(`no "Complete Training loop time" line in XGBoost's log`)
	}
	v, err := strconv.ParseFloat(string(m[len(m)-1][1]), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("XGBoost's training loop time %q is not a number of seconds", m[len(m)-1][1])
	}
	return v, nil
}

// xgbConf is the XGBoost CLI configuration for s.
func xgbConf(s settings, baseScore float64) string {
	return fmt.Sprintf(`booster = gbtree
objective = binary:logistic
tree_method = hist
nthread = %d
max_depth = %d
eta = %g
max_bin = %d
lambda = 1
min_child_weight = 1
gamma = 0
subsample = 1
colsample_bytree = 1
base_score = %g
seed = %d
num_round = %d
`, s.threads, s.depth, s.eta, s.bins, baseScore, s.seed, s.rounds)
}

// predictTimingRows is the least number of rows XGBoost's prediction
// speed is measured on.
const predictTimingRows = 1_000_000

// xgbPredictRate is the rows per second of a full model predicting rows,
// from the best wall time of a full-model run and of a one-round run on
// the same file: the one-round run costs loading plus one tree, so the
// difference is scaled to all rounds. It is NaN when the difference is
// not positive (lost in noise).
func xgbPredictRate(rows, rounds int, full, one float64) float64 {
	d := (full - one) * float64(rounds) / float64(max(rounds-1, 1))
	if !(d > 0) {
		return math.NaN()
	}
	return float64(rows) / d
}

// repeatFile writes reps copies of src's content to dst.
func repeatFile(src, dst string, reps int) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return writeAtomic(dst, func(w io.Writer) error {
		for range reps {
			if _, err := w.Write(data); err != nil {
				return err
			}
		}
		return nil
	})
}

// xgbRunner fits and times XGBoost's CLI on dir/train.csv, one repeat at
// a time (see the package documentation for the timing).
type xgbRunner struct {
	path, version, dir string
	env                []string
	s                  settings
	validRows, cols    int
	// python and script time prediction in memory (bench/xgb_predict.py);
	// python is "" when it cannot import xgboost, and the CLI difference
	// method is used instead.
	python, script string
	oneRound       bool // xgb1.model (the CLI method's one-round model) is written
}

// newXGBRunner finds the CLI (errNotInstalled without it), writes its
// configuration and checks whether python can import xgboost.
func newXGBRunner(ctx context.Context, bin, python, script, dir string, env []string, s settings, baseScore float64, validRows, cols int) (*xgbRunner, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("%w: %s not found (Debian package xgboost)", errNotInstalled, bin)
	}
	x := &xgbRunner{path: path, version: "xgboost", dir: dir, env: env, s: s, validRows: validRows, cols: cols}
	if out, err := exec.CommandContext(ctx, path, "-V").CombinedOutput(); err == nil {
		x.version = strings.ToLower(strings.Replace(strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0]), ":", "", 1))
	}
	if err := os.WriteFile(filepath.Join(dir, "xgb.conf"), []byte(xgbConf(s, baseScore)), 0o644); err != nil {
		return nil, err
	}
	if py, err := exec.LookPath(python); err == nil && script != "" && exec.CommandContext(ctx, py, "-c", "import xgboost").Run() == nil {
		if x.script, err = filepath.Abs(script); err != nil {
			return nil, err
		}
		x.python = py
	}
	return x, nil
}

const xgbTrain = "data=train.csv?format=csv&label_column=0"

// fit trains dir/xgb.model and returns the CLI's training loop time.
func (x *xgbRunner) fit(ctx context.Context) (float64, error) {
	log := filepath.Join(x.dir, "xgb.log")
	if _, err := runTool(ctx, x.dir, log, x.env, x.path, "xgb.conf", xgbTrain, "model_out=xgb.model", "verbosity=3"); err != nil {
		return 0, err
	}
	out, err := os.ReadFile(log)
	if err != nil {
		return 0, err
	}
	fit, err := parseTrainingLoopTime(out)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", log, err)
	}
	return fit, nil
}

// predict returns the prediction rate of dir/xgb.model, its validation
// predictions and a note on how the rate was taken.
func (x *xgbRunner) predict(ctx context.Context) (float64, []float64, string, error) {
	if x.python != "" {
		return x.predictInMemory(ctx)
	}
	return x.predictCLI(ctx)
}

// xgbPredictReport is the JSON line bench/xgb_predict.py prints.
type xgbPredictReport struct {
	PredictRowsPerS float64   `json:"predict_rows_per_s"`
	PassSeconds     []float64 `json:"pass_seconds"`
	Version         string    `json:"xgboost_version"`
}

// parseXGBPredictReport reads the last non-empty line of xgb_predict.py's
// output.
func parseXGBPredictReport(out []byte) (xgbPredictReport, error) {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	var r xgbPredictReport
	if err := json.Unmarshal([]byte(last), &r); err != nil {
		return r, fmt.Errorf("xgb_predict.py output %q: want a JSON report: %w", tail([]byte(last), 200), err)
	}
	if !(r.PredictRowsPerS > 0) || math.IsInf(r.PredictRowsPerS, 0) || len(r.PassSeconds) == 0 {
		return r, fmt.Errorf("xgb_predict.py report %q: want predict_rows_per_s > 0 and pass_seconds", last)
	}
	return r, nil
}

// predictInMemory runs bench/xgb_predict.py: the model predicts the
// validation rows in memory, best of three passes, as our GBDT and
// scikit-learn are timed.
func (x *xgbRunner) predictInMemory(ctx context.Context) (float64, []float64, string, error) {
	log := filepath.Join(x.dir, "xgb-predict.log")
	if _, err := runTool(ctx, x.dir, log, x.env, x.python, x.script, "--model", "xgb.model", "--valid", "valid.f32",
		"--cols", strconv.Itoa(x.cols), "--out", "xgb.pred", "--threads", strconv.Itoa(x.s.threads),
		"--timing-repeats", strconv.Itoa(timingRepeats(x.validRows))); err != nil {
		return 0, nil, "", err
	}
	out, err := os.ReadFile(log)
	if err != nil {
		return 0, nil, "", err
	}
	rep, err := parseXGBPredictReport(out)
	if err != nil {
		return 0, nil, "", err
	}
	pred, err := readPredictionFile(filepath.Join(x.dir, "xgb.pred"), x.validRows)
	if err != nil {
		return 0, nil, "", err
	}
	return rep.PredictRowsPerS, pred, "predict: in memory (Python xgboost " + rep.Version + "), best of 3 passes as ours", nil
}

// predictCLI predicts valid.csv with the CLI, and times prediction as
// the best of three full-model runs minus the best of three one-round
// runs on the validation rows repeated to predictTimingRows (cancelling
// CSV loading; see xgbPredictRate).
func (x *xgbRunner) predictCLI(ctx context.Context) (float64, []float64, string, error) {
	dir, log := x.dir, filepath.Join(x.dir, "xgb.log")
	if !x.oneRound {
		if _, err := runTool(ctx, dir, log, x.env, x.path, "xgb.conf", xgbTrain, "num_round=1", "model_out=xgb1.model"); err != nil {
			return 0, nil, "", err
		}
		x.oneRound = true
	}
	const valid = "test:data=valid.csv?format=csv&label_column=0"
	if _, err := runTool(ctx, dir, log, x.env, x.path, "xgb.conf", "task=pred", "model_in=xgb.model", valid, "name_pred=xgb.pred"); err != nil {
		return 0, nil, "", err
	}
	pred, err := readPredictionFile(filepath.Join(dir, "xgb.pred"), x.validRows)
	if err != nil {
		return 0, nil, "", err
	}
	reps := max(1, (predictTimingRows+x.validRows-1)/max(x.validRows, 1))
	if err := repeatFile(filepath.Join(dir, "valid.csv"), filepath.Join(dir, "timing.csv"), reps); err != nil {
		return 0, nil, "", err
	}
	defer os.Remove(filepath.Join(dir, "timing.csv"))
	defer os.Remove(filepath.Join(dir, "timing.pred"))
	defer os.Remove(filepath.Join(dir, "timing1.pred"))
	const timing = "test:data=timing.csv?format=csv&label_column=0"
	bestFull, bestOne := math.Inf(1), math.Inf(1)
	for range 3 {
		w, err := runTool(ctx, dir, log, x.env, x.path, "xgb.conf", "task=pred", "model_in=xgb.model", timing, "name_pred=timing.pred")
		if err != nil {
			return 0, nil, "", err
		}
		bestFull = min(bestFull, w)
		if w, err = runTool(ctx, dir, log, x.env, x.path, "xgb.conf", "task=pred", "model_in=xgb1.model", timing, "name_pred=timing1.pred"); err != nil {
			return 0, nil, "", err
		}
		bestOne = min(bestOne, w)
	}
	rate := xgbPredictRate(x.validRows*reps, x.s.rounds, bestFull, bestOne)
	note := fmt.Sprintf("predict: CLI, best full-model run %.2f s minus best 1-round run %.2f s on %d rows (no Python xgboost)", bestFull, bestOne, x.validRows*reps)
	if math.IsNaN(rate) {
		note += " (not measurable: no difference)"
	}
	return rate, pred, note, nil
}

// hgbReport is the JSON line bench/hgb.py prints.
type hgbReport struct {
	FitSeconds      float64 `json:"fit_seconds"`
	PredictRowsPerS float64 `json:"predict_rows_per_s"`
	Rounds          int     `json:"rounds"`
	Version         string  `json:"sklearn_version"`
}

// parseHGBReport reads the last non-empty line of hgb.py's output.
func parseHGBReport(out []byte) (hgbReport, error) {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	var r hgbReport
	if err := json.Unmarshal([]byte(last), &r); err != nil {
		return r, fmt.Errorf("hgb.py output %q: want a JSON report: %w", tail([]byte(last), 200), err)
	}
	if !(r.FitSeconds >= 0) || !(r.PredictRowsPerS > 0) || math.IsInf(r.FitSeconds, 0) || math.IsInf(r.PredictRowsPerS, 0) || r.Rounds < 1 {
		return r, fmt.Errorf("hgb.py report %q: want fit_seconds >= 0, predict_rows_per_s > 0 and rounds >= 1", last)
	}
	return r, nil
}

// runSklearn runs bench/hgb.py on dir/train.f32 and dir/valid.f32.
func runSklearn(ctx context.Context, python, script, dir string, env []string, s settings, cols, trainRows, validRows int) (result, []float64, error) {
	path, err := exec.LookPath(python)
	if err != nil {
		return result{}, nil, fmt.Errorf("%w: %s not found (Debian packages python3 and python3-sklearn)", errNotInstalled, python)
	}
	if err := exec.CommandContext(ctx, path, "-c", "import sklearn").Run(); err != nil {
		return result{}, nil, fmt.Errorf("%w: %s cannot import sklearn (Debian package python3-sklearn)", errNotInstalled, python)
	}
	script, err = filepath.Abs(script)
	if err != nil {
		return result{}, nil, err
	}
	log := filepath.Join(dir, "hgb.log")
	env = append([]string{"OMP_NUM_THREADS=" + strconv.Itoa(s.threads)}, env...)
	if _, err := runTool(ctx, dir, log, env, path, script, "--train", "train.f32", "--valid", "valid.f32",
		"--cols", strconv.Itoa(cols), "--out", "hgb.pred", "--rounds", strconv.Itoa(s.rounds), "--depth", strconv.Itoa(s.depth),
		"--eta", strconv.FormatFloat(s.eta, 'g', -1, 64), "--bins", strconv.Itoa(s.bins), "--l2", "1",
		"--seed", strconv.FormatUint(s.seed, 10), "--timing-repeats", strconv.Itoa(timingRepeats(validRows))); err != nil {
		return result{}, nil, err
	}
	out, err := os.ReadFile(log)
	if err != nil {
		return result{}, nil, err
	}
	rep, err := parseHGBReport(bytes.TrimSpace(out))
	if err != nil {
		return result{}, nil, err
	}
	pred, err := readPredictionFile(filepath.Join(dir, "hgb.pred"), validRows)
	if err != nil {
		return result{}, nil, err
	}
	r := result{Model: "scikit-learn HGB", Tool: "sklearn " + rep.Version + " HistGradientBoostingClassifier", TrainRows: trainRows,
		FitSeconds: rep.FitSeconds, PredictRowsPerS: rep.PredictRowsPerS, Note: "min_samples_leaf 20 (its default)"}
	return r, pred, nil
}
