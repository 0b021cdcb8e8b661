package ingest

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/failcast/failcast/pipeline"
	"golang.org/x/sync/errgroup"
)

// An export holds in memory only what is small whatever the input size
// (interned low-cardinality strings, one entry per distinct recipient, a
// 4-byte fingerprint per send) and spills the rest to disk, in three
// steps:
//
//  1. As lines are committed (in input order), each send-log record and
//     each webhook event goes, in a compact binary form, to one of
//     spillBuckets bucket files chosen by a hash of its message id (account
//     events: of their time), so every event of a message, and every
//     duplicate of an event, lands in the same bucket.
//  2. Buckets are joined a group at a time, one group per core at once:
//     groups are runs of consecutive buckets of about equal size, each
//     within its share of the memory budget, as many as a multiple of the
//     cores (one per core for small inputs; groupBuckets). A group is
//     loaded into the Exporter's in-memory structures and joined
//     by the same code as Exporter.Events (Exporter.join); its events,
//     ordered by (timestamp, event id), go to one run file, with the offset
//     of each UTC day.
//  3. Each day (or the whole history, for a single file) is written by
//     merging the runs' segments of that day in (timestamp, event id) order.
//
// The output is the same as the in-memory join's, byte for byte, whatever
// the number of groups. Send-log conflicts (a message id reused for
// another recipient or time) are found when their bucket is joined; the
// raw line of a record that may conflict (its message id's fingerprint
// was seen before) is spilled with it for the reject, and conflict rejects
// are written after the others, in input order.

// spillBuckets is the number of bucket files of a spill (a variable for
// the tests).
var spillBuckets = 128

// spillBytesFactor estimates the memory a group of buckets takes when
// joined, per byte of bucket file (measured on the simulator's world:
// about 450 bytes of joined state per event of about 75 spilled bytes).
const spillBytesFactor = 7

// spillBytesPerEvent is about how many bytes of bucket file an event
// takes (to size a group's slices).
const spillBytesPerEvent = 64

// spillEventsPerMessage is about how many events a message id has (its
// send and statuses: 3.6 in the simulator's world), to size a group's
// message ids.
const spillEventsPerMessage = 4

// Record kinds of the bucket files.
const (
	spillSend    = 1
	spillEvent   = 2
	spillAccount = 3
)

// spill is the disk side of an export.
type spill struct {
	dir     string
	budget  int64 // bytes of joined state a group may take
	buckets []bucketFile
	seen    fingerprints
	buf     []byte
	err     error // the first write error; the export fails with it

	runs     []*runFile
	groups   int // groups joined
	maxGroup int // most events joined at once
}

type bucketFile struct {
	f *os.File
	w *bufio.Writer
	n int64
}

// conflict is a send-log record found to reuse a message id when its
// bucket was joined.
type conflict struct {
	seq   uint32
	line  int
	lines int
	le    *lineError
	raw   []byte
	src   uint32
}

// newSpill creates the spill directory beside out (".NAME.tmp-spill-*",
// removed by atomicfile.CleanLeftovers when a killed run left it). budget
// bounds the memory of one joined group.
func newSpill(out string, budget int64) (*spill, error) {
	parent := filepath.Dir(filepath.Clean(out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, "."+filepath.Base(filepath.Clean(out))+".tmp-spill-*")
	if err != nil {
		return nil, fmt.Errorf("create spill directory: %w", err)
	}
	return &spill{dir: dir, budget: max(budget, 64<<10), buckets: make([]bucketFile, spillBuckets)}, nil
}

// Close removes the spill's files.
func (s *spill) Close() error {
	for i := range s.buckets {
		if b := &s.buckets[i]; b.f != nil {
			b.f.Close()
		}
	}
	for _, r := range s.runs {
		if r != nil {
			r.f.Close()
		}
	}
	return os.RemoveAll(s.dir)
}

// write appends one record to the bucket of hash h.
func (s *spill) write(h uint64, rec []byte) {
	if s.err != nil {
		return
	}
	b := &s.buckets[h%uint64(len(s.buckets))]
	if b.f == nil {
		f, err := os.Create(filepath.Join(s.dir, fmt.Sprintf("bucket-%04d", h%uint64(len(s.buckets)))))
		if err != nil {
			s.err = fmt.Errorf("spill: %w", err)
			return
		}
		b.f, b.w = f, bufio.NewWriterSize(f, 32<<10)
	}
	var n [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(n[:], uint64(len(rec)))
	b.w.Write(n[:k])
	if _, err := b.w.Write(rec); err != nil {
		s.err = fmt.Errorf("spill: %w", err)
	}
	b.n += int64(k + len(rec))
}

// addSend spills a send-log record. One whose message id (in its
// namespace: wamids, request ids of refused sends) may have been seen
// before carries its raw line, for the conflict reject.
func (s *spill) addSend(in *sendIn, raw []byte, lines int) {
	h := xxhash.Sum64(in.key)
	fp := h >> 32
	if in.code != pipeline.NoErrorCode {
		fp ^= 0x9e3779b9
	}
	suspect := !s.seen.add(uint32(fp))
	b := append(s.buf[:0], spillSend)
	for _, v := range [...]uint32{in.seq, in.recip, in.waba, in.phone, in.campaign, in.template, in.language, in.category, in.msgType, in.source, uint32(in.line)} {
		b = binary.AppendUvarint(b, uint64(v))
	}
	b = binary.AppendVarint(b, in.media)
	b = binary.AppendVarint(b, in.ts)
	b = binary.AppendVarint(b, int64(in.code))
	b = appendBool(b, in.exploration)
	for _, v := range [...][]byte{in.key, in.title, in.detail, in.country} {
		b = appendBytes(b, v)
	}
	if suspect {
		b = binary.AppendUvarint(b, uint64(lines))
		b = appendBytes(b, raw)
	} else {
		b = binary.AppendUvarint(b, 0)
	}
	s.buf = b
	s.write(h, b)
}

// addEvent spills a webhook event (msg its message id) or an account
// event (a its details).
func (s *spill) addEvent(r *rec, msg []byte, a *accountDetail) {
	var h uint64
	b := s.buf[:0]
	if a == nil {
		b = append(b, spillEvent)
		h = xxhash.Sum64(msg)
	} else {
		b = append(b, spillAccount)
		var t [8]byte
		binary.LittleEndian.PutUint64(t[:], uint64(r.ts))
		h = xxhash.Sum64(t[:]) // an account event's id depends on its time
	}
	for _, v := range [...]uint32{r.seq, r.recip, r.waba, r.phone, r.camp, r.categ, r.mtype, r.title, r.detail, uint32(r.status)} {
		b = binary.AppendUvarint(b, uint64(v))
	}
	b = binary.AppendVarint(b, r.ts)
	b = binary.AppendVarint(b, int64(r.code))
	if a == nil {
		b = appendBytes(b, msg)
	} else {
		for _, v := range [...]uint32{a.template, a.language, a.value, a.display} {
			b = binary.AppendUvarint(b, uint64(v))
		}
		b = binary.AppendVarint(b, a.number)
		b = binary.AppendVarint(b, a.until)
	}
	s.buf = b
	s.write(h, b)
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// decoder reads the fields of one spilled record.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uv() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) u32() uint32 { return uint32(d.uv()) }

func (d *decoder) v() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uv()
	if n > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

var errSpillCorrupt = errors.New("spill file is corrupt")

// recordReader reads length-prefixed records.
type recordReader struct {
	r   *bufio.Reader
	buf []byte
}

// next returns the next record (valid until the next call), or io.EOF.
func (rr *recordReader) next() ([]byte, error) {
	n, err := binary.ReadUvarint(rr.r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, err
	}
	if n > 1<<31 {
		return nil, errSpillCorrupt
	}
	rr.buf = slices.Grow(rr.buf[:0], int(n))[:n]
	if _, err := io.ReadFull(rr.r, rr.buf); err != nil {
		return nil, fmt.Errorf("%w: %w", errSpillCorrupt, err)
	}
	return rr.buf, nil
}

// fingerprints is a set of 32-bit fingerprints (open addressing; 0 is
// stored as 1).
type fingerprints struct {
	slots []uint32
	n     int
}

// add adds fp and reports whether it was new.
func (f *fingerprints) add(fp uint32) bool {
	if fp == 0 {
		fp = 1
	}
	if 4*(f.n+1) > 3*len(f.slots) {
		f.grow()
	}
	mask := uint32(len(f.slots) - 1)
	for i := (fp * 0x9e3779b1) & mask; ; i = (i + 1) & mask {
		switch f.slots[i] {
		case 0:
			f.slots[i] = fp
			f.n++
			return true
		case fp:
			return false
		}
	}
}

func (f *fingerprints) grow() {
	old := f.slots
	f.slots = make([]uint32, max(1024, 2*len(old)))
	f.n = 0
	for _, v := range old {
		if v != 0 {
			f.add(v)
		}
	}
}

// runFile is the joined events of one group of buckets, in (timestamp,
// event id) order, with where each UTC day starts.
type runFile struct {
	f    *os.File
	days []daySeg
	// Interned strings of index base and above are the join worker's own:
	// x.strs index remap[i-base].
	base  uint32
	remap []uint32
}

// fix maps the string indices of a row read from r to x.strs.
func (r *runFile) fix(o *row) {
	if len(r.remap) == 0 {
		return
	}
	for _, p := range [...]*uint32{&o.waba, &o.phone, &o.country, &o.camp, &o.template, &o.language, &o.categ, &o.mtype, &o.title, &o.detail, &o.avalue} {
		if *p >= r.base {
			*p = r.remap[*p-r.base]
		}
	}
}

// daySeg is the bytes [off, end) of a run that hold the events of one day.
type daySeg struct {
	day      int64
	off, end int64
}

// joinSpill joins the spilled buckets group by group into run files (as
// many groups at once as there are cores, each within its share of the
// budget) and then reports the send-log conflicts found, in input order.
func (x *Exporter) joinSpill(ctx context.Context) error {
	s := x.spill
	if s.err != nil {
		return s.err
	}
	for i := range s.buckets {
		if b := &s.buckets[i]; b.w != nil {
			if err := b.w.Flush(); err != nil {
				return fmt.Errorf("spill: %w", err)
			}
			b.w = nil
		}
	}
	s.seen = fingerprints{} // not needed any more
	workers := parseWorkers()
	groups := groupBuckets(s.buckets, s.budget/int64(workers), workers)
	// Each group is joined by its own worker Exporter, which reads x's
	// interned strings and adds its own (joinWorker); they are interned
	// into x, in group order, once all are done.
	joined := make([]*Exporter, len(groups))
	s.runs = make([]*runFile, len(groups))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, group := range groups {
		g.Go(func() error {
			w := x.joinWorker()
			run, err := w.joinGroup(gctx, group, i)
			// Keep what is added up below, not the group's events.
			w.msgs, w.sendOf, w.refused, w.sends, w.recs, w.order, w.accts = interner{}, nil, nil, nil, nil, nil, nil
			s.runs[i], joined[i] = run, w
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	var conflicts []conflict
	for i, w := range joined {
		x.addJoinCounts(w)
		conflicts = append(conflicts, w.conflicts...)
		run := s.runs[i]
		run.base = uint32(w.strs.n0)
		for _, str := range w.strs.s[w.strs.n0:] {
			run.remap = append(run.remap, x.strs.str(str))
		}
		s.groups++
		s.maxGroup = max(s.maxGroup, w.joinedEvents)
	}
	slices.SortFunc(conflicts, func(a, b conflict) int { return cmp.Compare(a.seq, b.seq) })
	for _, c := range conflicts {
		if err := x.addReject(x.strs.s[c.src], c.line, c.lines, c.le, c.raw); err != nil {
			return err
		}
	}
	return nil
}

// groupBuckets cuts the buckets into groups of consecutive buckets, each
// within budget when joined (a bucket larger than the budget is a group of
// its own), of about the same size, in a number that is a multiple of
// workers: the groups are joined workers at a time, and none waits alone
// at the end.
func groupBuckets(buckets []bucketFile, budget int64, workers int) [][]bucketFile {
	var total int64
	for i := range buckets {
		total += buckets[i].n
	}
	n := int(min(total*spillBytesFactor/max(budget, 1)+1, int64(len(buckets))))
	for {
		n = min((n+workers-1)/workers*workers, len(buckets))
		var groups [][]bucketFile
		fits := true
		lo, cum := 0, int64(0)
		for k := 1; k <= n && lo < len(buckets); k++ {
			// Group k ends once the buckets so far hold k/n of the bytes.
			end := total * int64(k) / int64(n)
			hi, size := lo, int64(0)
			for hi < len(buckets) && (hi == lo || cum+buckets[hi].n <= end || k == n) {
				size += buckets[hi].n
				cum += buckets[hi].n
				hi++
			}
			if hi-lo > 1 && size*spillBytesFactor > budget {
				fits = false
			}
			groups = append(groups, buckets[lo:hi])
			lo = hi
		}
		if fits || n == len(buckets) {
			return groups
		}
		n += workers
	}
}

// joinWorker returns an Exporter that joins a group of spill buckets on
// its own goroutine: it shares x's read-only state (recipients, the
// envelopes' phone numbers and WABAs) and reads x's interned strings,
// adding new ones (masked error titles of refused sends, send-log
// countries) to its own overlay.
func (x *Exporter) joinWorker() *Exporter {
	w := &Exporter{
		opts: x.opts, hasher: x.hasher, keys: x.keys, paths: x.paths, mapped: x.mapped,
		strs: x.strs.overlay(), msgs: newInterner(), sendOf: []int32{-1}, refused: map[uint32]int32{},
		recipID: x.recipID, country: x.country, accts: []accountDetail{{}},
		displayPhone: x.displayPhone, phoneWABA: x.phoneWABA, spill: x.spill, finished: true,
	}
	w.sum.UnknownValues = map[string]int64{}
	return w
}

// addJoinCounts adds what a join worker counted to x's summary.
func (x *Exporter) addJoinCounts(w *Exporter) {
	a, b := &x.sum, &w.sum
	a.Accepted += b.Accepted
	a.Refused += b.Refused
	a.MaskedValues += b.MaskedValues
	a.Duplicates += b.Duplicates
	a.OrphanStatuses += b.OrphanStatuses
	a.Events += b.Events
	a.UnresolvedDisplayNumbers += b.UnresolvedDisplayNumbers
	if b.CountryConflicts > 0 && (a.CountryConflicts == 0 || w.firstConflictSeq < x.firstConflictSeq) {
		x.firstConflict, x.firstConflictSeq = w.firstConflict, w.firstConflictSeq
	}
	a.CountryConflicts += b.CountryConflicts
	for k, v := range b.UnknownValues {
		a.UnknownValues[k] += v
	}
}

// joinGroup loads the records of a group of buckets into x's in-memory
// structures, joins them (Exporter.join) and writes the events to run n.
// x is a joinWorker.
func (x *Exporter) joinGroup(ctx context.Context, buckets []bucketFile, n int) (*runFile, error) {
	s := x.spill
	var size int64
	for i := range buckets {
		size += buckets[i].n
	}
	x.recs = make([]rec, 0, size/spillBytesPerEvent)
	// About one message id per spillEventsPerMessage events: the map is
	// made at about its final size, not grown (and rehashed) all along.
	msgs := size / spillBytesPerEvent / spillEventsPerMessage
	x.msgs.reserve(int(msgs))
	x.sendOf = slices.Grow(x.sendOf, int(msgs))
	var reader *bufio.Reader
	var recBuf []byte
	for i := range buckets {
		b := &buckets[i]
		if b.f == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if _, err := b.f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("spill: %w", err)
		}
		if reader == nil {
			reader = bufio.NewReaderSize(b.f, 256<<10)
		}
		reader.Reset(b.f)
		rr := recordReader{r: reader, buf: recBuf}
		for {
			rec, err := rr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("spill %s: %w", b.f.Name(), err)
			}
			if err := x.loadSpilled(rec); err != nil {
				return nil, fmt.Errorf("spill %s: %w", b.f.Name(), err)
			}
		}
		recBuf = rr.buf
		name := b.f.Name()
		b.f.Close()
		b.f = nil
		os.Remove(name) // its disk space, as soon as it is read
	}
	x.join()
	x.joinedEvents = len(x.order)
	f, err := os.Create(filepath.Join(s.dir, fmt.Sprintf("run-%04d", n)))
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	run := &runFile{f: f}
	w := bufio.NewWriterSize(f, 256<<10)
	var off int64
	var buf []byte
	for _, k := range x.order {
		o := x.row(&x.recs[k.at])
		if d := dayOf(o.ts); len(run.days) == 0 || run.days[len(run.days)-1].day != d {
			if n := len(run.days); n > 0 {
				run.days[n-1].end = off
			}
			run.days = append(run.days, daySeg{day: d, off: off})
		}
		buf = appendRow(buf[:0], &o)
		var n [binary.MaxVarintLen64]byte
		k := binary.PutUvarint(n[:], uint64(len(buf)))
		w.Write(n[:k])
		if _, err := w.Write(buf); err != nil {
			return run, fmt.Errorf("spill: %w", err)
		}
		off += int64(k + len(buf))
	}
	if n := len(run.days); n > 0 {
		run.days[n-1].end = off
	}
	if err := w.Flush(); err != nil {
		return run, fmt.Errorf("spill: %w", err)
	}
	return run, nil
}

// loadSpilled adds one bucket record to x's in-memory structures: a send
// is committed (Exporter.addSend: a conflict is kept for its reject), an
// event appended.
func (x *Exporter) loadSpilled(b []byte) error {
	d := decoder{b: b[1:]}
	switch b[0] {
	case spillSend:
		var in sendIn
		for _, p := range [...]*uint32{&in.seq, &in.recip, &in.waba, &in.phone, &in.campaign, &in.template, &in.language, &in.category, &in.msgType, &in.source} {
			*p = d.u32()
		}
		in.line = int32(d.u32())
		in.media, in.ts, in.code = d.v(), d.v(), int32(d.v())
		in.exploration = d.byte() != 0
		in.key, in.title, in.detail, in.country = d.bytes(), d.bytes(), d.bytes(), d.bytes()
		lines := int(d.uv())
		var raw []byte
		if lines > 0 {
			raw = d.bytes()
		}
		if d.bad {
			return errSpillCorrupt
		}
		if le := x.addSend(&in); le != nil {
			if lines == 0 {
				return fmt.Errorf("%w: a conflict without its line", errSpillCorrupt)
			}
			x.conflicts = append(x.conflicts, conflict{seq: in.seq, line: int(in.line), lines: lines, le: le, raw: slices.Clone(raw), src: in.source})
		}
		return nil
	case spillEvent, spillAccount:
		r := rec{send: -1}
		for _, p := range [...]*uint32{&r.seq, &r.recip, &r.waba, &r.phone, &r.camp, &r.categ, &r.mtype, &r.title, &r.detail} {
			*p = d.u32()
		}
		r.status = pipeline.Status(d.uv())
		r.ts, r.code = d.v(), int32(d.v())
		if b[0] == spillEvent {
			r.msg = x.message(d.bytes())
		} else {
			var a accountDetail
			a.template, a.language, a.value, a.display = d.u32(), d.u32(), d.u32(), d.u32()
			a.number, a.until = d.v(), d.v()
			r.acct = uint32(len(x.accts))
			x.accts = append(x.accts, a)
		}
		if d.bad {
			return errSpillCorrupt
		}
		x.recs = append(x.recs, r)
		return nil
	}
	return errSpillCorrupt
}

// Row flags.
const (
	rowExploration = 1 << iota
	rowOrphan
)

func appendRow(b []byte, o *row) []byte {
	var flags byte
	if o.exploration {
		flags |= rowExploration
	}
	if o.orphan {
		flags |= rowOrphan
	}
	b = append(b, byte(o.status), flags)
	b = binary.AppendVarint(b, o.ts)
	b = binary.AppendUvarint(b, uint64(o.seq))
	b = binary.AppendVarint(b, int64(o.code))
	b = binary.LittleEndian.AppendUint64(b, o.id)
	b = appendBytes(b, []byte(o.msg))
	for _, v := range [...]uint32{o.waba, o.phone, o.recip, o.country, o.camp, o.template, o.language, o.categ, o.mtype, o.title, o.detail, o.avalue} {
		b = binary.AppendUvarint(b, uint64(v))
	}
	b = binary.AppendVarint(b, o.media)
	b = binary.AppendVarint(b, o.anumber)
	return binary.AppendVarint(b, o.auntil)
}

// decodeRow decodes a row. Its msg is b's bytes: valid while b is.
func decodeRow(b []byte, o *row) error {
	d := decoder{b: b}
	o.status = pipeline.Status(d.byte())
	flags := d.byte()
	o.exploration, o.orphan = flags&rowExploration != 0, flags&rowOrphan != 0
	o.ts = d.v()
	o.seq = d.u32()
	o.code = int32(d.v())
	if len(d.b) < 8 {
		return errSpillCorrupt
	}
	o.id = binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	msg := d.bytes()
	o.msg = unsafe.String(unsafe.SliceData(msg), len(msg))
	for _, p := range [...]*uint32{&o.waba, &o.phone, &o.recip, &o.country, &o.camp, &o.template, &o.language, &o.categ, &o.mtype, &o.title, &o.detail, &o.avalue} {
		*p = d.u32()
	}
	o.media, o.anumber, o.auntil = d.v(), d.v(), d.v()
	if d.bad {
		return errSpillCorrupt
	}
	return nil
}

// days returns the days the runs hold events of, in order.
func (s *spill) days() []int64 {
	var days []int64
	for _, r := range s.runs {
		for _, d := range r.days {
			days = append(days, d.day)
		}
	}
	slices.Sort(days)
	return slices.Compact(days)
}

// newEvents reads the runs' events of one day (all days when all is set)
// in (timestamp, event id) order. An event whose (timestamp, event id) two
// runs hold (an event id shared by two message ids) is read once, as the
// in-memory join keeps it once.
type newEvents struct {
	heads []*runHead // a heap of the heads with an event, once heap is set
	all   []*runHead
	heap  bool
	top   *runHead // the head with the least event, nil when all are done
	last  row      // the event returned last
	n     int64

	Duplicates, Orphans int64 // events of two runs read once, and how many of them were orphans
}

// runHead is the next event of a run. Its msg is valid until advance.
type runHead struct {
	run *runFile
	rr  recordReader
	cur row
	ok  bool
	err error
}

func (h *runHead) advance() {
	b, err := h.rr.next()
	if err != nil {
		h.ok = false
		if err != io.EOF {
			h.err = err
		}
		return
	}
	if err := decodeRow(b, &h.cur); err != nil {
		h.ok, h.err = false, err
		return
	}
	h.run.fix(&h.cur)
	h.ok = true
}

func (s *spill) newEvents(day int64, all bool) *newEvents {
	m := &newEvents{}
	for _, r := range s.runs {
		for _, d := range r.days {
			if all || d.day == day {
				off, end := d.off, d.end
				if all {
					off, end = 0, r.days[len(r.days)-1].end
				}
				h := &runHead{run: r, rr: recordReader{r: bufio.NewReaderSize(io.NewSectionReader(r.f, off, end-off), 32<<10)}}
				h.advance()
				m.heads = append(m.heads, h)
				break
			}
		}
	}
	m.pick()
	return m
}

func less(a, b *row) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	if a.id != b.id {
		return a.id < b.id
	}
	return a.seq < b.seq
}

// pick makes m.top the head with the least event: the heads that have one
// form a binary heap (a day merges as many runs as there are groups).
func (m *newEvents) pick() {
	if !m.heap { // the first call: make the heap
		m.heap, m.all = true, slices.Clone(m.heads)
		m.heads = slices.DeleteFunc(m.heads, func(h *runHead) bool { return !h.ok })
		for i := len(m.heads)/2 - 1; i >= 0; i-- {
			m.down(i)
		}
	} else {
		if !m.heads[0].ok {
			n := len(m.heads) - 1
			m.heads[0], m.heads[n] = m.heads[n], nil
			m.heads = m.heads[:n]
		}
		m.down(0)
	}
	m.top = nil
	if len(m.heads) > 0 {
		m.top = m.heads[0]
	}
}

func (m *newEvents) down(i int) {
	h := m.heads
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		if r := l + 1; r < len(h) && less(&h[r].cur, &h[l].cur) {
			l = r
		}
		if !less(&h[l].cur, &h[i].cur) {
			return
		}
		h[i], h[l] = h[l], h[i]
		i = l
	}
}

// peek returns the next event, or nil at the end (or on an error: see
// err). It is valid until pop: copy its msg to keep it.
func (m *newEvents) peek() *row {
	for m.top != nil {
		o := &m.top.cur
		if m.n > 0 && o.ts == m.last.ts && o.id == m.last.id {
			m.Duplicates++
			if o.orphan {
				m.Orphans++
			}
			m.top.advance()
			m.pick()
			continue
		}
		return o
	}
	return nil
}

// pop moves past the event peek returned.
func (m *newEvents) pop() {
	m.last = m.top.cur
	m.last.msg = "" // its bytes are the head's, reused
	m.n++
	m.top.advance()
	m.pick()
}

func (m *newEvents) err() error {
	for _, h := range m.all {
		if h.err != nil {
			return fmt.Errorf("spill: %w", h.err)
		}
	}
	return nil
}

// spillErr returns the first error writing the spill, if any.
func (x *Exporter) spillErr() error {
	if x.spill != nil {
		return x.spill.err
	}
	return nil
}
