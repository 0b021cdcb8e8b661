package main

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Stage names bench/run records and the targets table reads.
const (
	stageExport      = "export (NDJSON -> history)"
	stageExportBytes = "export: NDJSON read end to end"
	stagePlanScored  = "score: featurize + predict plan"
	warmCacheMarker  = "--state-cache warm"
	stagePeerJoin    = "peer: pandas read + join (NDJSON)"
	stagePeerPath    = "peer: pandas + XGBoost whole path"
	stageTrain       = "train --baselines=false (whole run)"
	scorePrefix      = "score "
	wholeRunSuffix   = "-send plan (whole run)"

	// bench/peers' lines (its -tsv output), one per repeat.
	stageOursFit      = "peers: failcast gbdt fit"
	stageXGBFit       = "peers: XGBoost fit"
	stageOursPredict  = "peers: failcast gbdt predict"
	stageXGBPredict   = "peers: XGBoost predict"
	prAUCTolerance    = 0.002 // "equal PR-AUC" of target 1
	fiftyMillionFloor = 45_000_000
)

// resolve finds a stage by name, or a score stage by the end of its name
// (its plan size is a setting).
func resolve(p point, name string) (stage, bool) {
	if s, ok := p.find(name); ok {
		return s, true
	}
	for _, s := range p.stages {
		if strings.HasPrefix(s.name, scorePrefix) && strings.HasSuffix(s.name, name) {
			return s, true
		}
	}
	return stage{}, false
}

// paired is a figure computed from runs of several stages of the same
// repeat, one value per repeat.
type paired struct {
	values   []float64
	excluded []string // repeats left out, with the stage and why
}

// perRepeat evaluates f on the runs of the named stages that share a
// repeat number; a stage run once (repeat 0) joins every repeat. A repeat
// in which a stage did not finish, or was not run, is excluded and named.
// ok is false when a stage is missing altogether.
func perRepeat(p point, names []string, f func(runs []measurement) float64) (paired, bool) {
	stages := make([]stage, len(names))
	var reps []int
	for i, n := range names {
		s, ok := resolve(p, n)
		if !ok {
			return paired{}, false
		}
		stages[i] = s
		for _, m := range s.runs {
			if m.Repeat > 0 && !slices.Contains(reps, m.Repeat) {
				reps = append(reps, m.Repeat)
			}
		}
	}
	if len(reps) == 0 {
		reps = []int{0}
	}
	slices.Sort(reps)
	var out paired
	for _, r := range reps {
		runs := make([]measurement, len(stages))
		why := ""
		for i, s := range stages {
			j := slices.IndexFunc(s.runs, func(m measurement) bool { return m.Repeat == r })
			if j < 0 && len(s.runs) == 1 && s.runs[0].Repeat == 0 {
				j = 0
			}
			switch {
			case j < 0:
				why = s.name + " not run"
			case !s.runs[j].ok():
				why = s.name + " " + s.runs[j].Status
			}
			if why != "" {
				break
			}
			runs[i] = s.runs[j]
		}
		if why != "" {
			out.excluded = append(out.excluded, fmt.Sprintf("repeat %d excluded: %s", r, why))
			continue
		}
		if v := f(runs); !math.IsNaN(v) && !math.IsInf(v, 0) {
			out.values = append(out.values, v)
		} else {
			out.excluded = append(out.excluded, fmt.Sprintf("repeat %d excluded: no figure", r))
		}
	}
	return out, true
}

// cell is a target's figure at one scale point.
type cell struct {
	shown    string
	judged   bool // false: the figure is shown without met / not met
	met      bool
	excluded []string
	after    string // shown after the verdict, not judged
}

func (c cell) String() string {
	s := c.shown
	if c.judged {
		if c.met {
			s += ": met"
		} else {
			s += ": **not met**"
		}
	}
	s += c.after
	if len(c.excluded) > 0 {
		s += " (" + strings.Join(c.excluded, "; ") + ")"
	}
	return s
}

// rangeNote is " (min-max over n runs)" for more than one value.
func rangeNote(s summary, format func(float64) string, what string) string {
	if s.n < 2 {
		return ""
	}
	return fmt.Sprintf(" (%s-%s over %d %s)", format(s.min), format(s.max), s.n, what)
}

func times(v float64) string { return fmt.Sprintf("%.2fx", v) }

// rateCell is the median rate of a stage, judged by met.
func rateCell(p point, name string, format func(float64) string, met func(float64) bool) (cell, bool) {
	s, ok := resolve(p, name)
	if !ok {
		return cell{}, false
	}
	r := s.rates()
	if r.n == 0 {
		return cell{shown: "-", excluded: s.failures()}, true
	}
	return cell{shown: format(r.median) + rangeNote(r, format, "runs"), judged: true, met: met(r.median), excluded: s.failures()}, true
}

// ratioCell is the median over repeats of (sum of a's seconds) / (sum of
// b's seconds), judged by met.
func ratioCell(p point, a, b []string, met func(float64) bool) (cell, bool) {
	var sa, sb float64
	pr, ok := perRepeat(p, append(slices.Clone(a), b...), func(runs []measurement) float64 {
		sa, sb = 0, 0
		for i, m := range runs {
			if i < len(a) {
				sa += m.Seconds
			} else {
				sb += m.Seconds
			}
		}
		if !(sb > 0) {
			return math.NaN()
		}
		return sa / sb
	})
	if !ok {
		return cell{}, false
	}
	c := ratioOf(pr, met, func() string { return fmt.Sprintf(" (%.1f s / %.1f s)", sa, sb) })
	// The same ratio in CPU seconds, where every stage measured them:
	// shown beside, not judged (the targets are wall time on 2 cores).
	cpu, _ := perRepeat(p, append(slices.Clone(a), b...), func(runs []measurement) float64 {
		var ca, cb float64
		for i, m := range runs {
			if i < len(a) {
				ca += m.CPU
			} else {
				cb += m.CPU
			}
		}
		return ca / cb
	})
	if cs := summarize(cpu.values); cs.n > 0 && c.shown != "-" {
		c.after = "; in CPU seconds " + times(cs.median) + rangeNote(cs, times, "repeats") + " (not judged)"
	}
	return c, true
}

// ratioOf turns per-repeat ratios into a cell: the median, and the range
// over the repeats (or single's detail for one repeat).
func ratioOf(pr paired, met func(float64) bool, single func() string) cell {
	s := summarize(pr.values)
	if s.n == 0 {
		return cell{shown: "-", excluded: pr.excluded}
	}
	shown := times(s.median)
	if s.n == 1 {
		shown += single()
	} else {
		shown += " median" + rangeNote(s, times, "repeats")
	}
	return cell{shown: shown, judged: true, met: met(s.median), excluded: pr.excluded}
}

var prAUCNote = regexp.MustCompile(`PR-AUC ([0-9.]+)`)

// prAUC reads "PR-AUC x" from the note of a stage's first finished run.
func prAUC(p point, name string) (float64, bool) {
	s, ok := p.find(name)
	if !ok {
		return 0, false
	}
	for _, m := range s.good() {
		if sm := prAUCNote.FindStringSubmatch(m.Note); sm != nil {
			v, err := strconv.ParseFloat(sm[1], 64)
			return v, err == nil
		}
	}
	return 0, false
}

// target is one figure of issue 15 that bench/run checks.
type target struct {
	name, want string
	value      func(p point) (cell, bool)
}

var targets = []target{
	{
		name: "GBDT fit / XGBoost hist fit, same table and settings (target 1; bench/peers, interleaved)", want: "<= 0.8, PR-AUC within 0.002",
		value: func(p point) (cell, bool) {
			var o, x float64
			pr, ok := perRepeat(p, []string{stageOursFit, stageXGBFit}, func(runs []measurement) float64 {
				o, x = runs[0].Seconds, runs[1].Seconds
				if !(x > 0) {
					return math.NaN()
				}
				return o / x
			})
			if !ok {
				return cell{}, false
			}
			c := ratioOf(pr, func(v float64) bool { return v <= 0.8 }, func() string { return fmt.Sprintf(" (%.1f s / %.1f s)", o, x) })
			po, okO := prAUC(p, stageOursFit)
			px, okX := prAUC(p, stageXGBFit)
			switch {
			case !okO || !okX:
				c.shown += "; PR-AUC not recorded"
				c.met = false
			default:
				c.shown += fmt.Sprintf("; PR-AUC %.4f vs %.4f", po, px)
				if po < px-prAUCTolerance {
					c.met = false
				}
			}
			return c, true
		},
	},
	{
		name: "GBDT predict rows/s / XGBoost's (target 1; bench/peers, interleaved)", want: ">= 1.4",
		value: func(p point) (cell, bool) {
			pr, ok := perRepeat(p, []string{stageOursPredict, stageXGBPredict}, func(runs []measurement) float64 {
				return runs[0].rate() / runs[1].rate()
			})
			if !ok {
				return cell{}, false
			}
			return ratioOf(pr, func(v float64) bool { return v >= 1.4 }, func() string { return "" }), true
		},
	},
	{
		name: "train --baselines=false at 50M events: seconds, peak GB (target 2; judged at >= 45M events)", want: "<= 90 s, <= 4 GB",
		value: func(p point) (cell, bool) {
			s, ok := p.find(stageTrain)
			if !ok {
				return cell{}, false
			}
			sec := s.seconds()
			if sec.n == 0 {
				return cell{shown: "-", excluded: s.failures()}, true
			}
			gb := float64(s.maxRSSKB()) * 1024 / 1e9
			c := cell{shown: fmt.Sprintf("%.1f s%s", sec.median, rangeNote(sec, func(v float64) string { return fmt.Sprintf("%.1f", v) }, "runs")),
				excluded: s.failures()}
			if s.maxRSSKB() > 0 {
				c.shown += fmt.Sprintf(", %.2f GB", gb)
			}
			if p.events >= fiftyMillionFloor {
				c.judged = true
				c.met = sec.median <= 90 && s.maxRSSKB() > 0 && gb <= 4
			}
			return c, true
		},
	},
	{
		name: "export: NDJSON end to end, MB/s (target 4)", want: ">= 200",
		value: func(p point) (cell, bool) {
			return rateCell(p, stageExportBytes, func(v float64) string { return fmt.Sprintf("%.0f", v) }, func(v float64) bool { return v >= 200 })
		},
	},
	{
		// Export joins from disk within --memory-limit (1.5 GiB by
		// default), so its peak does not grow with the input: the figure
		// is the one measured, not a projection.
		name: "export: peak RSS, GB (target 4: <= 2 at 50M events; bounded by --memory-limit, not the input)", want: "<= 2",
		value: func(p point) (cell, bool) {
			s, ok := p.find(stageExport)
			if !ok {
				return cell{}, false
			}
			m, good := s.medianRun()
			kb := s.maxRSSKB()
			if !good || kb <= 0 || m.Items <= 0 {
				return cell{shown: "-", excluded: s.failures()}, true
			}
			gb := float64(kb) * 1024 / 1e9
			return cell{shown: fmt.Sprintf("%.2f at %s events", gb, thousands(float64(m.Items))), judged: true, met: gb <= 2, excluded: s.failures()}, true
		},
	},
	{
		name: "score: featurize + predict plan, sends/s (target 5)", want: ">= 400,000",
		value: func(p point) (cell, bool) {
			return rateCell(p, stagePlanScored, thousands, func(v float64) bool { return v >= 400_000 })
		},
	},
	{
		name: "score: whole run with a warm state cache, sends/s (target 5)", want: ">= 1,000,000",
		value: func(p point) (cell, bool) {
			for _, s := range p.stages {
				if strings.Contains(s.name, warmCacheMarker) {
					return rateCell(p, s.name, thousands, func(v float64) bool { return v >= 1_000_000 })
				}
			}
			return cell{}, false
		},
	},
	{
		name: "export time / pandas read + join time, same NDJSON (peer, interleaved)", want: "<= 1",
		value: func(p point) (cell, bool) {
			return ratioCell(p, []string{stageExport}, []string{stagePeerJoin}, func(v float64) bool { return v <= 1 })
		},
	},
	{
		name: "whole path (export + train + score) / pandas + XGBoost whole path (peer, interleaved; issue goal: several times faster)", want: "<= 0.33",
		value: func(p point) (cell, bool) {
			return ratioCell(p, []string{stageExport, stageTrain, wholeRunSuffix}, []string{stagePeerPath}, func(v float64) bool { return v <= 1.0/3 })
		},
	},
}

// writeTargets writes the targets table: each target's figure at every
// scale point that measured it, and whether it is met. A repeated figure
// is the median of its runs (for a ratio, the median of the per-repeat
// ratios), and met / not met reads that median.
func writeTargets(w io.Writer, pts []point) error {
	var b strings.Builder
	b.WriteString("### Targets (issue 15)\n\n")
	b.WriteString("Repeated figures are medians, with the range over the repeats; a ratio is the median of the per-repeat ratios " +
		"(ours and the peer run in the same repeat), and met / not met reads the median. A repeat that failed is excluded and named.\n\n")
	b.WriteString("| target | want |")
	for _, p := range pts {
		fmt.Fprintf(&b, " scale %s |", p.scale)
	}
	b.WriteString("\n|---|---:|" + strings.Repeat("---:|", len(pts)) + "\n")
	for _, t := range targets {
		fmt.Fprintf(&b, "| %s | %s |", t.name, t.want)
		for _, p := range pts {
			c, ok := t.value(p)
			if !ok {
				b.WriteString(" - |")
				continue
			}
			fmt.Fprintf(&b, " %s |", c)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
