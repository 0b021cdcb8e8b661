package collect

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrClosed is returned by appends after the store was closed.
var ErrClosed = errors.New("collect: receiver is shutting down")

// File names: webhooks-<UTC hour>-<sequence>.ndjson, gzipped to .ndjson.gz
// once closed (through a .ndjson.gz.tmp file).
const (
	filePrefix = "webhooks-"
	plainExt   = ".ndjson"
	gzipExt    = ".ndjson.gz"
	tmpExt     = ".tmp"
	hourLayout = "20060102T15"
)

var fileNameRE = regexp.MustCompile(`^webhooks-(\d{8}T\d{2})-(\d+)\.ndjson(\.gz)?$`)

// Batches are capped so one slow fsync does not grow a batch without bound.
const (
	maxBatchLines = 4096
	maxBatchBytes = 16 << 20
	queueLen      = 4096
)

type appendReq struct {
	line []byte // one JSON object, no line break
	done chan error
}

// store appends lines to rotating files from one writer goroutine. Lines
// queued while a write and fsync are in progress form the next batch
// (group commit).
type store struct {
	dir      string
	maxBytes int64
	fsync    bool
	compress bool
	logger   *slog.Logger
	m        *metrics
	now      func() time.Time

	mu     sync.RWMutex // guards closed against sends on reqs
	closed bool
	reqs   chan *appendReq
	done   chan struct{} // closed when the writer goroutine has finished

	// owned by the writer goroutine
	f    *os.File
	name string
	hour time.Time
	size int64
	seq  int
	buf  []byte

	compressWG  sync.WaitGroup
	compressSem chan struct{}
}

// openStore recovers dir (see recover) and starts the writer goroutine.
func openStore(dir string, maxBytes int64, fsync, compress bool, logger *slog.Logger, m *metrics, now func() time.Time) (*store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("collect: output directory: %w", err)
	}
	s := &store{
		dir: dir, maxBytes: maxBytes, fsync: fsync, compress: compress, logger: logger, m: m, now: now,
		reqs: make(chan *appendReq, queueLen), done: make(chan struct{}), compressSem: make(chan struct{}, 1),
	}
	toCompress, err := s.recover()
	if err != nil {
		return nil, err
	}
	for _, name := range toCompress {
		s.compressLater(name)
	}
	go s.run()
	return s, nil
}

// recover prepares dir after any earlier run, clean or killed:
//   - leftover .tmp files (a gzip that never finished) are removed;
//   - a plain file whose .gz exists was already compressed (the process
//     died between the rename and the removal): the plain copy is removed;
//   - any other plain file is kept, minus a torn final line (bytes after
//     the last '\n': a write cut short, which never got a 200), and is
//     queued for compression; empty ones are removed;
//   - new files get a sequence number above every existing one.
func (s *store) recover() (toCompress []string, err error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("collect: output directory: %w", err)
	}
	present := map[string]bool{}
	for _, e := range entries {
		present[e.Name()] = true
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		if strings.HasPrefix(name, filePrefix) && strings.HasSuffix(name, tmpExt) || strings.HasPrefix(name, ".healthz-") {
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
				return nil, fmt.Errorf("collect: remove leftover %s: %w", name, err)
			}
			s.logger.Info("removed leftover temporary file", "file", name)
			continue
		}
		m := fileNameRE.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		if seq, err := strconv.Atoi(m[2]); err == nil && seq > s.seq {
			s.seq = seq
		}
		if m[3] != "" { // .gz: complete, it was renamed into place after fsync
			continue
		}
		path := filepath.Join(s.dir, name)
		if present[name+".gz"] {
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("collect: remove %s (already compressed): %w", name, err)
			}
			s.logger.Info("removed plain file already compressed", "file", name)
			continue
		}
		size, dropped, err := truncateTornLine(path)
		if err != nil {
			return nil, fmt.Errorf("collect: recover %s: %w", name, err)
		}
		if dropped > 0 {
			s.logger.Warn("truncated a torn last line (a write cut short, never acknowledged)", "file", name, "bytes_dropped", dropped)
		}
		if size == 0 {
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("collect: remove empty %s: %w", name, err)
			}
			continue
		}
		s.logger.Info("recovered file from an earlier run", "file", name, "bytes", size)
		if s.compress {
			toCompress = append(toCompress, name)
		}
	}
	return toCompress, syncDir(s.dir)
}

// truncateTornLine cuts path after its last '\n' and fsyncs it. It returns
// the size left and the bytes cut.
func truncateTornLine(path string) (size, dropped int64, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	end := st.Size()
	keep := int64(0)
	chunk := make([]byte, 64<<10)
	for off := end; off > 0; {
		n := min(int64(len(chunk)), off)
		off -= n
		if _, err := f.ReadAt(chunk[:n], off); err != nil {
			return 0, 0, err
		}
		if i := bytes.LastIndexByte(chunk[:n], '\n'); i >= 0 {
			keep = off + int64(i) + 1
			break
		}
	}
	if keep == end {
		return end, 0, nil
	}
	if err := f.Truncate(keep); err != nil {
		return 0, 0, err
	}
	return keep, end - keep, f.Sync()
}

// append queues line and waits until it is written (and fsynced under
// FsyncGroup).
func (s *store) append(line []byte) error {
	req := &appendReq{line: line, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	s.reqs <- req
	s.mu.RUnlock()
	return <-req.done
}

// close stops taking lines, writes those queued, closes the current file
// and waits for every compression to finish.
func (s *store) close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.done
		return nil
	}
	s.closed = true
	close(s.reqs)
	s.mu.Unlock()
	<-s.done
	err := s.closeFile()
	s.compressWG.Wait()
	return err
}

// run is the writer goroutine.
func (s *store) run() {
	defer close(s.done)
	batch := make([]*appendReq, 0, 64)
	hourTimer := time.NewTimer(untilNextHour(s.now()))
	defer hourTimer.Stop()
	for {
		select {
		case req, ok := <-s.reqs:
			if !ok {
				return
			}
			batch = append(batch[:0], req)
			bytes := len(req.line)
			open := true
		drain:
			for len(batch) < maxBatchLines && bytes < maxBatchBytes {
				select {
				case r, ok := <-s.reqs:
					if !ok {
						open = false
						break drain
					}
					batch = append(batch, r)
					bytes += len(r.line)
				default:
					break drain
				}
			}
			err := s.write(batch)
			for _, r := range batch {
				r.done <- err
			}
			clear(batch)
			if !open {
				return
			}
		case <-hourTimer.C:
			// Close the last hour's file even when no request comes.
			if s.f != nil && !hourOf(s.now()).Equal(s.hour) {
				if err := s.closeFile(); err != nil {
					s.logger.Error("closing the last hour's file", "file", s.name, "err", err)
				}
			}
			hourTimer.Reset(untilNextHour(s.now()))
		}
	}
}

func hourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

func untilNextHour(t time.Time) time.Duration {
	return hourOf(t).Add(time.Hour).Sub(t) + 10*time.Millisecond
}

// write appends one batch as one write, then fsyncs under FsyncGroup. On a
// failed write the file is cut back to its size before the batch; on a
// failed fsync (whose pages may be lost) the file is closed and the next
// batch starts a new one.
func (s *store) write(batch []*appendReq) error {
	s.buf = s.buf[:0]
	for _, r := range batch {
		s.buf = append(s.buf, r.line...)
		s.buf = append(s.buf, '\n')
	}
	hour := hourOf(s.now())
	if s.f != nil && (!hour.Equal(s.hour) || s.size > 0 && s.size+int64(len(s.buf)) > s.maxBytes) {
		if err := s.closeFile(); err != nil {
			s.logger.Error("closing a full file", "file", s.name, "err", err)
		}
	}
	if s.f == nil {
		if err := s.openFile(hour); err != nil {
			s.m.writeErrors.Inc()
			return err
		}
	}
	start := time.Now()
	n, err := s.f.Write(s.buf)
	if err != nil {
		s.m.writeErrors.Inc()
		if terr := s.f.Truncate(s.size); terr != nil {
			s.logger.Error("cannot cut back a failed write; starting a new file", "file", s.name, "err", terr)
			s.abandonFile()
		}
		return fmt.Errorf("collect: write %s: %w", s.name, err)
	}
	if s.fsync {
		fsStart := time.Now()
		if err := s.f.Sync(); err != nil {
			s.m.writeErrors.Inc()
			s.logger.Error("fsync failed; starting a new file", "file", s.name, "err", err)
			s.size += int64(n)
			s.abandonFile()
			return fmt.Errorf("collect: fsync %s: %w", s.name, err)
		}
		s.m.fsyncSeconds.Observe(time.Since(fsStart).Seconds())
	}
	s.m.batchSeconds.Observe(time.Since(start).Seconds())
	s.m.batchLines.Observe(float64(len(batch)))
	s.size += int64(n)
	s.m.bytesWritten.Add(float64(n))
	s.m.linesWritten.Add(float64(len(batch)))
	s.m.fileBytes.Set(float64(s.size))
	return nil
}

// openFile starts a new file for hour and makes its name durable.
func (s *store) openFile(hour time.Time) error {
	s.seq++
	name := fmt.Sprintf("%s%s-%06d%s", filePrefix, hour.Format(hourLayout), s.seq, plainExt)
	f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("collect: new file: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return fmt.Errorf("collect: new file %s: %w", name, err)
	}
	s.f, s.name, s.hour, s.size = f, name, hour, 0
	s.m.fileBytes.Set(0)
	s.m.filesOpened.Inc()
	s.logger.Info("writing new file", "file", name)
	return nil
}

// closeFile syncs and closes the current file and queues its compression.
func (s *store) closeFile() error {
	if s.f == nil {
		return nil
	}
	f, name, size := s.f, s.name, s.size
	s.f = nil
	s.m.fileBytes.Set(0)
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("collect: close %s: %w", name, err)
	}
	if size == 0 {
		return os.Remove(filepath.Join(s.dir, name))
	}
	if s.compress {
		s.compressLater(name)
	}
	return nil
}

// abandonFile closes the current file without trusting its state: it is
// left for the next start's recovery, not compressed.
func (s *store) abandonFile() {
	s.f.Close()
	s.f = nil
	s.m.fileBytes.Set(0)
}

// compressLater gzips a closed file in the background, one at a time.
func (s *store) compressLater(name string) {
	s.compressWG.Add(1)
	go func() {
		defer s.compressWG.Done()
		s.compressSem <- struct{}{}
		defer func() { <-s.compressSem }()
		start := time.Now()
		if err := compressFile(s.dir, name); err != nil {
			s.m.compressErrors.Inc()
			s.logger.Error("gzip of a closed file failed; the plain file is kept", "file", name, "err", err)
			return
		}
		s.m.filesCompressed.Inc()
		s.logger.Info("compressed closed file", "file", name+".gz", "seconds", time.Since(start).Seconds())
	}()
}

// compressFile writes dir/name.gz atomically (a .tmp file, fsync, rename,
// directory fsync), then removes dir/name. A crash at any point leaves
// either the plain file alone, or the plain file and a .tmp (removed on
// restart), or both complete files (the plain one removed on restart).
func compressFile(dir, name string) (err error) {
	src, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	defer src.Close()
	final := filepath.Join(dir, name+".gz")
	tmp := final + tmpExt
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			dst.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(dst, 1<<20)
	zw, err := gzip.NewWriterLevel(bw, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	zw.Name = name
	if _, err = io.Copy(zw, src); err != nil {
		return err
	}
	if err = zw.Close(); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = dst.Sync(); err != nil {
		return err
	}
	if err = dst.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, final); err != nil {
		return err
	}
	if err = syncDir(dir); err != nil {
		return err
	}
	if err = os.Remove(filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
