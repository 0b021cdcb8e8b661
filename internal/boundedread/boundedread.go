package boundedread

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ErrNotRegular is matched by the error for a path that is not a regular
// file (after following symlinks).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is matched by the error for a file over its cap.
var ErrTooLarge = errors.New("file too large")

// Open opens path for reading if it is a regular file of at most max
// bytes. The file is opened without blocking (a FIFO cannot hang the
// open), then checked; the returned reader stops with ErrTooLarge if the
// file grows past max while read.
func Open(path string, max int64) (io.ReadCloser, int64, error) {
	f, st, err := OpenRegular(path)
	if err != nil {
		return nil, 0, err
	}
	if st.Size() > max {
		f.Close()
		return nil, 0, fmt.Errorf("%s: %w: %d bytes, the limit is %d", path, ErrTooLarge, st.Size(), max)
	}
	return &capped{f: f, left: max, path: path, max: max}, st.Size(), nil
}

// OpenRegular opens path for reading if it is a regular file, whatever
// its size (for inputs read in full, such as plans, or by offset, such as
// Parquet files). The open does not block: a FIFO, device or directory is
// refused with ErrNotRegular naming what it is, before anything is read.
func OpenRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w (it is a %s)", path, ErrNotRegular, kind(st.Mode()))
	}
	return f, st, nil
}

// ReadFile returns the content of path if it is a regular file of at
// most max bytes.
func ReadFile(path string, max int64) ([]byte, error) {
	rc, size, err := Open(path, max)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	buf := make([]byte, 0, size+1)
	for {
		n, err := rc.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// Limit wraps r so that reading more than max bytes fails with
// ErrTooLarge (for readers that are not files); name is used in the error.
func Limit(r io.Reader, max int64, name string) io.Reader {
	return &capped{r: r, left: max, path: name, max: max}
}

type capped struct {
	f    *os.File
	r    io.Reader
	left int64 // bytes that may still be read
	path string
	max  int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// Probe one byte: exactly max bytes is fine.
		var b [1]byte
		n, err := c.src().Read(b[:])
		if n > 0 {
			return 0, fmt.Errorf("%s: %w: more than %d bytes", c.path, ErrTooLarge, c.max)
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.src().Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *capped) src() io.Reader {
	if c.f != nil {
		return c.f
	}
	return c.r
}

func (c *capped) Close() error {
	if c.f != nil {
		return c.f.Close()
	}
	return nil
}

func kind(m os.FileMode) string {
	switch {
	case m&os.ModeDir != 0:
		return "directory"
	case m&os.ModeNamedPipe != 0:
		return "FIFO"
	case m&os.ModeCharDevice != 0:
		return "character device"
	case m&os.ModeDevice != 0:
		return "device"
	case m&os.ModeSocket != 0:
		return "socket"
	}
	return m.Type().String()
}
