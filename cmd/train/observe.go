package main

import (
	"io"
	"log/slog"
	"os"
	"sync"
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

// console is stderr shared by log lines and one progress bar at a time:
// a log line first erases the bar's line, and the bar is drawn again
// below it, so the two never run into each other.
type console struct {
	mu  sync.Mutex
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bar == nil {
		return c.w.Write(p)
	}
	io.WriteString(c.w, "\r\033[2K")
	n, err := c.w.Write(p)
	io.WriteString(c.w, c.bar.String())
	return n, err
}

// newBar starts a progress bar of max steps on the console (nil when
// progress is off; every method of *bar accepts nil).
func (c *console) newBar(enabled bool, max int64, desc, unit string) *bar {
	if !enabled {
		return nil
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(c.w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionUseANSICodes(true),
	}
	if unit != "" {
		opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit), progressbar.OptionSetPredictTime(true))
	}
	b := &bar{c: c, pb: progressbar.NewOptions64(max, opts...)}
	c.mu.Lock()
	c.bar = b.pb
	c.mu.Unlock()
	b.pb.RenderBlank()
	return b
}

// bar is a progress bar drawn on a console.
type bar struct {
	c  *console
	pb *progressbar.ProgressBar
}

// add advances the bar by n.
func (b *bar) add(n int) {
	if b != nil {
		b.pb.Add(n)
	}
}

// step advances the bar past the previous stage and names the next one.
func (b *bar) step(desc string) {
	if b != nil {
		b.pb.Describe(desc)
		b.pb.Add(1)
	}
}

// finish removes the bar.
func (b *bar) finish() {
	if b == nil {
		return
	}
	b.c.mu.Lock()
	if b.c.bar == b.pb {
		b.c.bar = nil
	}
	b.c.mu.Unlock()
	b.pb.Finish()
	b.pb.Exit()
}
