package main

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// newLogger returns the run's logger: text or JSON lines on w.
func newLogger(format string, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// progressEnabled decides whether to draw progress bars: "auto" draws them
// only when stderr is a terminal, so logs of scheduled runs stay clean.
func progressEnabled(mode string, stderr io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	f, ok := stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// stageBar is a progress bar over a run's stages, or nothing when
// progress is off.
type stageBar struct {
	bar *progressbar.ProgressBar
}

func newStageBar(enabled bool, w io.Writer, steps int, desc string) *stageBar {
	if !enabled {
		return &stageBar{}
	}
	return &stageBar{bar: progressbar.NewOptions(steps,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)}
}

// step describes the stage now running and advances the bar past the
// previous one.
func (s *stageBar) step(desc string) {
	if s.bar == nil {
		return
	}
	s.bar.Describe(desc)
	s.bar.Add(1)
}

func (s *stageBar) describe(desc string) {
	if s.bar != nil {
		s.bar.Describe(desc)
	}
}

func (s *stageBar) finish() {
	if s.bar != nil {
		s.bar.Finish()
		s.bar.Exit()
	}
}

// countBar is a progress bar over a count (such as history rows), or
// nothing when progress is off.
type countBar struct {
	bar *progressbar.ProgressBar
}

func newCountBar(enabled bool, w io.Writer, max int64, desc string) *countBar {
	if !enabled {
		return &countBar{}
	}
	return &countBar{bar: progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)}
}

func (c *countBar) add(n int) {
	if c.bar != nil {
		c.bar.Add(n)
	}
}

func (c *countBar) finish() {
	if c.bar != nil {
		c.bar.Finish()
		c.bar.Exit()
	}
}
