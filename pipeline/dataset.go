package pipeline

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// sortedByKey is the key-value metadata key with which failcast marks files
// whose rows are in non-decreasing timestamp order. Files without it are
// checked (and sorted in memory if needed) when scanned.
const sortedByKey = "failcast.sorted_by"

// Dataset is a set of history Parquet files read as one time-ordered table.
// Footers are read once and cached; a Dataset may be scanned many times and
// concurrently.
type Dataset struct {
	spec  string
	files []string

	mu       sync.Mutex
	metas    map[string]*fileMeta // parsed footers by path
	checked  bool                 // Check has run
	checkErr error
	misfiled map[string]Misfiled // by path, from Check
}

// OpenDataset resolves spec to a list of Parquet files. spec is one file, a
// directory (every *.parquet file below it, hidden and "_" entries
// skipped, hive partitions such as dt=2026-09-21 included), or a glob
// pattern (filepath.Match syntax; matched directories are walked). It is an
// error if nothing matches. Files are only opened when scanned.
func OpenDataset(spec string) (*Dataset, error) {
	if spec == "" {
		return nil, errors.New("open dataset: empty dataset path")
	}
	var roots []string
	if strings.ContainsAny(spec, "*?[") {
		m, err := filepath.Glob(spec)
		if err != nil {
			return nil, fmt.Errorf("open dataset %s: bad glob pattern: %w", spec, err)
		}
		for _, r := range m {
			if !hiddenName(filepath.Base(r)) {
				roots = append(roots, r)
			}
		}
	} else {
		if _, err := os.Stat(spec); err != nil {
			return nil, fmt.Errorf("open dataset %s: %w", spec, err)
		}
		roots = []string{spec}
	}
	seen := make(map[string]bool)
	var files []string
	for _, root := range roots {
		st, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("open dataset %s: %w", spec, err)
		}
		if !st.IsDir() {
			if !seen[root] {
				seen[root] = true
				files = append(files, root)
			}
			continue
		}
		err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := e.Name()
			if path != root && hiddenName(name) {
				if e.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !e.IsDir() && strings.HasSuffix(name, ".parquet") && !seen[path] {
				seen[path] = true
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("open dataset %s: %w", spec, err)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("open dataset %s: no Parquet files match", spec)
	}
	slices.Sort(files)
	return &Dataset{spec: spec, files: files, metas: make(map[string]*fileMeta)}, nil
}

// OpenDatasetFiles returns the dataset of exactly these Parquet files (no
// directory walking); it is an error if the list is empty.
func OpenDatasetFiles(files []string) (*Dataset, error) {
	if len(files) == 0 {
		return nil, errors.New("open dataset: no files")
	}
	files = slices.Clone(files)
	slices.Sort(files)
	files = slices.Compact(files)
	return &Dataset{spec: strings.Join(files, ","), files: files, metas: make(map[string]*fileMeta)}, nil
}

// hiddenName reports whether a file or directory is skipped when a
// dataset directory is walked: hidden entries (our temporary files among
// them) and "_" entries (Spark's _SUCCESS, _temporary).
func hiddenName(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// Files returns the dataset's files, sorted by path.
func (d *Dataset) Files() []string { return slices.Clone(d.files) }

// TimeRange returns the smallest and largest Timestamp (Unix micros) and
// the number of rows of the dataset. It reads footers and statistics only;
// for row groups without timestamp statistics (INT96 timestamps, for
// example) it falls back to reading the timestamp column. An empty dataset
// returns min > max (min = math.MaxInt64, max = math.MinInt64) and 0 rows.
func (d *Dataset) TimeRange(ctx context.Context) (min, max int64, rows int64, err error) {
	min, max = maxInt64, minInt64
	if err := d.Check(ctx); err != nil {
		return 0, 0, 0, err
	}
	for _, path := range d.files {
		if err := ctx.Err(); err != nil {
			return 0, 0, 0, err
		}
		m, err := d.meta(path)
		if err != nil {
			return 0, 0, 0, err
		}
		if err := m.requireColumns([]int{hcTimestamp}); err != nil {
			return 0, 0, 0, err
		}
		for gi := range m.groups {
			g, err := m.groupRange(ctx, gi)
			if err != nil {
				return 0, 0, 0, err
			}
			rows += g.rows
			if g.rows == 0 {
				continue
			}
			min = minOf(min, g.min)
			max = maxOf(max, g.max)
		}
	}
	return min, max, rows, nil
}

const maxInt64 = 1<<63 - 1

func minOf(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

func maxOf(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// meta returns the parsed footer of a file of d, reading it on first use.
func (d *Dataset) meta(path string) (*fileMeta, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if m, ok := d.metas[path]; ok {
		return m, nil
	}
	m, err := openFileMeta(path)
	if err != nil {
		return nil, err
	}
	d.metas[path] = m
	return m, nil
}

// SchemaError reports a file whose schema does not fit the contract.
type SchemaError struct {
	File   string
	Column string
	Want   string // what the contract expects
	Got    string // what the file has ("missing" when absent)
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("%s: column %s: want %s, got %s", e.File, e.Column, e.Want, e.Got)
}

// colBinding says where and how a contract column is stored in a file.
type colBinding struct {
	present  bool
	leaf     int // leaf column index (the column chunk index in row groups)
	kind     parquet.Kind
	optional bool
	tsUnit   tsUnit // timestamp column only
	err      error  // set when the column exists with an unusable type
}

// tsUnit is the unit of a timestamp column.
type tsUnit uint8

const (
	tsMicros tsUnit = iota
	tsMillis
	tsNanos
	tsInt96 // legacy Spark/Impala INT96 (Julian day + nanoseconds of day)
)

// toMicros converts a stored timestamp to Unix microseconds.
func (u tsUnit) toMicros(v int64) int64 {
	switch u {
	case tsMillis:
		return v * 1000
	case tsNanos:
		q := v / 1000
		if v%1000 < 0 {
			q--
		}
		return q
	}
	return v
}

// int96Micros converts a legacy INT96 timestamp to Unix microseconds.
func int96Micros(v deprecated.Int96) int64 {
	nanos := int64(uint64(v[1])<<32 | uint64(v[0]))
	const julianUnixEpoch = 2440588
	days := int64(v[2]) - julianUnixEpoch
	return days*microsPerDay + nanos/1000
}

// contractWant describes, per contract column, the types that are accepted.
var contractWant = [numHistoryColumns]string{
	hcTimestamp:     "TIMESTAMP (INT64 with TIMESTAMP(MILLIS|MICROS|NANOS), or INT96)",
	hcMediaBytes:    "integer (INT32 or INT64; DOUBLE with whole values accepted)",
	hcErrorCode:     "integer (INT32 or INT64; DOUBLE with whole values accepted)",
	hcExploration:   "BOOLEAN",
	hcEventID:       "string (BYTE_ARRAY)",
	hcMessageID:     "string (BYTE_ARRAY)",
	hcWABAID:        "string (BYTE_ARRAY)",
	hcPhoneNumberID: "string (BYTE_ARRAY)",
	hcRecipient:     "string (BYTE_ARRAY)",
	hcCountry:       "string (BYTE_ARRAY)",
	hcCampaignID:    "string (BYTE_ARRAY)",
	hcTemplate:      "string (BYTE_ARRAY)",
	hcLanguage:      "string (BYTE_ARRAY)",
	hcCategory:      "string (BYTE_ARRAY)",
	hcMessageType:   "string (BYTE_ARRAY)",
	hcStatus:        "string (BYTE_ARRAY)",
	hcErrorTitle:    "string (BYTE_ARRAY)",
	hcErrorDetails:  "string (BYTE_ARRAY)",
	hcAccountValue:  "string (BYTE_ARRAY), optional column",
	hcAccountNumber: "integer (INT32 or INT64; DOUBLE with whole values accepted), optional column",
	hcAccountUntil:  "TIMESTAMP (INT64 with TIMESTAMP(MILLIS|MICROS|NANOS), or INT96), optional column",
}

// describeColumn renders a file column's type for error messages.
func describeColumn(c *parquet.Column) string {
	if !c.Leaf() {
		s := "group"
		if lt := c.Type().LogicalType(); lt != nil && lt.Value != nil {
			s = lt.String() + " group"
		}
		return s
	}
	s := c.Type().Kind().String()
	if lt := c.Type().LogicalType(); lt != nil && lt.Value != nil {
		s += " " + lt.String()
	}
	switch {
	case c.Repeated():
		s = "repeated " + s
	case c.Optional():
		s = "optional " + s
	}
	return s
}

// bindColumn checks a file column against contract column hc.
func bindColumn(path string, hc int, c *parquet.Column) colBinding {
	b := colBinding{present: true, leaf: c.Index(), optional: c.Optional()}
	bad := func() colBinding {
		b.err = &SchemaError{File: path, Column: HistoryColumns[hc], Want: contractWant[hc], Got: describeColumn(c)}
		return b
	}
	if !c.Leaf() || c.Repeated() || c.MaxRepetitionLevel() > 0 || c.MaxDefinitionLevel() > 1 {
		return bad()
	}
	typ := c.Type()
	b.kind = typ.Kind()
	switch hc {
	case hcTimestamp, hcAccountUntil:
		switch b.kind {
		case parquet.Int96:
			b.tsUnit = tsInt96
			return b
		case parquet.Int64:
			lt := typ.LogicalType()
			if lt == nil {
				return bad()
			}
			ts, ok := lt.Value.(*format.TimestampType)
			if !ok {
				return bad()
			}
			switch ts.Unit.Value.(type) {
			case *format.MilliSeconds:
				b.tsUnit = tsMillis
			case *format.MicroSeconds:
				b.tsUnit = tsMicros
			case *format.NanoSeconds:
				b.tsUnit = tsNanos
			default:
				return bad()
			}
			return b
		}
		return bad()
	case hcMediaBytes, hcErrorCode, hcAccountNumber:
		switch b.kind {
		case parquet.Int32, parquet.Int64, parquet.Double, parquet.Float:
			return b
		}
		return bad()
	case hcExploration:
		if b.kind == parquet.Boolean {
			return b
		}
		return bad()
	default:
		if b.kind == parquet.ByteArray {
			return b
		}
		return bad()
	}
}

// fileMeta is the parsed footer of one history file.
type fileMeta struct {
	mu     sync.Mutex // guards groups' measured fields
	path   string
	size   int64
	day    int64 // UTC day number of the hive partition (dt=YYYY-MM-DD)
	hasDay bool
	rf     *lazyReaderAt
	pf     *parquet.File
	cols   [numHistoryColumns]colBinding
	sorted bool // rows are declared in non-decreasing timestamp order
	groups []groupMeta
	// hashKey is the file's recorded hash-key fingerprint (HashKeyMetaKey), "" if none.
	hashKey string
}

// groupMeta describes one row group.
type groupMeta struct {
	index    int
	rows     int64
	min, max int64 // timestamp range, micros; valid when hasStats
	hasStats bool
	measured bool // min/max/sorted established by reading the column
	sorted   bool // rows known to be in timestamp order
}

// partitionDay extracts the UTC day of a hive partition directory
// (dt=YYYY-MM-DD) from a file path.
func partitionDay(path string) (int64, bool) {
	dir := filepath.Dir(path)
	for dir != "." && dir != string(filepath.Separator) && dir != "" {
		base := filepath.Base(dir)
		if v, ok := strings.CutPrefix(base, "dt="); ok {
			t, err := time.Parse(time.DateOnly, v)
			if err == nil {
				return dayOf(t.UnixMicro()), true
			}
		}
		next := filepath.Dir(dir)
		if next == dir {
			break
		}
		dir = next
	}
	return 0, false
}

// openFileMeta opens a file, reads its footer and binds its columns. A
// parquet-go panic on a malformed file is turned into an error naming the
// file.
func openFileMeta(path string) (m *fileMeta, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%s: not a readable Parquet file: %v", path, r)
		}
	}()
	rf := &lazyReaderAt{path: path}
	size, err := rf.acquire()
	if err != nil {
		return nil, err
	}
	defer rf.release()
	pf, err := parquet.OpenFile(rf, size,
		parquet.SkipPageIndex(true),
		parquet.SkipBloomFilters(true),
		parquet.ReadBufferSize(256<<10),
	)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable Parquet file: %w", path, err)
	}
	m = &fileMeta{path: path, size: size, rf: rf, pf: pf}
	m.day, m.hasDay = partitionDay(path)
	if v, ok := pf.Lookup(sortedByKey); ok && v == ColTimestamp {
		m.sorted = true
	}
	m.hashKey, _ = pf.Lookup(HashKeyMetaKey)
	index := make(map[string]int, len(HistoryColumns))
	for i, c := range HistoryColumns {
		index[c] = i
	}
	for _, c := range pf.Root().Columns() {
		hc, ok := index[c.Name()]
		if !ok {
			continue // extra columns are ignored
		}
		m.cols[hc] = bindColumn(path, hc, c)
	}
	md := pf.Metadata()
	ts := m.cols[hcTimestamp]
	for gi := range md.RowGroups {
		rg := &md.RowGroups[gi]
		g := groupMeta{index: gi, rows: rg.NumRows, sorted: m.sorted}
		if ts.present && ts.err == nil {
			if ts.leaf >= len(rg.Columns) {
				return nil, fmt.Errorf("%s: row group %d: %d column chunks, want more than %d", path, gi, len(rg.Columns), ts.leaf)
			}
			g.min, g.max, g.hasStats = timestampStats(&rg.Columns[ts.leaf].MetaData.Statistics, ts)
		}
		if !g.sorted && len(rg.SortingColumns) > 0 {
			sc := rg.SortingColumns[0]
			g.sorted = ts.present && int(sc.ColumnIdx) == ts.leaf && !sc.Descending
		}
		if g.rows == 1 {
			g.sorted = true
		}
		m.groups = append(m.groups, g)
	}
	return m, nil
}

// timestampStats decodes the min/max statistics of a timestamp column
// chunk into micros. INT96 statistics are not trusted (their sort order is
// undefined in the format).
func timestampStats(st *format.Statistics, b colBinding) (min, max int64, ok bool) {
	if b.kind != parquet.Int64 {
		return 0, 0, false
	}
	lo, hi := st.MinValue, st.MaxValue
	if lo == nil || hi == nil {
		lo, hi = st.Min, st.Max // deprecated fields; signed order is right for INT64
	}
	if len(lo) != 8 || len(hi) != 8 {
		return 0, 0, false
	}
	min = b.tsUnit.toMicros(int64(binary.LittleEndian.Uint64(lo)))
	max = b.tsUnit.toMicros(int64(binary.LittleEndian.Uint64(hi)))
	return min, max, min <= max
}

// requireColumns checks that the given contract columns exist with usable
// types; an optional column may be missing (it reads as absent).
func (m *fileMeta) requireColumns(cols []int) error {
	for _, hc := range cols {
		b := &m.cols[hc]
		if b.err != nil {
			return b.err
		}
		if !b.present && !optionalColumn[hc] {
			return &SchemaError{File: m.path, Column: HistoryColumns[hc], Want: contractWant[hc], Got: "missing"}
		}
	}
	return nil
}

// lazyReaderAt is an io.ReaderAt over a file that is opened on demand and
// closed when no scan uses it, so a dataset of many files does not hold
// many descriptors.
type lazyReaderAt struct {
	path  string
	mu    sync.Mutex
	f     *os.File
	users int
}

// acquire opens the file if needed and returns its size.
func (r *lazyReaderAt) acquire() (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		f, err := os.Open(r.path)
		if err != nil {
			return 0, fmt.Errorf("open %s: %w", r.path, err)
		}
		r.f = f
	}
	r.users++
	st, err := r.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", r.path, err)
	}
	return st.Size(), nil
}

// release closes the file when its last user releases it.
func (r *lazyReaderAt) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.users--
	if r.users <= 0 && r.f != nil {
		r.f.Close()
		r.f = nil
		r.users = 0
	}
}

// ReadAt reads from the file, opening it if a reader reads outside an
// acquire/release pair.
func (r *lazyReaderAt) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	f := r.f
	if f == nil {
		var err error
		f, err = os.Open(r.path)
		if err != nil {
			r.mu.Unlock()
			return 0, fmt.Errorf("open %s: %w", r.path, err)
		}
		r.f = f
	}
	r.mu.Unlock()
	return f.ReadAt(p, off)
}
