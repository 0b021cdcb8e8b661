package training

import (
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Console is a writer (stderr) shared by log lines and one progress bar
// at a time: a log line first erases the bar's line, and the bar is drawn
// again below it, so the two never run into each other. Give the same
// Console to the logger's handler and to Config.Progress.
type Console struct {
	mu  sync.Mutex
	w   io.Writer
	bar *progressbar.ProgressBar
}

// NewConsole returns a Console writing to w.
func NewConsole(w io.Writer) *Console { return &Console{w: w} }

// Write writes a log line above the progress bar, if one is drawn.
func (c *Console) Write(p []byte) (int, error) {
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
// progress is off or c is nil; every method of *bar accepts nil).
func (c *Console) newBar(enabled bool, max int64, desc, unit string) *bar {
	if !enabled || c == nil {
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
	c  *Console
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
