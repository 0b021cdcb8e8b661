package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLineBytes is the longest input line (NDJSON line, CSV record)
// read when Options.MaxLineBytes is zero: 4 MiB, far above a webhook body
// Meta sends (a few KB, a few hundred KB for the largest batches). A longer
// line is rejected (KindTooLong) without being held in memory.
const DefaultMaxLineBytes = 4 << 20

// rawPrefixBytes is how much of an over-long line the reject keeps.
const rawPrefixBytes = 1 << 10

// physLine is one physical input line.
type physLine struct {
	no      int    // 1-based line number
	text    []byte // without the line break; for an over-long line its first rawPrefixBytes
	tooLong bool   // longer than the cap: text is a prefix
	size    int64  // the line's length in bytes, line break excluded
}

// readLines calls fn with each line of r. The text is only valid during
// the call. A line longer than maxLine bytes is streamed past and handed
// to fn with tooLong set and only its start. It returns the bytes read.
func readLines(ctx context.Context, r io.Reader, maxLine int, fn func(l physLine) error) (int64, error) {
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	br := bufio.NewReaderSize(r, min(1<<20, maxLine+2))
	var long []byte
	var total int64
	for n := 1; ; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return total, err
			}
		}
		line, err := br.ReadSlice('\n')
		size := int64(len(line))
		tooLong := false
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				size += int64(len(line))
				if !tooLong {
					long = append(long, line...)
					if len(long) > maxLine+2 { // +2: the line break
						tooLong = true
						long = long[:rawPrefixBytes]
					}
				}
			}
			line = long
		}
		total += size
		if size > 0 {
			if n == 1 {
				line = bytes.TrimPrefix(line, utf8BOM) // files saved by some editors and tools
			}
			l := physLine{no: n, text: trimEOL(line), tooLong: tooLong}
			l.size = size - int64(len(line)-len(l.text))
			if tooLong {
				l.size = size - 1 // the line break, if any, is not counted exactly
			} else if int64(len(l.text)) > int64(maxLine) {
				l.tooLong, l.text = true, l.text[:rawPrefixBytes]
			}
			if ferr := fn(l); ferr != nil {
				return total, ferr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("line %d: %w", n, err)
		}
	}
}

var utf8BOM = []byte("\ufeff")

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// blank reports whether a line holds only white space.
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// tooLongReject is the reject of an over-long line.
func (x *Exporter) tooLongReject(l physLine) *lineError {
	return reject(KindTooLong, "line of %d bytes is longer than the limit of %d (raise it with --max-line-bytes); raw holds its first %d bytes",
		l.size, x.maxLine(), len(l.text))
}

func (x *Exporter) maxLine() int {
	if x.opts.MaxLineBytes > 0 {
		return x.opts.MaxLineBytes
	}
	return DefaultMaxLineBytes
}

// addNDJSON reads one NDJSON input of the given kind line by line: blank
// lines are counted and skipped, every other line is counted in lines and
// parsed; a malformed line becomes a reject, a good one is committed
// (commit may still reject it, for a conflict with an earlier line).
// Lines are parsed in parallel (parseParallel) and committed in input
// order, so the outcome is that of reading them one by one. use moves a
// parsed line's values into x for commit.
func (x *Exporter) addNDJSON(ctx context.Context, kind, name string, r io.Reader, lines *int64, webhooks bool, use func(*lineResult), commit func(name string, lineNo int) *lineError) error {
	if x.finished {
		return errFinished
	}
	first := true
	x.source = name
	read := func(fn func(physLine) error) (int64, error) { return readLines(ctx, r, x.maxLine(), fn) }
	n, err := x.parseParallel(ctx, read, webhooks, func(c *lineChunk) error {
		for i := range c.lines {
			l := &c.lines[i]
			if l.tooLong {
				*lines++
				first = false
				if err := x.addReject(name, l.no, 1, x.tooLongReject(physLine{no: l.no, text: l.text, tooLong: true, size: l.size}), l.text); err != nil {
					return err
				}
				continue
			}
			if l.blank {
				x.sum.BlankLines++
				continue
			}
			if first {
				first = false
				if t := bytes.TrimLeft(l.text, " \t"); len(t) > 0 && t[0] == '[' && (len(t) == 1 || !bytes.HasSuffix(bytes.TrimRight(t, " \t"), []byte("]"))) {
					return &jsonArrayError{name: name}
				}
			}
			*lines++
			if l.object && !webhooks && *lines <= keyCheckLines {
				if v, err := x.parser.ParseBytes(l.text); err == nil {
					x.checkTopLevelKeys(v)
				}
			}
			if l.le != nil {
				if err := x.addReject(name, l.no, 1, l.le, l.text); err != nil {
					return err
				}
				continue
			}
			use(l)
			x.raw, x.rawLines = l.text, 1
			if le := commit(name, l.no); le != nil {
				if err := x.addReject(name, l.no, 1, le, l.text); err != nil {
					return err
				}
			}
		}
		return x.spillErr()
	})
	x.sum.Bytes += n
	if err != nil {
		var ae *jsonArrayError
		if errors.As(err, &ae) {
			return err
		}
		return fmt.Errorf("%s %s: %w", kind, name, err)
	}
	return nil
}

// jsonArrayError is an input that is one JSON array spread over lines
// (pretty-printed JSON) instead of NDJSON: every line would be a reject.
type jsonArrayError struct{ name string }

func (e *jsonArrayError) Error() string {
	return fmt.Sprintf("%s is a JSON array written over many lines, not NDJSON (one JSON object per line); convert it first, e.g. jq -c '.[]' %s > %s.ndjson",
		e.name, e.name, e.name)
}

// IsInputError reports whether err is a problem of an input file as a
// whole (wrong format, missing columns), as opposed to a failed read.
func IsInputError(err error) bool {
	var ae *jsonArrayError
	var ce *ColumnsError
	return errors.As(err, &ae) || errors.As(err, &ce)
}
