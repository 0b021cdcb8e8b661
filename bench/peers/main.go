package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/pipeline"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		slog.Error("peers failed", "err", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	history, dir, out    string
	asOf                 time.Time
	s                    settings
	xgboost, python, hgb string
	xgbPredict           string // bench/xgb_predict.py
	ompWaitPolicy        string
	repeats              int
	tsv, scale           string // measurement lines for bench/run, and the scale point they are of
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{}
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.history, "history", "", "history dataset (required)")
	asOf := fs.String("as-of", "", "as-of time, RFC 3339 (required): validation is the 3 days before it")
	fs.StringVar(&o.dir, "dir", "", "work directory for the CSV files, models and predictions (required)")
	fs.StringVar(&o.out, "out", "", "also write the Markdown tables to this file")
	fs.IntVar(&o.s.rounds, "rounds", 200, "GBDT boosting rounds (all GBDTs)")
	fs.IntVar(&o.s.depth, "depth", 6, "GBDT maximum depth")
	fs.Float64Var(&o.s.eta, "eta", 0.1, "GBDT learning rate")
	fs.IntVar(&o.s.bins, "bins", 255, "GBDT histogram bins per feature")
	fs.IntVar(&o.s.threads, "threads", 2, "threads of every model")
	fs.Uint64Var(&o.s.seed, "seed", 1, "seed of every model and row sample")
	fs.StringVar(&o.xgboost, "xgboost", "xgboost", "XGBoost CLI binary")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python that has scikit-learn (Debian's sees python3-sklearn)")
	fs.StringVar(&o.hgb, "sklearn-script", "bench/hgb.py", "the scikit-learn script")
	fs.StringVar(&o.xgbPredict, "xgb-predict-script", "bench/xgb_predict.py",
		"the script that times XGBoost's prediction in memory with --python's xgboost (without it: the CLI difference method)")
	fs.IntVar(&o.repeats, "repeats", 1, "fits and predictions of failcast gbdt and XGBoost, in turns; the tables give medians and ranges")
	fs.StringVar(&o.tsv, "tsv", "", "also write every repeat of failcast gbdt and XGBoost to this file as bench/run measurement lines")
	fs.StringVar(&o.scale, "scale", "-", "the scale point the --tsv lines are of")
	fs.StringVar(&o.ompWaitPolicy, "omp-wait-policy", "PASSIVE",
		"OMP_WAIT_POLICY of the peers (OpenMP programs): PASSIVE stops idle threads from spinning, which on a shared machine slows them several times; empty keeps the environment's")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.history == "" || o.dir == "" || *asOf == "":
		return o, errors.New("--history, --as-of and --dir are required")
	case o.repeats < 1 || o.repeats > 100:
		return o, fmt.Errorf("--repeats is %d, want 1..100", o.repeats)
	case strings.ContainsAny(o.scale, "\t\n"):
		return o, fmt.Errorf("--scale %q: no tabs or newlines", o.scale)
	case o.s.rounds < 2 || o.s.depth < 1 || o.s.threads < 1:
		return o, fmt.Errorf("--rounds %d, --depth %d, --threads %d: want at least 2, 1 and 1", o.s.rounds, o.s.depth, o.s.threads)
	case o.s.bins < 2 || o.s.bins > 255:
		return o, fmt.Errorf("--bins is %d, want 2..255", o.s.bins)
	case !(o.s.eta > 0 && o.s.eta <= 1):
		return o, fmt.Errorf("--eta is %g, want (0, 1]", o.s.eta)
	}
	t, err := time.Parse(time.RFC3339, *asOf)
	if err != nil {
		return o, fmt.Errorf("--as-of: want an RFC 3339 time such as 2026-11-01T00:00:00Z, got %q", *asOf)
	}
	o.asOf = t.UTC()
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	ds, err := pipeline.OpenDataset(o.history)
	if err != nil {
		return fmt.Errorf("open the history: %w", err)
	}
	rep, err := compare(ctx, ds, o)
	if err != nil {
		return err
	}
	if err := rep.writeMarkdown(stdout); err != nil {
		return err
	}
	if o.out != "" {
		if err := writeAtomic(o.out, func(w io.Writer) error { return rep.writeMarkdown(w) }); err != nil {
			return err
		}
	}
	if o.tsv != "" {
		return writeAtomic(o.tsv, func(w io.Writer) error { return rep.writeTSV(w, o.scale) })
	}
	return nil
}

// compare builds the feature table, fits every model on it and scores
// their validation predictions.
func compare(ctx context.Context, src features.Source, o options) (*report, error) {
	began := time.Now()
	sp, err := buildTables(ctx, src, o.asOf)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", o.history, err)
	}
	rep := &report{History: o.history, AsOf: o.asOf.Format(time.RFC3339), Settings: o.s, Features: len(sp.Table.Names),
		TrainRows: sp.TrainX.Rows, ValidRows: sp.ValidX.Rows, TrainRate: positiveRate(sp.TrainLabels), ValidRate: positiveRate(sp.ValidLabels),
		BuildSeconds: time.Since(began).Seconds(), OMPWaitPolicy: o.ompWaitPolicy, OursName: "failcast gbdt", PeerNames: []string{"XGBoost", "scikit-learn HGB"}}
	slog.Info("feature table built", "train_rows", rep.TrainRows, "valid_rows", rep.ValidRows, "seconds", round2(rep.BuildSeconds))

	began = time.Now()
	for _, f := range []struct {
		name  string
		write func(string, models.Matrix, []bool) error
		train bool
	}{
		{"train.csv", writeCSV, true}, {"valid.csv", writeCSV, false},
		{"train.f32", writeF32, true}, {"valid.f32", writeF32, false},
	} {
		X, y := sp.ValidX, sp.ValidLabels
		if f.train {
			X, y = sp.TrainX, sp.TrainLabels
		}
		if err := f.write(filepath.Join(o.dir, f.name), X, y); err != nil {
			return nil, err
		}
	}
	rep.WriteSeconds = time.Since(began).Seconds()

	var env []string
	if o.ompWaitPolicy != "" {
		env = []string{"OMP_WAIT_POLICY=" + o.ompWaitPolicy}
	}
	// failcast's GBDT and XGBoost, o.repeats times in turns.
	gms := goModels(o.s, sp.Table.Names, sp.TrainX.Rows)
	timing := timingMatrix(sp.ValidX)
	repeated := []*repeater{goRepeater(gms[0], sp, timing, o.s.seed)}
	x, err := newXGBRunner(ctx, o.xgboost, o.python, o.xgbPredict, o.dir, env, o.s, rep.TrainRate, sp.ValidX.Rows, len(sp.Table.Names))
	switch {
	case errors.Is(err, errNotInstalled):
		slog.Warn("peer skipped", "model", "XGBoost", "reason", err)
		rep.Skipped = append(rep.Skipped, fmt.Sprintf("XGBoost: %v", err))
	case err != nil:
		return nil, fmt.Errorf("XGBoost: %w", err)
	default:
		repeated = append(repeated, xgbRepeater(x, sp.TrainX.Rows))
	}
	slog.Info("fitting in turns", "models", len(repeated), "repeats", o.repeats)
	rs, err := runRepeated(ctx, repeated, o.repeats, sp.ValidLabels)
	if err != nil {
		return nil, err
	}
	rep.Repeats = o.repeats
	byName := map[string]result{}
	for _, r := range rs {
		byName[r.Model] = r
	}
	add := func(r result, pred []float64) error {
		if pred != nil {
			if err := score(&r, pred, sp.ValidLabels); err != nil {
				return err
			}
		}
		slog.Info("model compared", "model", r.Model, "fit_seconds", round2(r.FitSeconds), "predict_rows_per_s", int(r.PredictRowsPerS),
			"pr_auc", round4(r.PRAUC), "roc_auc", round4(r.ROCAUC), "log_loss", round4(r.LogLoss))
		rep.Results = append(rep.Results, r)
		return nil
	}
	if err := add(byName[gms[0].name], nil); err != nil {
		return nil, err
	}
	// The baselines, once each.
	for _, m := range gms[1:] {
		slog.Info("fitting", "model", m.name)
		r, pred, err := runGo(ctx, m, sp, timing, o.s.seed)
		if err != nil {
			return nil, err
		}
		if err := add(r, pred); err != nil {
			return nil, err
		}
	}
	if r, ok := byName["XGBoost"]; ok {
		if err := add(r, nil); err != nil {
			return nil, err
		}
	}
	slog.Info("fitting", "model", "scikit-learn HGB")
	r, pred, err := runSklearn(ctx, o.python, o.hgb, o.dir, env, o.s, len(sp.Table.Names), sp.TrainX.Rows, sp.ValidX.Rows)
	switch {
	case errors.Is(err, errNotInstalled):
		slog.Warn("peer skipped", "model", "scikit-learn HGB", "reason", err)
		rep.Skipped = append(rep.Skipped, fmt.Sprintf("scikit-learn HGB: %v", err))
	case err != nil:
		return nil, fmt.Errorf("scikit-learn HGB: %w", err)
	default:
		if err := add(r, pred); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }
func round4(v float64) float64 { return float64(int64(v*10000+0.5)) / 10000 }
