package features

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"runtime"
	"slices"
	"time"
	"unsafe"
)

// This file saves and restores a Scorer's feature state: the history
// folded before an as-of time, before any plan send was scored. Folding
// a history of ten million events takes seconds; reading its state back
// takes a fraction of that, so a command that scores several plans
// against the same history folds it once.
//
// The file is the state's memory as it is: the pointer-free per-entity
// arrays byte for byte, the strings and maps as lists, behind a header
// that names the layout (feature version, schema hash, struct sizes,
// architecture) and the configuration it was folded with, and a CRC-32C
// trailer. It is a cache for the build that wrote it, not an exchange
// format: a state of another build or architecture is refused, not
// converted.

// stateMagic opens a state file; the digit is the format version.
const stateMagic = "failcast-feature-state-1\n"

// ErrStateMismatch is returned by ReadScorer for a state written by
// another build of the features, on another architecture, or with
// another configuration: the caller should fold the history again.
var ErrStateMismatch = errors.New("features: saved state does not match this build or configuration")

// stateLayout names everything the raw arrays depend on.
func stateLayout() string {
	return fmt.Sprintf("v%s schema=%s arch=%s le=%v sizes=%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d",
		FeatureVersion, SchemaHash(), runtime.GOARCH, binary.NativeEndian.Uint16([]byte{1, 0}) == 1,
		unsafe.Sizeof(recipSchedule{}), unsafe.Sizeof(groupSchedule{}), unsafe.Sizeof(phoneDay{}),
		unsafe.Sizeof(sendRef{}), unsafe.Sizeof(pairSend{}), unsafe.Sizeof(record{}),
		unsafe.Sizeof(recipOutcome{}), unsafe.Sizeof(groupOutcome{}), pageSize, numFeatures,
		unsafe.Sizeof(tplAccount{}), unsafe.Sizeof(limitAccount{}), unsafe.Sizeof(prefAccount{}), unsafe.Sizeof(paramEpisode{}))
}

// stateConfig is the part of Config the folded state depends on, as
// text for the header.
func stateConfig(c Config) string {
	return fmt.Sprintf("lead=%d refresh=%d label_window=%d label_delay=%d",
		c.Lead.Microseconds(), c.Refresh.Microseconds(), c.LabelWindow.Microseconds(), c.LabelDelay.Microseconds())
}

// FoldedBefore returns the as-of time (Unix µs) the scorer's history was
// folded before: AsOf for a NewScorer, the saved one for a ReadScorer.
func (s *Scorer) FoldedBefore() int64 { return s.foldedBefore }

// WriteState writes the scorer's feature state to w. It must be called
// before the first Next: scoring a plan adds its sends to the state.
func (s *Scorer) WriteState(w io.Writer) error {
	if s.scored {
		return errors.New("features: WriteState after Next: the state holds plan sends")
	}
	sw := &stateWriter{w: bufio.NewWriterSize(w, 1<<20), crc: crc32.New(crc32.MakeTable(crc32.Castagnoli))}
	sw.str(stateMagic)
	sw.str(stateLayout())
	sw.str(stateConfig(s.cfg))
	sw.i64(s.foldedBefore)
	sw.i64(s.lastEvent)

	en := s.en
	sw.strs(en.recip.names)
	for _, in := range []*interner{en.phone, en.tplName, en.lang, en.camp, en.waba, en.country} {
		sw.strs(in.names)
	}
	writeMap(sw, en.tpl)
	sw.u64(en.lastTplKey)
	sw.i64(int64(en.lastTpl))

	sc := &s.eng.sched
	st := sc.state
	writePaged(sw, &st.recip)
	writeRaw(sw, st.phone)
	writeQueues(sw, st.phoneRate)
	writeRaw(sw, st.phoneDay)
	writeRaw(sw, st.camp)
	writeQueues(sw, st.campRate)
	writeRaw(sw, st.tpl)
	writeRaw(sw, st.waba)
	writeRaw(sw, st.country)
	writeRaw(sw, st.day[st.dayHead:])
	writeRaw(sw, st.dayFlags[st.dayHead:])
	sw.u64(uint64(st.dayBase) + uint64(st.dayHead))
	writeMap(sw, st.pair)
	writeRaw(sw, sc.deferred)
	sw.i64(sc.curTs)

	o := &s.eng.out
	writePaged(sw, &o.state.recip)
	for _, g := range []*[]groupOutcome{&o.state.phone, &o.state.tpl, &o.state.camp, &o.state.waba, &o.state.country} {
		writeRaw(sw, *g)
	}
	writeRaw(sw, o.state.acct.tpl)
	writeRaw(sw, o.state.acct.phone)
	writeRaw(sw, o.state.acct.waba)
	writeMap(sw, o.state.acct.pref)
	writeRaw(sw, o.state.param.tpl)
	writeRaw(sw, o.state.param.ended)
	writeRaw(sw, o.fifo[o.fifoHead:])
	return sw.finish()
}

// ReadScorer restores a Scorer from a state WriteState wrote, to score
// plans as of asOf (Unix µs). The state must have been folded with the
// same cfg (else ErrStateMismatch), and every event it holds must be
// before asOf. It is the caller's to know that the history has no other
// event before asOf (say, that the history is unchanged and ends before
// both as-of times): ReadScorer then gives the Scorer NewScorer would.
func ReadScorer(r io.Reader, cfg Config, asOf int64) (*Scorer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sr := &stateReader{r: bufio.NewReaderSize(r, 1<<20), crc: crc32.New(crc32.MakeTable(crc32.Castagnoli))}
	magic := make([]byte, len(stateMagic)+1) // its length, then itself
	if sr.read(magic); sr.err != nil || string(magic[1:]) != stateMagic || int(magic[0]) != len(stateMagic) {
		return nil, errors.New("features: not a feature state file")
	}
	layout, conf := sr.str(), sr.str()
	folded, lastEvent := sr.i64(), sr.i64()
	if sr.err != nil {
		return nil, fmt.Errorf("features: read state header: %w", sr.err)
	}
	if layout != stateLayout() {
		return nil, fmt.Errorf("%w: layout %q, this build %q", ErrStateMismatch, layout, stateLayout())
	}
	if conf != stateConfig(cfg) {
		return nil, fmt.Errorf("%w: folded with %s, now %s", ErrStateMismatch, conf, stateConfig(cfg))
	}
	if asOf <= lastEvent {
		return nil, fmt.Errorf("features: the saved state holds an event at %s, not before as-of %s",
			time.UnixMicro(lastEvent).UTC().Format(time.RFC3339Nano), time.UnixMicro(asOf).UTC().Format(time.RFC3339Nano))
	}

	en := newEntities()
	readRecipients(sr, en.recip)
	for _, in := range []*interner{en.phone, en.tplName, en.lang, en.camp, en.waba, en.country} {
		readNames(sr, in)
	}
	en.tpl = readMap[uint64, int32](sr)
	en.lastTplKey = sr.u64()
	en.lastTpl = int32(sr.i64())

	eng := newEngine(func(int64) int64 { return asOf })
	sc := &eng.sched
	st := sc.state
	readPaged(sr, &st.recip)
	st.phone = readRaw[groupSchedule](sr)
	st.phoneRate = readQueues(sr)
	st.phoneDay = readRaw[phoneDay](sr)
	st.camp = readRaw[groupSchedule](sr)
	st.campRate = readQueues(sr)
	st.tpl = readRaw[groupSchedule](sr)
	st.waba = readRaw[groupSchedule](sr)
	st.country = readRaw[groupSchedule](sr)
	st.day = readRaw[sendRef](sr)
	st.dayFlags = readRaw[uint8](sr)
	st.dayBase = uint32(sr.u64())
	st.pair = readMap[uint64, pairSend](sr)
	sc.deferred = readRaw[record](sr)
	sc.curTs = sr.i64()

	o := &eng.out
	readPaged(sr, &o.state.recip)
	for _, g := range []*[]groupOutcome{&o.state.phone, &o.state.tpl, &o.state.camp, &o.state.waba, &o.state.country} {
		*g = readRaw[groupOutcome](sr)
	}
	o.state.acct.tpl = readRaw[tplAccount](sr)
	o.state.acct.phone = readRaw[limitAccount](sr)
	o.state.acct.waba = readRaw[limitAccount](sr)
	o.state.acct.pref = readMap[int32, prefAccount](sr)
	o.state.param.tpl = readRaw[paramEpisode](sr)
	o.state.param.ended = readRaw[float64](sr)
	o.fifo = readRaw[record](sr)
	if err := sr.finish(); err != nil {
		return nil, err
	}
	if len(st.day) != len(st.dayFlags) {
		return nil, errors.New("features: corrupt state: send queue and flags differ in length")
	}
	o.drain(asOf)
	return &Scorer{cfg: cfg, asOf: asOf, foldedBefore: folded, lastEvent: lastEvent, en: en, eng: eng, last: asOf}, nil
}

// stateWriter writes the state's fields, keeping the first error and a
// running CRC of everything written.
type stateWriter struct {
	w   *bufio.Writer
	crc hash.Hash32
	err error
	buf [binary.MaxVarintLen64]byte
}

func (sw *stateWriter) write(b []byte) {
	if sw.err != nil {
		return
	}
	sw.crc.Write(b)
	_, sw.err = sw.w.Write(b)
}

func (sw *stateWriter) u64(v uint64) { sw.write(binary.AppendUvarint(sw.buf[:0], v)) }
func (sw *stateWriter) i64(v int64)  { sw.write(binary.AppendVarint(sw.buf[:0], v)) }

func (sw *stateWriter) str(s string) {
	sw.u64(uint64(len(s)))
	sw.write(unsafe.Slice(unsafe.StringData(s), len(s)))
}

func (sw *stateWriter) strs(ss []string) {
	sw.u64(uint64(len(ss)))
	for _, s := range ss {
		sw.str(s)
	}
}

// finish writes the CRC trailer and flushes.
func (sw *stateWriter) finish() error {
	if sw.err != nil {
		return fmt.Errorf("features: write state: %w", sw.err)
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], sw.crc.Sum32())
	if _, err := sw.w.Write(sum[:]); err != nil {
		return fmt.Errorf("features: write state: %w", err)
	}
	if err := sw.w.Flush(); err != nil {
		return fmt.Errorf("features: write state: %w", err)
	}
	return nil
}

// stateReader reads what stateWriter wrote, keeping the first error.
type stateReader struct {
	r   *bufio.Reader
	crc hash.Hash32
	err error
}

// maxStateBytes bounds any one array of a state file and maxStringBytes
// any one string. Arrays are also allocated only as their bytes arrive,
// so a corrupt length fails at the end of the file, not by asking for
// all memory.
const (
	maxStateBytes  = 1 << 40
	maxStringBytes = 1 << 20
)

func (sr *stateReader) fail(err error) {
	if sr.err == nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		sr.err = err
	}
}

func (sr *stateReader) read(b []byte) {
	if sr.err != nil {
		return
	}
	if _, err := io.ReadFull(sr.r, b); err != nil {
		sr.fail(err)
		return
	}
	sr.crc.Write(b)
}

func (sr *stateReader) u64() uint64 {
	if sr.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(crcByteReader{sr})
	if err != nil {
		sr.fail(err)
	}
	return v
}

func (sr *stateReader) i64() int64 {
	if sr.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(crcByteReader{sr})
	if err != nil {
		sr.fail(err)
	}
	return v
}

// crcByteReader reads single bytes for the varint decoder, through the CRC.
type crcByteReader struct{ sr *stateReader }

func (c crcByteReader) ReadByte() (byte, error) {
	b, err := c.sr.r.ReadByte()
	if err == nil {
		c.sr.crc.Write([]byte{b})
	}
	return b, err
}

// length reads the length of an array of elements of size bytes, at
// most limit bytes in all.
func (sr *stateReader) length(size uintptr, limit uint64) int {
	n := sr.u64()
	if sr.err == nil && n*uint64(max(size, 1)) > limit {
		sr.fail(fmt.Errorf("corrupt length %d", n))
	}
	if sr.err != nil {
		return 0
	}
	return int(n)
}

func (sr *stateReader) str() string {
	b := make([]byte, sr.length(1, maxStringBytes))
	sr.read(b)
	return string(b)
}

// finish checks the CRC trailer.
func (sr *stateReader) finish() error {
	want := sr.crc.Sum32()
	var sum [4]byte
	if sr.err == nil {
		if _, err := io.ReadFull(sr.r, sum[:]); err != nil {
			sr.fail(err)
		}
	}
	if sr.err != nil {
		return fmt.Errorf("features: read state: %w", sr.err)
	}
	if got := binary.LittleEndian.Uint32(sum[:]); got != want {
		return fmt.Errorf("features: corrupt state: checksum %08x, content %08x", got, want)
	}
	return nil
}

// bytesOf views a slice of pointer-free values as its bytes.
func bytesOf[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(s[0])))
}

// writeRaw writes a slice of pointer-free values byte for byte.
func writeRaw[T any](sw *stateWriter, s []T) {
	sw.u64(uint64(len(s)))
	sw.write(bytesOf(s))
}

// readRaw reads what writeRaw wrote. The slice grows as its bytes
// arrive (by half its size, at least rawStep elements at a time).
func readRaw[T any](sr *stateReader) []T {
	var zero T
	n := sr.length(unsafe.Sizeof(zero), maxStateBytes)
	const rawStep = 1 << 16
	s := make([]T, 0, min(n, rawStep))
	for len(s) < n && sr.err == nil {
		k := min(n-len(s), max(len(s)/2, rawStep))
		s = slices.Grow(s, k)[:len(s)+k]
		sr.read(bytesOf(s[len(s)-k:]))
	}
	return s
}

func writePaged[T any](sw *stateWriter, p *pagedState[T]) {
	sw.u64(uint64(p.n))
	for i := 0; i < int(p.n); i += pageSize {
		sw.write(bytesOf(p.pages[i>>pageBits][:min(pageSize, int(p.n)-i)]))
	}
}

func readPaged[T any](sr *stateReader, p *pagedState[T]) {
	var zero T
	n := sr.length(unsafe.Sizeof(zero), maxStateBytes)
	if n > math.MaxInt32 {
		sr.fail(fmt.Errorf("corrupt length %d", n))
	}
	for i := 0; i < n && sr.err == nil; i += pageSize {
		last := min(i+pageSize, n)
		p.ensure(int32(last - 1))
		sr.read(bytesOf(p.pages[i>>pageBits][:last-i]))
	}
}

func writeQueues(sw *stateWriter, qs []timeQueue) {
	sw.u64(uint64(len(qs)))
	for _, q := range qs {
		writeRaw(sw, q.times[q.head:])
	}
}

func readQueues(sr *stateReader) []timeQueue {
	n := sr.length(unsafe.Sizeof(timeQueue{}), maxStateBytes)
	var qs []timeQueue
	for i := 0; i < n && sr.err == nil; i++ {
		qs = append(qs, timeQueue{times: readRaw[int64](sr)})
	}
	return qs
}

func writeMap[K comparable, V any](sw *stateWriter, m map[K]V) {
	keys, values := make([]K, 0, len(m)), make([]V, 0, len(m))
	for k, v := range m {
		keys, values = append(keys, k), append(values, v)
	}
	writeRaw(sw, keys)
	writeRaw(sw, values)
}

func readMap[K comparable, V any](sr *stateReader) map[K]V {
	keys, values := readRaw[K](sr), readRaw[V](sr)
	if len(keys) != len(values) {
		sr.fail(errors.New("corrupt map"))
		return map[K]V{}
	}
	m := make(map[K]V, len(keys))
	for i, k := range keys {
		m[k] = values[i]
	}
	return m
}

// readNames restores an interner's names (id 0, the empty string, is
// already there) and its index.
func readNames(sr *stateReader, in *interner) {
	n := sr.length(unsafe.Sizeof(""), maxStateBytes)
	for i := 0; i < n && sr.err == nil; i++ {
		s := sr.str()
		if i == 0 {
			continue
		}
		in.ids[s] = int32(len(in.names))
		in.names = append(in.names, s)
	}
}

// readRecipients restores the recipient interner: hashed recipients go
// to its table, others to its map, as recipInterner.id put them.
func readRecipients(sr *stateReader, r *recipInterner) {
	n := sr.length(unsafe.Sizeof(""), maxStateBytes)
	for i := 0; i < n && sr.err == nil; i++ {
		s := sr.str()
		if i == 0 {
			continue
		}
		id := int32(len(r.names))
		r.names = append(r.names, s)
		if k, ok := hashedKey(s); ok {
			r.hashed.put(k, id)
		} else {
			r.ids[s] = id
		}
	}
}
