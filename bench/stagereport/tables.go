package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/failcast/failcast/bench/internal/stats"
)

// measurement is one run of one stage at one scale point.
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
	Repeat  int     // 1, 2, ... for a repeated stage; 0 for a stage run once
	CPU     float64 // user + system CPU seconds of a whole command; NaN when not measured
}

const measurementFields = 13

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
			return nil, fmt.Errorf("%s line %d: %d tab-separated fields, want %d (scale events stage items unit seconds rate rss_kb load status note repeat cpu_s)",
				name, line, len(f), measurementFields)
		}
		m := measurement{Scale: f[0], Stage: f[2], Unit: f[4], Load: f[8], Status: f[9], Note: f[10], RSSKB: -1, Seconds: math.NaN(), CPU: math.NaN()}
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
		rep, err := parseCount(f[11])
		if err != nil || rep > 1000 {
			return nil, bad("repeat", fmt.Errorf("want 0 (run once) or a repeat number 1..1000, got %q", f[11]))
		}
		m.Repeat = int(rep)
		if f[12] != "" {
			if m.CPU, err = parseNonNegative(f[12]); err != nil {
				return nil, bad("cpu_s", err)
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

// ok reports whether the run finished with a time.
func (m measurement) ok() bool { return m.Status == "ok" && !math.IsNaN(m.Seconds) }

// rate returns the run's throughput, items per second, or NaN.
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

// summary is the median and range of a stage's figures over its runs.
type summary struct {
	median, min, max float64
	n                int // values summarised; 0: none
}

// summarize returns the median (the mean of the two middle values for an
// even count), minimum and maximum of the finite values of vs.
func summarize(vs []float64) summary {
	median, lo, hi, n := stats.Spread(vs)
	return summary{median: median, min: lo, max: hi, n: n}
}

// stage is one stage of a scale point with every run of it.
type stage struct {
	name string
	runs []measurement // in run order
}

// good returns the runs that finished.
func (s stage) good() []measurement {
	var out []measurement
	for _, m := range s.runs {
		if m.ok() {
			out = append(out, m)
		}
	}
	return out
}

// failures names every run that did not finish: "repeat 2 failed (exit 1)"
// (or the status alone for a stage run once).
func (s stage) failures() []string {
	var out []string
	for _, m := range s.runs {
		if m.ok() {
			continue
		}
		if m.Repeat > 0 {
			out = append(out, fmt.Sprintf("repeat %d %s", m.Repeat, m.Status))
		} else {
			out = append(out, m.Status)
		}
	}
	return out
}

func (s stage) seconds() summary {
	var vs []float64
	for _, m := range s.good() {
		vs = append(vs, m.Seconds)
	}
	return summarize(vs)
}

// cpu summarises the CPU seconds of the finished runs that measured them.
func (s stage) cpu() summary {
	var vs []float64
	for _, m := range s.good() {
		vs = append(vs, m.CPU)
	}
	return summarize(vs)
}

func (s stage) rates() summary {
	var vs []float64
	for _, m := range s.good() {
		vs = append(vs, m.rate())
	}
	return summarize(vs)
}

// maxRSSKB is the largest peak RSS of the finished runs, -1 when none
// was measured.
func (s stage) maxRSSKB() int64 {
	out := int64(-1)
	for _, m := range s.good() {
		out = max(out, m.RSSKB)
	}
	return out
}

// medianRun is the finished run whose seconds are closest to the median
// (the first such), whose note the tables show; ok is false when no run
// finished.
func (s stage) medianRun() (measurement, bool) {
	good := s.good()
	if len(good) == 0 {
		return measurement{}, false
	}
	med := s.seconds().median
	best := good[0]
	for _, m := range good[1:] {
		if math.Abs(m.Seconds-med) < math.Abs(best.Seconds-med) {
			best = m
		}
	}
	return best, true
}

// repeated reports whether the stage was run more than once.
func (s stage) repeated() bool { return len(s.runs) > 1 || len(s.runs) == 1 && s.runs[0].Repeat > 0 }

// point is one scale point's stages, in first-run order.
type point struct {
	scale  string
	events int64
	stages []stage
}

func (p point) find(name string) (stage, bool) {
	for _, s := range p.stages {
		if s.name == name {
			return s, true
		}
	}
	return stage{}, false
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
		p := &pts[i]
		p.events = max(p.events, m.Events)
		j := slices.IndexFunc(p.stages, func(s stage) bool { return s.name == m.Stage })
		if j < 0 {
			p.stages = append(p.stages, stage{name: m.Stage})
			j = len(p.stages) - 1
		}
		p.stages[j].runs = append(p.stages[j].runs, m)
	}
	return pts
}

// writeTables writes one table per scale point, the targets table, then
// the growth table.
func writeTables(w io.Writer, ms []measurement) error {
	var b strings.Builder
	pts := groupPoints(ms)
	for _, p := range pts {
		fmt.Fprintf(&b, "### Scale %s: %s history events\n\n", p.scale, thousands(float64(p.events)))
		b.WriteString("A repeated stage shows the median over its runs and the range (min-max); its note is the median run's. " +
			"CPU s: user + system seconds of a whole command (median), which other work on the machine distorts far less than wall time.\n\n")
		b.WriteString("| stage | rows | seconds | range s | rows/s | CPU s | runs | peak RSS MB | load 1 min | note |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, s := range p.stages {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.name, rowsOf(s), seconds(s.seconds()),
				secondsRange(s.seconds()), thousands(s.rates().median), seconds(s.cpu()), runsOf(s), rssMB(s.maxRSSKB()), loadsOf(s), noteOf(s))
		}
		b.WriteString("\n")
	}
	if err := writeTargets(&b, pts); err != nil {
		return err
	}
	// Growth: every stage (in first-seen order) across the points.
	var names []string
	seen := map[string]bool{}
	for _, m := range ms {
		if !seen[m.Stage] {
			seen[m.Stage] = true
			names = append(names, m.Stage)
		}
	}
	b.WriteString("### How cost grows with the history\n\n")
	b.WriteString("Seconds (median of the runs), seconds per million history events (flat = linear) and peak RSS at each scale point.\n\n| stage |")
	for _, p := range pts {
		ev := fmt.Sprintf("%.2fM ev", float64(p.events)/1e6)
		fmt.Fprintf(&b, " %s: s | s / 1M ev | RSS MB |", ev)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|---:|---:|", len(pts)) + "\n")
	for _, name := range names {
		fmt.Fprintf(&b, "| %s |", name)
		for _, p := range pts {
			s, ok := p.find(name)
			if !ok {
				b.WriteString(" - | - | - |")
				continue
			}
			sec := s.seconds()
			per := "-"
			if sec.n > 0 && p.events > 0 {
				per = fmt.Sprintf("%.2f", sec.median/(float64(p.events)/1e6))
			}
			fmt.Fprintf(&b, " %s | %s | %s |", seconds(sec), per, rssMB(s.maxRSSKB()))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func rowsOf(s stage) string {
	m, ok := s.medianRun()
	if !ok {
		m = s.runs[0]
	}
	if m.Items <= 0 {
		return "-"
	}
	return thousands(float64(m.Items)) + " " + m.Unit
}

// runsOf is the number of runs, "2 of 3" when some did not finish.
func runsOf(s stage) string {
	good := len(s.good())
	if good == len(s.runs) {
		return strconv.Itoa(good)
	}
	return fmt.Sprintf("%d of %d", good, len(s.runs))
}

// loadsOf is each run's 1-minute load at its start, "/"-separated.
func loadsOf(s stage) string {
	ls := make([]string, len(s.runs))
	for i, m := range s.runs {
		ls[i] = dash(m.Load)
	}
	return strings.Join(ls, "/")
}

// noteOf is the median run's note, after what went wrong in any run.
func noteOf(s stage) string {
	var parts []string
	for _, f := range s.failures() {
		parts = append(parts, f)
	}
	m, ok := s.medianRun()
	if !ok {
		m = s.runs[0]
	}
	if m.Note != "" {
		parts = append(parts, m.Note)
	}
	return strings.Join(parts, "; ")
}

func seconds(s summary) string {
	if s.n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", s.median)
}

func secondsRange(s summary) string {
	if s.n < 2 {
		return "-"
	}
	return fmt.Sprintf("%.2f-%.2f", s.min, s.max)
}

func rssMB(kb int64) string {
	if kb < 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(kb)/1024)
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
