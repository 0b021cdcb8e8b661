package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// readLines calls fn with each line of r (1-based number, content without
// the trailing "\n" or "\r\n"). The line is only valid during the call.
// Lines of any length are read whole. It returns the bytes read.
func readLines(ctx context.Context, r io.Reader, fn func(lineNo int, line []byte) error) (int64, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var long []byte
	var total int64
	for n := 1; ; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return total, err
			}
		}
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		total += int64(len(line))
		if len(line) > 0 {
			if n == 1 {
				line = bytes.TrimPrefix(line, utf8BOM) // files saved by some editors and tools
			}
			if ferr := fn(n, trimEOL(line)); ferr != nil {
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

// addNDJSON reads one NDJSON input of the given kind line by line: blank
// lines are counted and skipped, every other line is counted in lines and
// parsed; a malformed line becomes a reject, a good one is committed.
func (x *Exporter) addNDJSON(ctx context.Context, kind, name string, r io.Reader, lines *int64, parse func([]byte) *lineError, commit func()) error {
	if x.finished {
		return errFinished
	}
	n, err := readLines(ctx, r, func(lineNo int, line []byte) error {
		if blank(line) {
			x.sum.BlankLines++
			return nil
		}
		*lines++
		if le := parse(line); le != nil {
			return x.addReject(name, lineNo, le, line)
		}
		commit()
		return nil
	})
	x.sum.Bytes += n
	if err != nil {
		return fmt.Errorf("%s %s: %w", kind, name, err)
	}
	return nil
}
