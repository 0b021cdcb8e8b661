package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/failcast/failcast/bench/internal/stats"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/metrics"
	"github.com/failcast/failcast/training"
)

// repeatRun is one repeat of a model compared repeatedly.
type repeatRun struct {
	Repeat          int
	FitSeconds      float64
	PredictRowsPerS float64
	Load            string // 1-minute load average when the repeat started
	Err             string // what went wrong; "" when the repeat finished
}

func (r repeatRun) ok() bool { return r.Err == "" }

// spread is the median and range of some values.
type spread struct {
	median, min, max float64
	n                int
}

// spreadOf returns the median (the mean of the middle two for an even
// count), minimum and maximum of the finite values of vs.
func spreadOf(vs []float64) spread {
	median, lo, hi, n := stats.Spread(vs)
	return spread{median: median, min: lo, max: hi, n: n}
}

// loadAverage is the 1-minute load average, "" where /proc/loadavg is
// not readable.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// repeater runs one model once per repeat and keeps its figures.
type repeater struct {
	res    result
	scored bool
	pr     []float64 // PR-AUC of every finished repeat
	// once runs the model one time: fit seconds, prediction rate, the
	// validation predictions and a note.
	once func(ctx context.Context) (float64, float64, []float64, string, error)
	// fatal: an error of this model stops the comparison (ours: a bug),
	// otherwise it is recorded for the repeat and the next one runs.
	fatal bool
}

func (p *repeater) run(ctx context.Context, repeat int, labels []bool) error {
	rr := repeatRun{Repeat: repeat, Load: loadAverage()}
	fit, rate, pred, note, err := p.once(ctx)
	if err == nil && !p.scored {
		p.res.Note = joinNote(p.res.Note, note)
		err = score(&p.res, pred, labels)
		p.scored = err == nil
	}
	var ap float64
	if err == nil {
		ap, err = metrics.AveragePrecision(pred, labels)
	}
	if err != nil {
		if p.fatal || ctx.Err() != nil {
			return fmt.Errorf("%s, repeat %d: %w", p.res.Model, repeat, err)
		}
		rr.Err = "failed: " + oneLine(err.Error(), 200)
		p.res.Runs = append(p.res.Runs, rr)
		return nil
	}
	rr.FitSeconds, rr.PredictRowsPerS = fit, rate
	p.pr = append(p.pr, ap)
	p.res.Runs = append(p.res.Runs, rr)
	return nil
}

// finish sets the result's fit and prediction figures to the medians of
// the finished repeats and notes their ranges, each repeat's load, the
// repeats that failed and any PR-AUC that differs between repeats. It
// fails when no repeat finished.
func (p *repeater) finish() (result, error) {
	var fits, rates, loads []float64
	var failed, loadText []string
	for _, r := range p.res.Runs {
		loadText = append(loadText, dashIfEmpty(r.Load))
		if !r.ok() {
			failed = append(failed, fmt.Sprintf("repeat %d %s", r.Repeat, r.Err))
			continue
		}
		fits, rates = append(fits, r.FitSeconds), append(rates, r.PredictRowsPerS)
		if v, err := strconv.ParseFloat(r.Load, 64); err == nil {
			loads = append(loads, v)
		}
	}
	if len(fits) == 0 {
		return p.res, fmt.Errorf("%s: no repeat finished: %s", p.res.Model, strings.Join(failed, "; "))
	}
	f, r := spreadOf(fits), spreadOf(rates)
	p.res.FitSeconds, p.res.PredictRowsPerS = f.median, r.median
	if len(p.res.Runs) > 1 {
		p.res.Note = joinNote(fmt.Sprintf("median of %d repeats: fit %.2f-%.2f s, predict %s-%s rows/s; load %s",
			f.n, f.min, f.max, thousands(r.min), thousands(r.max), strings.Join(loadText, "/")), p.res.Note)
	}
	for _, s := range failed {
		p.res.Note = joinNote(p.res.Note, s)
	}
	if ap := spreadOf(p.pr); ap.max-ap.min > 1e-9 {
		p.res.Note = joinNote(p.res.Note, fmt.Sprintf("PR-AUC differs between repeats: %.4f-%.4f", ap.min, ap.max))
	}
	return p.res, nil
}

// runRepeated runs the models of ps o.repeats times, in turns: in odd
// repeats in the order given, in even ones reversed, so that a change of
// load during the run falls on both sides of a ratio.
func runRepeated(ctx context.Context, ps []*repeater, repeats int, labels []bool) ([]result, error) {
	for r := 1; r <= repeats; r++ {
		order := slices.Clone(ps)
		if r%2 == 0 {
			slices.Reverse(order)
		}
		for _, p := range order {
			if err := p.run(ctx, r, labels); err != nil {
				return nil, err
			}
		}
	}
	out := make([]result, 0, len(ps))
	for _, p := range ps {
		res, err := p.finish()
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

// goRepeater repeats a Go model (a fresh fit each time).
func goRepeater(m goModel, sp *training.Tables, timing models.Matrix, seed uint64) *repeater {
	p := &repeater{res: result{Model: m.name, Tool: m.tool}, fatal: true}
	p.once = func(ctx context.Context) (float64, float64, []float64, string, error) {
		r, pred, err := runGo(ctx, m, sp, timing, seed)
		if err != nil {
			return 0, 0, nil, "", err
		}
		p.res.TrainRows = r.TrainRows
		return r.FitSeconds, r.PredictRowsPerS, pred, r.Note, nil
	}
	return p
}

// xgbRepeater repeats XGBoost's fit and prediction.
func xgbRepeater(x *xgbRunner, trainRows int) *repeater {
	p := &repeater{res: result{Model: "XGBoost", Tool: x.version + " CLI, tree_method=hist", TrainRows: trainRows}}
	p.once = func(ctx context.Context) (float64, float64, []float64, string, error) {
		fit, err := x.fit(ctx)
		if err != nil {
			return 0, 0, nil, "", err
		}
		rate, pred, note, err := x.predict(ctx)
		return fit, rate, pred, note, err
	}
	return p
}

// oneLine returns s on one line (tabs and newlines as spaces), cut to n
// bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// TSV stage names, as bench/stagereport reads them: "peers: MODEL fit"
// and "peers: MODEL predict".
func tsvStage(model, what string) string { return "peers: " + model + " " + what }

// writeTSV writes every repeat of the repeated models as bench/run's
// measurement lines (scale events stage items unit seconds rate rss_kb
// load status note repeat cpu_s; events and CPU seconds left empty), for
// the targets table.
func (r *report) writeTSV(w io.Writer, scale string) error {
	var b strings.Builder
	for _, x := range r.Results {
		for _, run := range x.Runs {
			status, fit, pred, rate, note := "ok", "", "", "", fmt.Sprintf("PR-AUC %.4f", x.PRAUC)
			if run.ok() {
				fit = strconv.FormatFloat(run.FitSeconds, 'f', 4, 64)
				if run.PredictRowsPerS > 0 && !math.IsInf(run.PredictRowsPerS, 0) {
					pred = strconv.FormatFloat(float64(r.ValidRows)/run.PredictRowsPerS, 'f', 6, 64)
					rate = strconv.FormatFloat(run.PredictRowsPerS, 'f', 1, 64)
				}
			} else {
				status, note = run.Err, ""
			}
			predStatus := status
			if status == "ok" && pred == "" {
				predStatus = "failed: no prediction rate"
			}
			fmt.Fprintf(&b, "%s\t\t%s\t%d\trows\t%s\t\t\t%s\t%s\t%s\t%d\t\n", scale, tsvStage(x.Model, "fit"), x.TrainRows, fit, run.Load, status, note, run.Repeat)
			fmt.Fprintf(&b, "%s\t\t%s\t%d\trows\t%s\t%s\t\t%s\t%s\t\t%d\t\n", scale, tsvStage(x.Model, "predict"), r.ValidRows, pred, rate, run.Load, predStatus, run.Repeat)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
