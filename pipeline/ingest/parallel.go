package ingest

import (
	"context"
	"runtime"
	"slices"
	"sync"
)

// NDJSON inputs are parsed in parallel: one goroutine cuts the input into
// chunks of lines, parseWorkers goroutines parse the lines of a chunk each
// (into copies of what the line gives, independent of the parser's
// buffers), and the caller's goroutine commits the chunks in input order:
// interning, joining, rejects and counts happen in one place, in the order
// of the lines, so the result is the same as reading line by line.

// chunkBytes and chunkLines bound one chunk of lines (variables for the
// tests, which cut inputs into chunks of a line or two).
var (
	chunkBytes = 1 << 20
	chunkLines = 4096
)

// lineResult is one physical line of a chunk, parsed.
type lineResult struct {
	no      int
	text    []byte // the line (an over-long line: its start), in the chunk's buffer
	size    int64
	tooLong bool
	blank   bool
	le      *lineError // the parse's reject
	object  bool       // the line parsed as a JSON object (send logs: its keys are checked)

	send pendingSend // send logs

	// webhooks: the line's pending events and what it did not understand
	pending []pendingEvent
	skipped int64
	fields  []string
	values  []string
	display [][2][]byte
}

// lineChunk is a run of consecutive lines of one input.
type lineChunk struct {
	buf   []byte
	lines []lineResult
	arena []byte // copies of parsed values
	// the lines' pending events and display numbers (webhooks)
	events  []pendingEvent
	display [][2][]byte
	done    chan struct{}
}

// reset empties c for reuse; what it held must no longer be referenced.
func (c *lineChunk) reset() {
	c.buf, c.lines, c.arena = c.buf[:0], c.lines[:0], c.arena[:0]
	clear(c.events)
	c.events, c.display = c.events[:0], c.display[:0]
	c.done = make(chan struct{})
}

// parseWorkers is how many goroutines parse lines.
func parseWorkers() int { return max(1, runtime.GOMAXPROCS(0)) }

// worker returns an Exporter for parsing lines on another goroutine: it
// shares the read-only configuration of x and has its own parser and
// scratch space. It must only parse (parseSendLogLine, parseWebhookLine).
func (x *Exporter) worker() *Exporter {
	return &Exporter{
		opts: x.opts, hasher: x.hasher, keys: x.keys, pathTree: x.pathTree, paths: x.paths, mapped: x.mapped,
		strs:       interner{s: slices.Clone(x.strs.s)}, // the contract's categories and types, read by index
		categories: x.categories, msgTypes: x.msgTypes, statusByte: x.statusByte,
	}
}

// own copies b into the chunk's arena. Earlier copies stay valid when the
// arena grows (they keep the old array).
func (c *lineChunk) own(b []byte) []byte {
	if len(b) == 0 {
		return b[:0:0]
	}
	start := len(c.arena)
	c.arena = append(c.arena, b...)
	return c.arena[start:len(c.arena):len(c.arena)]
}

// parseChunk parses every line of c with w (a worker Exporter).
func parseChunk(w *Exporter, c *lineChunk, webhooks bool) {
	if cap(c.arena) == 0 {
		c.arena = make([]byte, 0, len(c.buf)/2+64)
	}
	for i := range c.lines {
		l := &c.lines[i]
		if l.tooLong || l.blank {
			continue
		}
		w.lineObject = false
		if !webhooks {
			if l.le = w.parseSendLogLine(l.text); l.le == nil {
				s := w.send
				for _, b := range []*[]byte{&s.requestID, &s.msgID, &s.waba, &s.phone, &s.recip, &s.camp, &s.template, &s.language, &s.title, &s.detail, &s.country} {
					*b = c.own(*b)
				}
				l.send = s
			}
			l.object = w.lineObject
			continue
		}
		if l.le = w.parseWebhookLine(l.text); l.le != nil {
			continue
		}
		l.skipped = w.skipped
		l.fields, l.values = slices.Clone(w.pendingFields), slices.Clone(w.pendingValues)
		if len(w.pendingDisplay) > 0 {
			lo := len(c.display)
			for _, d := range w.pendingDisplay {
				c.display = append(c.display, [2][]byte{c.own(d[0]), c.own(d[1])})
			}
			l.display = c.display[lo:len(c.display):len(c.display)]
		}
		if len(w.pending) > 0 {
			lo := len(c.events)
			for j := range w.pending {
				p := w.pending[j]
				for _, b := range []*[]byte{&p.msgID, &p.recip, &p.waba, &p.phone, &p.camp, &p.title, &p.detail,
					&p.account.template, &p.account.language, &p.account.value, &p.account.display} {
					*b = c.own(*b)
				}
				c.events = append(c.events, p)
			}
			l.pending = c.events[lo:len(c.events):len(c.events)]
		}
	}
	close(c.done)
}

// readChunks reads r's lines into chunks, hands each to the workers (work)
// and, in input order, to the committer (ordered). It closes ordered when
// the input ends and returns the bytes read.
func readChunks(ctx context.Context, lr func(fn func(physLine) error) (int64, error), work, ordered chan<- *lineChunk, free <-chan *lineChunk) (int64, error) {
	defer close(ordered)
	var c *lineChunk
	send := func() error {
		if c == nil {
			return nil
		}
		select {
		case ordered <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case work <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
		c = nil
		return nil
	}
	n, err := lr(func(l physLine) error {
		if c == nil {
			select {
			case c = <-free:
				c.reset()
			default:
			}
		}
		if c == nil {
			c = &lineChunk{buf: make([]byte, 0, chunkBytes+4096), lines: make([]lineResult, 0, 256), done: make(chan struct{})}
		}
		start := len(c.buf)
		c.buf = append(c.buf, l.text...)
		text := c.buf[start:len(c.buf):len(c.buf)]
		c.lines = append(c.lines, lineResult{no: l.no, text: text, size: l.size, tooLong: l.tooLong, blank: !l.tooLong && blank(l.text)})
		if len(c.buf) >= chunkBytes || len(c.lines) >= chunkLines {
			return send()
		}
		return nil
	})
	if err == nil {
		err = send()
	}
	return n, err
}

// parseParallel reads r, parses its lines on parseWorkers goroutines and
// calls commit for each chunk in input order on the caller's goroutine.
// It stops at the first error of commit, and returns the bytes read and
// the first error of reading or committing.
func (x *Exporter) parseParallel(ctx context.Context, r func(fn func(physLine) error) (int64, error), webhooks bool, commit func(*lineChunk) error) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nw := parseWorkers()
	work := make(chan *lineChunk, nw)
	ordered := make(chan *lineChunk, 2*nw+2)
	free := make(chan *lineChunk, 3*nw+4) // committed chunks, for reuse
	var wg sync.WaitGroup
	for range nw {
		wg.Add(1)
		w := x.worker() // here: x is not read on other goroutines
		go func() {
			defer wg.Done()
			for c := range work {
				parseChunk(w, c, webhooks)
			}
		}()
	}
	var n int64
	var readErr error
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		n, readErr = readChunks(ctx, r, work, ordered, free)
		close(work)
	}()
	var commitErr error
	for c := range ordered {
		if commitErr != nil {
			continue // drain, so the reader ends
		}
		select {
		case <-c.done:
		case <-ctx.Done():
		}
		if err := ctx.Err(); err != nil {
			commitErr = err
			cancel()
			continue
		}
		if err := commit(c); err != nil {
			commitErr = err
			cancel()
			continue
		}
		select {
		case free <- c:
		default:
		}
	}
	<-readDone
	wg.Wait()
	if commitErr != nil {
		return n, commitErr
	}
	return n, readErr
}
