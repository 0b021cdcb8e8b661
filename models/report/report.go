package report

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/failcast/failcast/internal/atomicfile"
)

// FileName is the name of the Markdown report inside a model directory.
const FileName = "report.md"

// Chart file names written next to the report.
const (
	PRChart          = "pr_curve.png"
	ROCChart         = "roc_curve.png"
	CalibrationChart = "calibration.png"
	ImportanceChart  = "importance.png"
	ClassChart       = "classes.png"
)

// MaxImportance is how many features the importance chart and table show.
const MaxImportance = 20

// Point is one point of a curve.
type Point struct{ X, Y float64 }

// Curve is a named curve, such as one model's precision-recall curve.
// For PR curves X is recall and Y precision; for ROC curves X is the false
// positive rate and Y the true positive rate.
type Curve struct {
	Name   string
	Points []Point
	AUC    float64 // area shown in the legend; NaN to omit
}

// CalibrationBin is one bin of a reliability diagram.
type CalibrationBin struct {
	MeanPredicted float64 // mean predicted probability of the rows in the bin
	Observed      float64 // fraction of positives among them
	Count         int
}

// Importance is one feature's importance (for example its total gain).
type Importance struct {
	Feature string
	Value   float64
}

// Candidate is one model's validation results, a row of the candidates
// table.
type Candidate struct {
	Name              string
	PRAUC, ROCAUC     float64
	LogLoss, Brier    float64
	RecallAtPrecision float64 // recall at Report.TargetPrecision
	FitSeconds        float64
	TrainRows         int    // rows it was fit on (baselines may be capped)
	Note              string // such as "row cap 20000"
}

// ClassResult is the result for one class of a multi-class model,
// evaluated one-vs-rest.
type ClassResult struct {
	Name              string
	Support           int // positives of this class in validation
	PRAUC, ROCAUC     float64
	Precision, Recall float64 // at the class's decision rule; NaN if not applicable
}

// Comparison is the challenger-versus-champion decision.
type Comparison struct {
	ChampionVersion string  // "" when there was no champion
	Evaluated       bool    // the champion was scored on the same validation window
	ChampionPRAUC   float64 // on the same window; NaN when not evaluated
	ChallengerPRAUC float64
	// Noise of the difference (challenger - champion) over the
	// validation rows drawn: its central 95% and the share of
	// bootstrap replicates in which the challenger is better (see
	// metrics.ComparePR). Replicates is 0 when not estimated.
	DiffLow, DiffHigh, ProbBetter float64
	Replicates                    int
	Tolerance                     float64
	Promoted                      bool
	Forced                        bool
	Reason                        string // one sentence explaining the decision
}

// signed formats a difference with its sign and four decimals.
func signed(v float64) string { return fmt.Sprintf("%+.4f", v) }

// Field is one line of the report's summary.
type Field struct{ Name, Value string }

// Report is everything a report shows. Zero-valued sections are left out.
type Report struct {
	Title           string
	Version         string
	Generated       time.Time
	Summary         []Field
	TargetPrecision float64
	Thresholds      map[string]float64
	Candidates      []Candidate
	Comparison      *Comparison
	PR, ROC         []Curve
	Calibration     []CalibrationBin // reliability of P(fail) on validation without the calibration map
	// Calibrated, when set, is the reliability after the stored calibration
	// map, drawn beside Calibration ("before" and "after").
	Calibrated      []CalibrationBin
	CalibrationNote string   // how the map was fitted, on which rows
	Warnings        []string // what a reader must know before trusting the numbers; shown first
	Importance      []Importance
	ClassTitle      string // heading of the per-class section, such as "Error families"
	Classes         []ClassResult
	Notes           []string
}

// Write renders the charts and report.md into dir (which must exist) and
// returns the names of the files written. Each file is written to a
// temporary name and renamed, so a reader never sees half a file.
func Write(dir string, r *Report) ([]string, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("report: %s is not a directory (write the model version first)", dir)
	}
	var written []string
	charts := map[string]func() ([]byte, error){}
	if len(r.PR) > 0 {
		charts[PRChart] = func() ([]byte, error) {
			return curveChart("Precision-recall (validation)", "recall", "precision", r.PR, false)
		}
	}
	if len(r.ROC) > 0 {
		charts[ROCChart] = func() ([]byte, error) {
			return curveChart("ROC (validation)", "false positive rate", "true positive rate", r.ROC, true)
		}
	}
	if len(r.Calibration) > 0 {
		charts[CalibrationChart] = func() ([]byte, error) { return calibrationChart(r.Calibration, r.Calibrated) }
	}
	top := topImportance(r.Importance, MaxImportance)
	if len(top) > 0 {
		charts[ImportanceChart] = func() ([]byte, error) { return importanceChart(top) }
	}
	if len(r.Classes) > 0 {
		charts[ClassChart] = func() ([]byte, error) { return classChart(r.ClassTitle, r.Classes) }
	}
	names := make([]string, 0, len(charts))
	for name := range charts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		png, err := charts[name]()
		if err != nil {
			return written, fmt.Errorf("report: chart %s: %w", name, err)
		}
		if err := atomicfile.WriteBytes(filepath.Join(dir, name), png); err != nil {
			return written, fmt.Errorf("report: %w", err)
		}
		written = append(written, name)
	}
	md := render(r, top, func(name string) bool { _, ok := charts[name]; return ok })
	if err := atomicfile.WriteBytes(filepath.Join(dir, FileName), md); err != nil {
		return written, fmt.Errorf("report: %w", err)
	}
	return append(written, FileName), nil
}

// render returns report.md; hasChart says which chart files exist.
func render(r *Report, top []Importance, hasChart func(string) bool) []byte {
	var b bytes.Buffer
	title := r.Title
	if title == "" {
		title = "Model report"
	}
	if r.Version != "" {
		title += " " + r.Version
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	if !r.Generated.IsZero() {
		fmt.Fprintf(&b, "Generated %s.\n\n", r.Generated.UTC().Format(time.RFC3339))
	}
	if len(r.Warnings) > 0 {
		b.WriteString("## Warnings\n\n")
		for _, w := range r.Warnings {
			fmt.Fprintf(&b, "- %s\n", w)
		}
		b.WriteString("\n")
	}
	if c := r.Comparison; c != nil {
		b.WriteString("## Decision\n\n")
		switch {
		case c.Forced:
			b.WriteString("**Promoted (forced).** ")
		case c.Promoted:
			b.WriteString("**Promoted.** ")
		default:
			b.WriteString("**Kept out: the champion stays.** ")
		}
		b.WriteString(c.Reason + "\n\n")
		b.WriteString("| | version | validation PR-AUC |\n|---|---|---|\n")
		champ := "none"
		if c.ChampionVersion != "" {
			champ = c.ChampionVersion
		}
		champScore := "not evaluated"
		if c.Evaluated {
			champScore = num(c.ChampionPRAUC)
		}
		fmt.Fprintf(&b, "| champion | %s | %s |\n", champ, champScore)
		fmt.Fprintf(&b, "| challenger | %s | %s |\n\n", orDash(r.Version), num(c.ChallengerPRAUC))
		if c.Evaluated && c.Replicates > 0 {
			fmt.Fprintf(&b, "Difference (challenger - champion) %s; 95%% bootstrap interval over the validation rows [%s, %s]; the challenger is better in %s%% of %d replicates.\n\n",
				signed(c.ChallengerPRAUC-c.ChampionPRAUC), signed(c.DiffLow), signed(c.DiffHigh), strconv.FormatFloat(100*c.ProbBetter, 'f', 1, 64), c.Replicates)
		}
		fmt.Fprintf(&b, "Tolerance: the challenger is promoted when its PR-AUC is at least the champion's minus %s.\n\n", num(c.Tolerance))
	}
	if len(r.Summary) > 0 {
		b.WriteString("## Run\n\n| | |\n|---|---|\n")
		for _, f := range r.Summary {
			fmt.Fprintf(&b, "| %s | %s |\n", cell(f.Name), cell(f.Value))
		}
		b.WriteString("\n")
	}
	if len(r.Thresholds) > 0 {
		b.WriteString("## Thresholds\n\n| name | P(fail) at or above |\n|---|---|\n")
		keys := make([]string, 0, len(r.Thresholds))
		for k := range r.Thresholds {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "| %s | %s |\n", cell(k), num(r.Thresholds[k]))
		}
		b.WriteString("\n")
	}
	if len(r.Candidates) > 0 {
		b.WriteString("## Candidates (validation window)\n\n")
		rap := "recall at target precision"
		if r.TargetPrecision > 0 {
			rap = fmt.Sprintf("recall at precision %s", num(r.TargetPrecision))
		}
		fmt.Fprintf(&b, "| model | PR-AUC | ROC-AUC | log-loss | Brier | %s | fit seconds | train rows | note |\n", rap)
		b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
		for _, c := range r.Candidates {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %d | %s |\n", cell(c.Name), num(c.PRAUC), num(c.ROCAUC),
				num(c.LogLoss), num(c.Brier), num(c.RecallAtPrecision), secs(c.FitSeconds), c.TrainRows, cell(c.Note))
		}
		b.WriteString("\n")
	}
	chart := func(name, alt string) {
		if hasChart(name) {
			fmt.Fprintf(&b, "![%s](%s)\n\n", alt, name)
		}
	}
	if len(r.PR) > 0 || len(r.ROC) > 0 {
		b.WriteString("## Curves\n\n")
		chart(PRChart, "precision-recall curves")
		chart(ROCChart, "ROC curves")
	}
	if len(r.Calibration) > 0 {
		b.WriteString("## Calibration\n\n")
		chart(CalibrationChart, "calibration plot")
		if r.CalibrationNote != "" {
			b.WriteString(r.CalibrationNote + "\n\n")
		}
		table := func(title string, bins []CalibrationBin) {
			fmt.Fprintf(&b, "%s\n\n| mean predicted | observed | rows |\n|---|---|---|\n", title)
			for _, c := range bins {
				fmt.Fprintf(&b, "| %s | %s | %d |\n", num(c.MeanPredicted), num(c.Observed), c.Count)
			}
			b.WriteString("\n")
		}
		if len(r.Calibrated) > 0 {
			table("Before (without the calibration map):", r.Calibration)
			table("After (with the calibration map):", r.Calibrated)
		} else {
			table("Without a calibration map:", r.Calibration)
		}
	}
	if len(top) > 0 {
		fmt.Fprintf(&b, "## Feature importance (top %d)\n\n", len(top))
		chart(ImportanceChart, "feature importance")
		b.WriteString("| feature | importance |\n|---|---|\n")
		for _, f := range top {
			fmt.Fprintf(&b, "| %s | %s |\n", cell(f.Feature), num(f.Value))
		}
		b.WriteString("\n")
	}
	if len(r.Classes) > 0 {
		heading := r.ClassTitle
		if heading == "" {
			heading = "Per-class results"
		}
		fmt.Fprintf(&b, "## %s\n\n", heading)
		chart(ClassChart, heading)
		b.WriteString("| class | validation positives | PR-AUC | ROC-AUC | precision | recall |\n|---|---|---|---|---|---|\n")
		for _, c := range r.Classes {
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", cell(c.Name), c.Support, num(c.PRAUC), num(c.ROCAUC), num(c.Precision), num(c.Recall))
		}
		b.WriteString("\n")
	}
	if len(r.Notes) > 0 {
		b.WriteString("## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// topImportance returns the n most important features, largest first.
func topImportance(imp []Importance, n int) []Importance {
	out := append([]Importance(nil), imp...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Value > out[j].Value })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.4f", v)
}

func secs(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cell escapes a value for a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
