package pipeline

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
)

// This file is the scan's hot path: it decodes Parquet pages of one column
// chunk straight into Event fields, without parquet.Value boxing or
// reflection. Dictionary pages are decoded once per column chunk and their
// strings interned, so repeated values share memory.

// stringFieldOffset gives the offset in Event of each string contract column.
var stringFieldOffset = [numHistoryColumns]uintptr{
	hcEventID:       unsafe.Offsetof(Event{}.EventID),
	hcMessageID:     unsafe.Offsetof(Event{}.MessageID),
	hcWABAID:        unsafe.Offsetof(Event{}.WABAID),
	hcPhoneNumberID: unsafe.Offsetof(Event{}.PhoneNumberID),
	hcRecipient:     unsafe.Offsetof(Event{}.Recipient),
	hcCountry:       unsafe.Offsetof(Event{}.Country),
	hcCampaignID:    unsafe.Offsetof(Event{}.CampaignID),
	hcTemplate:      unsafe.Offsetof(Event{}.Template),
	hcLanguage:      unsafe.Offsetof(Event{}.Language),
	hcCategory:      unsafe.Offsetof(Event{}.Category),
	hcMessageType:   unsafe.Offsetof(Event{}.MessageType),
	hcErrorTitle:    unsafe.Offsetof(Event{}.ErrorTitle),
	hcErrorDetails:  unsafe.Offsetof(Event{}.ErrorDetails),
	hcAccountValue:  unsafe.Offsetof(Event{}.AccountValue),
}

// uniqueColumns hold unique or high-cardinality values. Their PLAIN
// encoded values are copied per value rather than interned: a map lookup
// in a table of a million recipients costs cache misses that dominate the
// scan, while a small allocation is cheap and keeps memory proportional to
// what the caller retains. Dictionary-encoded pages are always interned.
var uniqueColumns = [numHistoryColumns]bool{hcEventID: true, hcMessageID: true, hcRecipient: true, hcErrorDetails: true}

// interner makes equal strings share memory. It is bounded: when it holds
// limit strings it starts over, so memory stays bounded on any dataset.
type interner struct {
	m     map[string]string
	limit int
}

func newInterner(limit int) *interner {
	return &interner{m: make(map[string]string, 1024), limit: limit}
}

func (in *interner) intern(b []byte) string {
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	if len(in.m) >= in.limit {
		clear(in.m)
	}
	s := string(b)
	in.m[s] = s
	return s
}

// columnCursor reads the values of one contract column from one column
// chunk, page by page, into consecutive Events.
type columnCursor struct {
	hc     int // contract column
	bind   colBinding
	file   string
	group  int
	pages  parquet.Pages
	intern *interner
	absent bool // an optional column the file lacks: every row reads as absent

	page   parquet.Page
	rows   int   // rows in page
	pos    int   // next row in page
	vi     int   // next value (non-null) in page
	row    int64 // row index in the row group of the next row
	defs   []byte
	maxDef byte

	// Current page's values; which are set depends on the kind.
	idx     []int32 // dictionary indexes when the page is dictionary encoded
	data    []byte  // byte array values
	offsets []uint32
	i64     []int64
	i32     []int32
	f64     []float64
	f32     []float32
	bits    []byte
	i96     []deprecated.Int96

	// Dictionary of the chunk, decoded once into the column's target type.
	dict       parquet.Dictionary
	dictStr    []string
	dictI64    []int64 // timestamps (micros) / media bytes / error codes
	dictNull   []bool  // dictionary entries that are not valid for the column (NaN, fractions)
	dictStatus []Status
	dictBool   []bool
}

func newColumnCursor(m *fileMeta, rg parquet.RowGroup, group int, hc int, in *interner) *columnCursor {
	b := m.cols[hc]
	if !b.present {
		return &columnCursor{hc: hc, file: m.path, group: group, absent: true}
	}
	return &columnCursor{
		hc: hc, bind: b, file: m.path, group: group, intern: in,
		pages:  rg.ColumnChunks()[b.leaf].Pages(),
		maxDef: byte(b.maxDef()),
	}
}

func (b colBinding) maxDef() int {
	if b.optional {
		return 1
	}
	return 0
}

func (c *columnCursor) close() {
	if c.page != nil {
		parquet.Release(c.page)
		c.page = nil
	}
	if c.pages != nil {
		c.pages.Close()
		c.pages = nil
	}
}

// errorf builds an error naming the file, row group, row and column.
func (c *columnCursor) errorf(row int64, format string, args ...any) error {
	return fmt.Errorf("%s: row group %d, row %d: column %s: %s", c.file, c.group, row,
		HistoryColumns[c.hc], fmt.Sprintf(format, args...))
}

// nextPage loads the next page of the chunk.
func (c *columnCursor) nextPage() error {
	if c.page != nil {
		parquet.Release(c.page)
		c.page = nil
	}
	p, err := c.pages.ReadPage()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: row group %d: column %s: fewer values than rows (truncated column chunk)",
				c.file, c.group, HistoryColumns[c.hc])
		}
		return fmt.Errorf("%s: row group %d: column %s: %w", c.file, c.group, HistoryColumns[c.hc], err)
	}
	c.page = p
	c.rows = int(p.NumRows())
	c.pos, c.vi = 0, 0
	c.defs = nil
	if c.maxDef > 0 {
		c.defs = p.DefinitionLevels()
		if len(c.defs) < c.rows {
			return fmt.Errorf("%s: row group %d: column %s: page has %d definition levels for %d rows",
				c.file, c.group, HistoryColumns[c.hc], len(c.defs), c.rows)
		}
	}
	vals := p.Data()
	c.idx = nil
	if d := p.Dictionary(); d != nil {
		c.idx = vals.Int32()
		if d != c.dict {
			if err := c.loadDictionary(d); err != nil {
				return err
			}
		}
		return nil
	}
	switch c.bind.kind {
	case parquet.ByteArray:
		c.data, c.offsets = vals.ByteArray()
	case parquet.Int64:
		c.i64 = vals.Int64()
	case parquet.Int32:
		c.i32 = vals.Int32()
	case parquet.Double:
		c.f64 = vals.Double()
	case parquet.Float:
		c.f32 = vals.Float()
	case parquet.Boolean:
		c.bits = vals.Boolean()
	case parquet.Int96:
		c.i96 = vals.Int96()
	}
	return nil
}

// loadDictionary decodes a chunk's dictionary into the column's target type.
func (c *columnCursor) loadDictionary(d parquet.Dictionary) error {
	c.dict = d
	vals := d.Page().Data()
	n := d.Len()
	switch c.hc {
	case hcStatus:
		data, off := vals.ByteArray()
		c.dictStatus = c.dictStatus[:0]
		for i := 0; i < n; i++ {
			c.dictStatus = append(c.dictStatus, statusOf(data[off[i]:off[i+1]]))
		}
	case hcExploration:
		c.dictBool = c.dictBool[:0]
		for i := 0; i < n; i++ {
			c.dictBool = append(c.dictBool, d.Index(int32(i)).Boolean())
		}
	case hcTimestamp, hcMediaBytes, hcErrorCode, hcAccountNumber, hcAccountUntil:
		c.dictI64 = c.dictI64[:0]
		c.dictNull = c.dictNull[:0]
		for i := 0; i < n; i++ {
			v, ok := c.numberOf(d.Index(int32(i)))
			c.dictI64 = append(c.dictI64, v)
			c.dictNull = append(c.dictNull, !ok)
		}
	default:
		data, off := vals.ByteArray()
		c.dictStr = c.dictStr[:0]
		for i := 0; i < n; i++ {
			c.dictStr = append(c.dictStr, c.intern.intern(data[off[i]:off[i+1]]))
		}
	}
	return nil
}

// numberOf converts a dictionary value of a numeric column: timestamps to
// micros, doubles to whole numbers (ok false for NaN or a fraction).
func (c *columnCursor) numberOf(v parquet.Value) (int64, bool) {
	switch c.bind.kind {
	case parquet.Int64:
		if c.hc == hcTimestamp || c.hc == hcAccountUntil {
			return c.bind.tsUnit.toMicros(v.Int64()), true
		}
		return v.Int64(), true
	case parquet.Int32:
		return int64(v.Int32()), true
	case parquet.Int96:
		return int96Micros(v.Int96()), true
	case parquet.Double:
		return wholeNumber(v.Double())
	case parquet.Float:
		return wholeNumber(float64(v.Float()))
	}
	return 0, false
}

func wholeNumber(f float64) (int64, bool) {
	if math.IsNaN(f) || f != math.Trunc(f) || f < -(1<<62) || f > 1<<62 {
		return 0, false
	}
	return int64(f), true
}

// statusOf parses a status name; StatusUnknown when it is not one.
func statusOf(b []byte) Status {
	for i := 1; i < len(statusNames); i++ {
		if statusNames[i] == string(b) {
			return Status(i)
		}
	}
	return StatusUnknown
}

// statusWant lists the contract's status names, for errors.
var statusWant = strings.Join(statusNames[1:], ", ")

// fill decodes the column's next len(dst) rows into dst.
func (c *columnCursor) fill(dst []Event) error {
	if c.absent {
		for i := range dst {
			c.setAbsent(&dst[i])
		}
		c.row += int64(len(dst))
		return nil
	}
	for len(dst) > 0 {
		if c.pos >= c.rows {
			if err := c.nextPage(); err != nil {
				return err
			}
			continue
		}
		k := min(len(dst), c.rows-c.pos)
		if err := c.decode(dst[:k]); err != nil {
			return err
		}
		c.pos += k
		c.row += int64(k)
		dst = dst[k:]
	}
	return nil
}

// present reports whether row r of the page has a value, advancing the
// value index.
func (c *columnCursor) valueIndex(r int) (int, bool) {
	if c.defs != nil && c.defs[r] != c.maxDef {
		return 0, false
	}
	v := c.vi
	c.vi++
	return v, true
}

// checkValues verifies that the page holds enough values for its non-null
// rows, so the decoders below cannot index out of range on a corrupt file.
func (c *columnCursor) checkValues(n int, have int) error {
	if n > have {
		return fmt.Errorf("%s: row group %d: column %s: page has %d values, want %d (corrupt page)",
			c.file, c.group, HistoryColumns[c.hc], have, n)
	}
	return nil
}

// decode decodes len(dst) rows of the current page starting at c.pos.
func (c *columnCursor) decode(dst []Event) error {
	// Count the values the rows need and check the page has them.
	need := len(dst)
	if c.defs != nil {
		need = 0
		for _, d := range c.defs[c.pos : c.pos+len(dst)] {
			if d == c.maxDef {
				need++
			}
		}
	}
	need += c.vi
	if c.idx != nil {
		if err := c.checkValues(need, len(c.idx)); err != nil {
			return err
		}
		return c.decodeDict(dst)
	}
	switch c.bind.kind {
	case parquet.ByteArray:
		// n values have n+1 offsets; a page of nulls only may have none.
		if err := c.checkValues(need, max(len(c.offsets)-1, 0)); err != nil {
			return err
		}
	case parquet.Int64:
		if err := c.checkValues(need, len(c.i64)); err != nil {
			return err
		}
	case parquet.Int32:
		if err := c.checkValues(need, len(c.i32)); err != nil {
			return err
		}
	case parquet.Double:
		if err := c.checkValues(need, len(c.f64)); err != nil {
			return err
		}
	case parquet.Float:
		if err := c.checkValues(need, len(c.f32)); err != nil {
			return err
		}
	case parquet.Boolean:
		if err := c.checkValues(need, len(c.bits)*8); err != nil {
			return err
		}
	case parquet.Int96:
		if err := c.checkValues(need, len(c.i96)); err != nil {
			return err
		}
	}
	switch c.hc {
	case hcTimestamp:
		return c.decodeTimestamp(dst)
	case hcStatus:
		return c.decodeStatus(dst)
	case hcMediaBytes, hcErrorCode, hcAccountNumber, hcAccountUntil:
		return c.decodeNumber(dst)
	case hcExploration:
		for i := range dst {
			v, ok := c.valueIndex(c.pos + i)
			dst[i].Exploration = ok && c.bits[v>>3]&(1<<(v&7)) != 0
		}
		return nil
	default:
		c.decodeString(dst)
		return nil
	}
}

func (c *columnCursor) decodeString(dst []Event) {
	off := stringFieldOffset[c.hc]
	unique := uniqueColumns[c.hc]
	data, offsets := c.data, c.offsets
	for i := range dst {
		p := (*string)(unsafe.Add(unsafe.Pointer(&dst[i]), off))
		v, ok := c.valueIndex(c.pos + i)
		if !ok {
			*p = ""
			continue
		}
		b := data[offsets[v]:offsets[v+1]]
		if unique {
			*p = string(b)
		} else {
			*p = c.intern.intern(b)
		}
	}
}

func (c *columnCursor) decodeTimestamp(dst []Event) error {
	if c.defs == nil && c.bind.kind == parquet.Int64 {
		vals := c.i64[c.vi : c.vi+len(dst)]
		switch c.bind.tsUnit {
		case tsMicros:
			for i := range dst {
				dst[i].Timestamp = vals[i]
			}
		default:
			u := c.bind.tsUnit
			for i := range dst {
				dst[i].Timestamp = u.toMicros(vals[i])
			}
		}
		c.vi += len(dst)
		return nil
	}
	for i := range dst {
		v, ok := c.valueIndex(c.pos + i)
		if !ok {
			return c.errorf(c.row+int64(i), "null timestamp")
		}
		if c.bind.kind == parquet.Int96 {
			dst[i].Timestamp = int96Micros(c.i96[v])
		} else {
			dst[i].Timestamp = c.bind.tsUnit.toMicros(c.i64[v])
		}
	}
	return nil
}

func (c *columnCursor) decodeStatus(dst []Event) error {
	data, offsets := c.data, c.offsets
	for i := range dst {
		v, ok := c.valueIndex(c.pos + i)
		if !ok {
			return c.errorf(c.row+int64(i), "null status")
		}
		b := data[offsets[v]:offsets[v+1]]
		s := statusOf(b)
		if s == StatusUnknown {
			return c.errorf(c.row+int64(i), "unknown status %q (want one of %s)", b, statusWant)
		}
		dst[i].Status = s
	}
	return nil
}

// decodeNumber decodes media_bytes, error_code, account_number or
// account_until.
func (c *columnCursor) decodeNumber(dst []Event) error {
	for i := range dst {
		v, ok := c.valueIndex(c.pos + i)
		var n int64
		if ok {
			switch c.bind.kind {
			case parquet.Int64:
				n = c.i64[v]
				if c.hc == hcAccountUntil {
					n = c.bind.tsUnit.toMicros(n)
				}
			case parquet.Int96:
				n = int96Micros(c.i96[v])
			case parquet.Int32:
				n = int64(c.i32[v])
			case parquet.Double:
				n, ok = wholeNumber(c.f64[v])
				if !ok && !math.IsNaN(c.f64[v]) {
					return c.errorf(c.row+int64(i), "want a whole number, got %v", c.f64[v])
				}
			case parquet.Float:
				n, ok = wholeNumber(float64(c.f32[v]))
				if !ok && !math.IsNaN(float64(c.f32[v])) {
					return c.errorf(c.row+int64(i), "want a whole number, got %v", c.f32[v])
				}
			}
		}
		if err := c.setNumber(&dst[i], n, ok, c.row+int64(i)); err != nil {
			return err
		}
	}
	return nil
}

// setAbsent stores the absent value of the cursor's column.
func (c *columnCursor) setAbsent(e *Event) {
	switch c.hc {
	case hcAccountValue:
		e.AccountValue = ""
	case hcAccountNumber:
		// Absent on an account event; zero on a message event (the
		// status is decoded first, see Scan).
		e.AccountNumber = 0
		if e.Status.IsAccountEvent() {
			e.AccountNumber = NoAccountNumber
		}
	case hcAccountUntil:
		e.AccountUntil = 0
	}
}

// setNumber stores a media_bytes, error_code, account_number or
// account_until value (or its absence).
func (c *columnCursor) setNumber(e *Event, n int64, ok bool, row int64) error {
	switch c.hc {
	case hcAccountNumber, hcAccountUntil:
		if !ok {
			c.setAbsent(e)
		} else if c.hc == hcAccountNumber {
			e.AccountNumber = n
		} else {
			e.AccountUntil = n
		}
		return nil
	}
	if c.hc == hcMediaBytes {
		if !ok {
			e.MediaBytes = NoMediaBytes
		} else {
			e.MediaBytes = n
		}
		return nil
	}
	if !ok {
		e.ErrorCode = NoErrorCode
		return nil
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return c.errorf(row, "error code %d out of int32 range", n)
	}
	e.ErrorCode = int32(n)
	return nil
}

// decodeDict decodes rows of a dictionary-encoded page. Each target type
// has its own loop; required columns (no definition levels) take a
// straight path.
func (c *columnCursor) decodeDict(dst []Event) error {
	switch c.hc {
	case hcStatus:
		return c.decodeDictStatus(dst)
	case hcExploration:
		for i := range dst {
			v, ok := c.valueIndex(c.pos + i)
			if ok {
				ix, err := c.dictIndex(v, len(c.dictBool), i)
				if err != nil {
					return err
				}
				dst[i].Exploration = c.dictBool[ix]
			} else {
				dst[i].Exploration = false
			}
		}
		return nil
	case hcTimestamp, hcMediaBytes, hcErrorCode, hcAccountNumber, hcAccountUntil:
		for i := range dst {
			v, ok := c.valueIndex(c.pos + i)
			row := c.row + int64(i)
			var n int64
			if ok {
				ix, err := c.dictIndex(v, len(c.dictI64), i)
				if err != nil {
					return err
				}
				n, ok = c.dictI64[ix], !c.dictNull[ix]
			}
			if c.hc == hcTimestamp {
				if !ok {
					return c.errorf(row, "null timestamp")
				}
				dst[i].Timestamp = n
				continue
			}
			if err := c.setNumber(&dst[i], n, ok, row); err != nil {
				return err
			}
		}
		return nil
	}
	off := stringFieldOffset[c.hc]
	table := c.dictStr
	if c.defs == nil {
		idx := c.idx[c.vi : c.vi+len(dst)]
		for i, ix := range idx {
			if uint(ix) >= uint(len(table)) {
				return c.errorf(c.row+int64(i), "dictionary index %d out of range [0, %d) (corrupt page)", ix, len(table))
			}
			*(*string)(unsafe.Add(unsafe.Pointer(&dst[i]), off)) = table[ix]
		}
		c.vi += len(dst)
		return nil
	}
	for i := range dst {
		p := (*string)(unsafe.Add(unsafe.Pointer(&dst[i]), off))
		v, ok := c.valueIndex(c.pos + i)
		if !ok {
			*p = ""
			continue
		}
		ix, err := c.dictIndex(v, len(table), i)
		if err != nil {
			return err
		}
		*p = table[ix]
	}
	return nil
}

// dictIndex returns the dictionary index of value v, checked against the
// dictionary size; i is the row's offset in the current decode.
func (c *columnCursor) dictIndex(v, size, i int) (int32, error) {
	ix := c.idx[v]
	if uint(ix) >= uint(size) {
		return 0, c.errorf(c.row+int64(i), "dictionary index %d out of range [0, %d) (corrupt page)", ix, size)
	}
	return ix, nil
}

func (c *columnCursor) decodeDictStatus(dst []Event) error {
	table := c.dictStatus
	for i := range dst {
		v, ok := c.valueIndex(c.pos + i)
		row := c.row + int64(i)
		if !ok {
			return c.errorf(row, "null status")
		}
		ix, err := c.dictIndex(v, len(table), i)
		if err != nil {
			return err
		}
		s := table[ix]
		if s == StatusUnknown {
			return c.errorf(row, "unknown status %q (want one of %s)", c.dict.Index(ix).ByteArray(), statusWant)
		}
		dst[i].Status = s
	}
	return nil
}
