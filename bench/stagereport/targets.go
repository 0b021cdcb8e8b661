package main

import (
	"fmt"
	"io"
	"math"
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
)

// ratio returns a/b seconds of two stages of p, shown with both.
func ratio(p point, a, b []string) (float64, string, bool) {
	sum := func(stages []string) (float64, bool) {
		var s float64
		for _, st := range stages {
			m, ok := find(p.stages, st)
			if !ok {
				for _, c := range p.stages { // a stage named by prefix and suffix
					if strings.HasPrefix(c.Stage, scorePrefix) && strings.HasSuffix(c.Stage, st) {
						m, ok = c, true
						break
					}
				}
			}
			if !ok || !m.ok() {
				return 0, false
			}
			s += m.Seconds
		}
		return s, s > 0
	}
	x, okA := sum(a)
	y, okB := sum(b)
	if !okA || !okB {
		return 0, "", false
	}
	return x / y, fmt.Sprintf("%.2fx (%.1f s / %.1f s)", x/y, x, y), true
}

// target is one figure of issue 15 that bench/run checks.
type target struct {
	name  string
	want  string
	value func(p point) (figure float64, shown string, ok bool)
	met   func(v float64) bool
}

var targets = []target{
	{
		name: "export: NDJSON end to end, MB/s (target 4)", want: ">= 200",
		value: func(p point) (float64, string, bool) {
			m, ok := find(p.stages, stageExportBytes)
			if !ok || math.IsNaN(m.rate()) {
				return 0, "", false
			}
			return m.rate(), fmt.Sprintf("%.0f", m.rate()), true
		},
		met: func(v float64) bool { return v >= 200 },
	},
	{
		// Export joins from disk within --memory-limit (1.5 GiB by
		// default), so its peak does not grow with the input: the figure
		// is the one measured, not a projection.
		name: "export: peak RSS, GB (target 4: <= 2 at 50M events; bounded by --memory-limit, not the input)", want: "<= 2",
		value: func(p point) (float64, string, bool) {
			m, ok := find(p.stages, stageExport)
			if !ok || !m.ok() || m.RSSKB <= 0 || m.Items <= 0 {
				return 0, "", false
			}
			gb := float64(m.RSSKB) * 1024 / 1e9
			return gb, fmt.Sprintf("%.2f at %s events", gb, thousands(float64(m.Items))), true
		},
		met: func(v float64) bool { return v <= 2 },
	},
	{
		name: "score: featurize + predict plan, sends/s (target 5)", want: ">= 400,000",
		value: func(p point) (float64, string, bool) {
			m, ok := find(p.stages, stagePlanScored)
			if !ok || math.IsNaN(m.rate()) {
				return 0, "", false
			}
			return m.rate(), thousands(m.rate()), true
		},
		met: func(v float64) bool { return v >= 400_000 },
	},
	{
		name: "score: whole run with a warm state cache, sends/s (target 5)", want: ">= 1,000,000",
		value: func(p point) (float64, string, bool) {
			for _, m := range p.stages {
				if strings.Contains(m.Stage, warmCacheMarker) && !math.IsNaN(m.rate()) {
					return m.rate(), thousands(m.rate()), true
				}
			}
			return 0, "", false
		},
		met: func(v float64) bool { return v >= 1_000_000 },
	},
	{
		name: "export time / pandas read + join time, same NDJSON (peer)", want: "<= 1",
		value: func(p point) (float64, string, bool) { return ratio(p, []string{stageExport}, []string{stagePeerJoin}) },
		met:   func(v float64) bool { return v <= 1 },
	},
	{
		name: "whole path (export + train + score) / pandas + XGBoost whole path (peer; issue goal: several times faster)", want: "<= 0.33",
		value: func(p point) (float64, string, bool) {
			return ratio(p, []string{stageExport, stageTrain, wholeRunSuffix}, []string{stagePeerPath})
		},
		met: func(v float64) bool { return v <= 1.0/3 },
	},
}

// writeTargets writes the targets table: each target's figure at every
// scale point that measured it, and whether it is met.
func writeTargets(w io.Writer, pts []point) error {
	var b strings.Builder
	b.WriteString("### Targets (issue 15)\n\n| target | want |")
	for _, p := range pts {
		fmt.Fprintf(&b, " scale %s |", p.scale)
	}
	b.WriteString("\n|---|---:|" + strings.Repeat("---:|", len(pts)) + "\n")
	for _, t := range targets {
		fmt.Fprintf(&b, "| %s | %s |", t.name, t.want)
		for _, p := range pts {
			v, shown, ok := t.value(p)
			switch {
			case !ok:
				b.WriteString(" - |")
			case t.met(v):
				fmt.Fprintf(&b, " %s: met |", shown)
			default:
				fmt.Fprintf(&b, " %s: **not met** |", shown)
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
