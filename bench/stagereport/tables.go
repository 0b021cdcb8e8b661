package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// measurement is one stage at one scale point.
type measurement struct {
	Scale   string
	Events  int64 // history events of the scale point
	Stage   string
	Items   int64   // rows the stage processed
	Unit    string  // what Items counts: events, sends, rows
	Seconds float64 // NaN when the stage did not finish
	Rate    float64 // items per second; 0 means Items / Seconds
	RSSKB   int64   // peak resident set, KiB; -1 when not measured
	Load    string  // 1-minute load average when the stage started
	Status  string  // "ok", or what went wrong
	Note    string
}

const measurementFields = 11

// parseMeasurements reads the tab-separated measurements of bench/run.
func parseMeasurements(r io.Reader, name string) ([]measurement, error) {
	var out []measurement
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != measurementFields {
			return nil, fmt.Errorf("%s line %d: %d tab-separated fields, want %d (scale events stage items unit seconds rate rss_kb load status note)",
				name, line, len(f), measurementFields)
		}
		m := measurement{Scale: f[0], Stage: f[2], Unit: f[4], Load: f[8], Status: f[9], Note: f[10], RSSKB: -1, Seconds: math.NaN()}
		bad := func(col string, err error) error {
			return fmt.Errorf("%s line %d column %s: %w", name, line, col, err)
		}
		var err error
		if m.Events, err = parseCount(f[1]); err != nil {
			return nil, bad("events", err)
		}
		if m.Items, err = parseCount(f[3]); err != nil {
			return nil, bad("items", err)
		}
		if f[5] != "" {
			if m.Seconds, err = parseNonNegative(f[5]); err != nil {
				return nil, bad("seconds", err)
			}
		}
		if f[6] != "" {
			if m.Rate, err = parseNonNegative(f[6]); err != nil {
				return nil, bad("rate", err)
			}
		}
		if f[7] != "" {
			if m.RSSKB, err = parseCount(f[7]); err != nil {
				return nil, bad("rss_kb", err)
			}
		}
		if m.Stage == "" || m.Status == "" {
			return nil, fmt.Errorf("%s line %d: empty stage or status", name, line)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

func parseCount(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("want a count >= 0, got %q", s)
	}
	return v, nil
}

func parseNonNegative(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("want a number >= 0, got %q", s)
	}
	return v, nil
}

// ok reports whether the stage finished with a time.
func (m measurement) ok() bool { return m.Status == "ok" && !math.IsNaN(m.Seconds) }

// rate returns the stage's throughput, items per second, or NaN.
func (m measurement) rate() float64 {
	switch {
	case !m.ok():
		return math.NaN()
	case m.Rate > 0:
		return m.Rate
	case m.Seconds > 0 && m.Items > 0:
		return float64(m.Items) / m.Seconds
	}
	return math.NaN()
}

// point is one scale point's measurements, in run order.
type point struct {
	scale  string
	events int64
	stages []measurement
}

func groupPoints(ms []measurement) []point {
	var pts []point
	idx := map[string]int{}
	for _, m := range ms {
		i, ok := idx[m.Scale]
		if !ok {
			i = len(pts)
			idx[m.Scale] = i
			pts = append(pts, point{scale: m.Scale})
		}
		pts[i].events = max(pts[i].events, m.Events)
		pts[i].stages = append(pts[i].stages, m)
	}
	return pts
}

// writeTables writes one table per scale point, then the growth table.
func writeTables(w io.Writer, ms []measurement) error {
	var b strings.Builder
	pts := groupPoints(ms)
	for _, p := range pts {
		fmt.Fprintf(&b, "### Scale %s: %s history events\n\n", p.scale, thousands(float64(p.events)))
		b.WriteString("| stage | rows | seconds | rows/s | peak RSS MB | load 1 min | note |\n|---|---:|---:|---:|---:|---:|---|\n")
		for _, m := range p.stages {
			note := m.Note
			if m.Status != "ok" {
				note = strings.TrimSuffix(m.Status+"; "+m.Note, "; ")
			}
			rows := "-"
			if m.Items > 0 {
				rows = thousands(float64(m.Items)) + " " + m.Unit
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", m.Stage, rows, seconds(m), thousands(m.rate()), rssMB(m), dash(m.Load), note)
		}
		b.WriteString("\n")
	}
	// Growth: every stage (in first-seen order) across the points.
	var stages []string
	seen := map[string]bool{}
	for _, m := range ms {
		if !seen[m.Stage] {
			seen[m.Stage] = true
			stages = append(stages, m.Stage)
		}
	}
	if err := writeTargets(&b, pts); err != nil {
		return err
	}
	b.WriteString("### How cost grows with the history\n\n")
	b.WriteString("Seconds, seconds per million history events (flat = linear) and peak RSS at each scale point.\n\n| stage |")
	for _, p := range pts {
		ev := fmt.Sprintf("%.2fM ev", float64(p.events)/1e6)
		fmt.Fprintf(&b, " %s: s | s / 1M ev | RSS MB |", ev)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|---:|---:|", len(pts)) + "\n")
	for _, st := range stages {
		fmt.Fprintf(&b, "| %s |", st)
		for _, p := range pts {
			m, ok := find(p.stages, st)
			if !ok {
				b.WriteString(" - | - | - |")
				continue
			}
			per := "-"
			if m.ok() && p.events > 0 {
				per = fmt.Sprintf("%.2f", m.Seconds/(float64(p.events)/1e6))
			}
			fmt.Fprintf(&b, " %s | %s | %s |", seconds(m), per, rssMB(m))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func find(ms []measurement, stage string) (measurement, bool) {
	for _, m := range ms {
		if m.Stage == stage {
			return m, true
		}
	}
	return measurement{}, false
}

func seconds(m measurement) string {
	if !m.ok() {
		return "-"
	}
	return fmt.Sprintf("%.2f", m.Seconds)
}

func rssMB(m measurement) string {
	if m.RSSKB < 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(m.RSSKB)/1024)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// thousands formats a count or rate rounded to an integer with thousands
// separators; NaN and infinities are "-".
func thousands(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	s := strconv.FormatFloat(math.Abs(math.Round(v)), 'f', 0, 64)
	var b strings.Builder
	if v <= -0.5 {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
