package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/failcast/failcast/internal/cputime"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/gbdt"
	"github.com/failcast/failcast/models/gbdt/synth"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gbdtbench gen|fit|compare [flags] (see the package doc)")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = runGen(os.Args[2:])
	case "fit":
		err = runFit(os.Args[2:])
	case "compare":
		err = runCompare(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q, want gen, fit or compare", os.Args[1])
	}
	if err != nil {
		slog.Error("gbdtbench failed", "err", err)
		os.Exit(1)
	}
}

func runGen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	dir := fs.String("dir", "", "output directory")
	rows := fs.Int("rows", 1_250_000, "total rows (train + valid)")
	cols := fs.Int("cols", 80, "features")
	validFrac := fs.Float64("valid-frac", 0.2, "fraction of rows, the latest, kept for validation")
	seed := fs.Uint64("seed", 1, "seed")
	fs.Parse(args)
	if *dir == "" {
		return errors.New("gen: -dir is required")
	}
	X, y := synth.Binary(*rows, *cols, *seed)
	cut := int(float64(*rows) * (1 - *validFrac))
	if err := writeCSV(filepath.Join(*dir, "train.csv"), X.Slice(0, cut), y[:cut]); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(*dir, "valid.csv"), X.Slice(cut, X.Rows), y[cut:]); err != nil {
		return err
	}
	fmt.Printf("train_rows=%d\nvalid_rows=%d\ntrain_positive_rate=%.6f\n", cut, X.Rows-cut, mean(y[:cut]))
	return nil
}

// writeCSV writes label,f0,f1,... lines atomically (temp file + rename).
func writeCSV(path string, X models.Matrix, y []float32) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 1<<20)
	line := make([]byte, 0, 1024)
	for i := 0; i < X.Rows; i++ {
		line = strconv.AppendFloat(line[:0], float64(y[i]), 'g', -1, 32)
		for _, v := range X.Row(i) {
			line = append(line, ',')
			line = strconv.AppendFloat(line, float64(v), 'g', -1, 32)
		}
		line = append(line, '\n')
		if _, err = w.Write(line); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// readCSV reads a file written by writeCSV.
func readCSV(path string) (models.Matrix, []float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return models.Matrix{}, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var data, y []float32
	cols := -1
	for line := 1; sc.Scan(); line++ {
		fields := strings.Split(sc.Text(), ",")
		if cols < 0 {
			cols = len(fields) - 1
		}
		if len(fields)-1 != cols || cols < 1 {
			return models.Matrix{}, nil, fmt.Errorf("%s line %d: %d fields, want label + %d features", path, line, len(fields), cols)
		}
		for j, s := range fields {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				return models.Matrix{}, nil, fmt.Errorf("%s line %d field %d: %w", path, line, j+1, err)
			}
			if j == 0 {
				y = append(y, float32(v))
			} else {
				data = append(data, float32(v))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return models.Matrix{}, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return models.Matrix{Rows: len(y), Cols: cols, Data: data}, y, nil
}

func runFit(args []string) error {
	fs := flag.NewFlagSet("fit", flag.ExitOnError)
	dir := fs.String("dir", "", "directory with train.csv and valid.csv")
	rounds := fs.Int("rounds", 200, "boosting rounds")
	depth := fs.Int("depth", 6, "max depth")
	eta := fs.Float64("eta", 0.1, "learning rate")
	bins := fs.Int("bins", 255, "max bins per feature")
	workers := fs.Int("workers", 0, "workers (0: GOMAXPROCS)")
	seed := fs.Uint64("seed", 0, "training seed (bin sample)")
	binSample := fs.Int("bin-sample", gbdt.DefaultParams().BinSampleRows, "rows the bin edges are computed from (0: all)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the fit to this file")
	fs.Parse(args)
	if *dir == "" {
		return errors.New("fit: -dir is required")
	}
	X, y, err := readCSV(filepath.Join(*dir, "train.csv"))
	if err != nil {
		return err
	}
	VX, _, err := readCSV(filepath.Join(*dir, "valid.csv"))
	if err != nil {
		return err
	}
	p := gbdt.DefaultParams()
	p.NumRounds, p.MaxDepth, p.LearningRate, p.MaxBins, p.Workers = *rounds, *depth, *eta, *bins, *workers
	p.BinSampleRows, p.Seed = *binSample, *seed
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	start, cpu := time.Now(), cputime.Seconds()
	m, err := gbdt.Fit(context.Background(), p, gbdt.Dataset{X: X, Y: y}, nil)
	if err != nil {
		return err
	}
	fitSeconds, fitCPU := time.Since(start).Seconds(), cputime.Seconds()-cpu
	pprof.StopCPUProfile()
	if err := m.WriteFile(filepath.Join(*dir, "ours.model")); err != nil {
		return err
	}
	// Best of three prediction passes: the first warms caches.
	var pred []float64
	best := math.Inf(1)
	for range 3 {
		start = time.Now()
		pred = m.PredictProba(VX)
		best = min(best, time.Since(start).Seconds())
	}
	var sb strings.Builder
	for _, v := range pred {
		sb.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		sb.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(*dir, "ours.pred"), []byte(sb.String()), 0o644); err != nil {
		return err
	}
	fmt.Printf("fit_seconds=%.3f\nfit_cpu_seconds=%.3f\npredict_rows_per_s=%.0f\n", fitSeconds, fitCPU, float64(VX.Rows)/best)
	return nil
}

func runCompare(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ExitOnError)
	dir := fs.String("dir", "", "directory with valid.csv, ours.pred and optionally xgb.pred")
	predFile := fs.String("pred", "ours.pred", "our predictions, in -dir")
	oursFit := fs.Float64("ours-fit", 0, "our fit seconds")
	oursRate := fs.Float64("ours-rate", 0, "our predict rows/s")
	oursCPU := fs.Float64("ours-fit-cpu", 0, "our fit CPU seconds")
	xgbFit := fs.Float64("xgb-fit", 0, "XGBoost fit seconds (0: not run)")
	xgbRate := fs.Float64("xgb-rate", 0, "XGBoost predict rows/s")
	xgbCPU := fs.Float64("xgb-fit-cpu", 0, "XGBoost fit CPU seconds (estimate)")
	fs.Parse(args)
	_, y, err := readCSV(filepath.Join(*dir, "valid.csv"))
	if err != nil {
		return err
	}
	ours, err := readPred(filepath.Join(*dir, *predFile), len(y))
	if err != nil {
		return err
	}
	o := score(ours, y)
	fmt.Printf("validation rows: %d, positives: %.4f\n\n", len(y), mean(y))
	fmt.Printf("%-22s %12s %12s %12s\n", "metric", "failcast", "xgboost", "ours/theirs")
	xgbPath := filepath.Join(*dir, "xgb.pred")
	if _, err := os.Stat(xgbPath); err != nil || *xgbFit == 0 {
		row := func(name string, v float64, f string) {
			fmt.Printf("%-22s %12s %12s %12s\n", name, fmt.Sprintf(f, v), "-", "-")
		}
		row("fit seconds", *oursFit, "%.2f")
		row("fit CPU seconds", *oursCPU, "%.2f")
		row("predict rows/s", *oursRate, "%.0f")
		row("PR-AUC", o.prAUC, "%.4f")
		row("ROC-AUC", o.rocAUC, "%.4f")
		row("log-loss", o.logLoss, "%.4f")
		return nil
	}
	theirs, err := readPred(xgbPath, len(y))
	if err != nil {
		return err
	}
	x := score(theirs, y)
	row := func(name string, a, b float64, f string) {
		fmt.Printf("%-22s %12s %12s %12.3f\n", name, fmt.Sprintf(f, a), fmt.Sprintf(f, b), a/b)
	}
	row("fit seconds", *oursFit, *xgbFit, "%.2f")
	row("fit CPU seconds", *oursCPU, *xgbCPU, "%.2f")
	row("predict rows/s", *oursRate, *xgbRate, "%.0f")
	row("PR-AUC", o.prAUC, x.prAUC, "%.4f")
	row("ROC-AUC", o.rocAUC, x.rocAUC, "%.4f")
	row("log-loss", o.logLoss, x.logLoss, "%.4f")
	fmt.Printf("\nPR-AUC difference (ours - theirs): %+.4f (target within 0.002)\n", o.prAUC-x.prAUC)
	fmt.Printf("fit time ratio: %.2fx wall, %.2fx CPU (target <= 0.8x wall)\n", *oursFit / *xgbFit, *oursCPU / *xgbCPU)
	fmt.Printf("predict rate ratio: %.2fx (target >= 1.4x)\n", *oursRate / *xgbRate)
	return nil
}

func readPred(path string, want int) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []float64
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(out) != want {
		return nil, fmt.Errorf("%s has %d predictions, want %d (one per validation row)", path, len(out), want)
	}
	return out, nil
}

type scores struct{ prAUC, rocAUC, logLoss float64 }

func mean(y []float32) float64 {
	s := 0.0
	for _, v := range y {
		s += float64(v)
	}
	return s / float64(len(y))
}

// score computes average precision (PR-AUC, as scikit-learn's
// average_precision_score: sum over thresholds of recall gain times
// precision), ROC-AUC (ties count half) and mean log-loss.
func score(p []float64, y []float32) scores {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case p[a] > p[b]:
			return -1
		case p[a] < p[b]:
			return 1
		}
		return 0
	})
	totalPos := 0.0
	for _, v := range y {
		totalPos += float64(v)
	}
	totalNeg := float64(len(y)) - totalPos
	var tp, fp, ap, auc, prevRecall float64
	for i := 0; i < len(idx); {
		j := i
		var gp, gn float64
		for j < len(idx) && p[idx[j]] == p[idx[i]] {
			if y[idx[j]] == 1 {
				gp++
			} else {
				gn++
			}
			j++
		}
		// ROC: negatives in this group are outscored by every earlier
		// positive and tie with this group's positives.
		auc += gn * (tp + gp/2)
		tp += gp
		fp += gn
		recall := tp / totalPos
		ap += (recall - prevRecall) * tp / (tp + fp)
		prevRecall = recall
		i = j
	}
	ll := 0.0
	for i, v := range p {
		q := math.Min(math.Max(v, 1e-15), 1-1e-15)
		if y[i] == 1 {
			ll -= math.Log(q)
		} else {
			ll -= math.Log(1 - q)
		}
	}
	return scores{prAUC: ap, rocAUC: auc / (totalPos * totalNeg), logLoss: ll / float64(len(p))}
}
