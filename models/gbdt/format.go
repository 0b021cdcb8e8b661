package gbdt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"runtime"

	"github.com/failcast/failcast/internal/atomicfile"
	"github.com/failcast/failcast/internal/boundedread"
)

// The model file format is documented in docs/model-format.md; keep the
// two in step and bump FormatVersion on any layout change.
const (
	// Magic opens every model file.
	Magic = "FCGBDT\r\n"
	// FormatVersion is the layout version this package writes. Read also
	// reads version 1 (version 2 without the cover section).
	FormatVersion = 2
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func crc32Of(b []byte) uint32 { return crc32.Checksum(b, crcTable) }

// headerLen is magic plus version; trailerLen is the CRC-32C.
const (
	headerLen  = len(Magic) + 4
	trailerLen = 4
)

// WriteTo writes the model in the binary model format. Equal models give
// identical bytes.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	b := m.appendBinary(nil)
	n, err := w.Write(b)
	if err != nil {
		return int64(n), fmt.Errorf("gbdt: write model: %w", err)
	}
	return int64(n), nil
}

// MarshalBinary returns the model in the binary model format.
func (m *Model) MarshalBinary() ([]byte, error) { return m.appendBinary(nil), nil }

func (m *Model) appendBinary(b []byte) []byte {
	le := binary.LittleEndian
	u32 := func(v int) { b = le.AppendUint32(b, uint32(v)) }
	u64 := func(v uint64) { b = le.AppendUint64(b, v) }
	f64 := func(v float64) { b = le.AppendUint64(b, math.Float64bits(v)) }

	b = append(b, Magic...)
	u32(FormatVersion)
	p := m.params
	u32(int(p.Objective))
	u32(p.numLabels())
	u32(m.numFeatures)
	u32(m.NumRounds())
	u32(m.bestIteration)
	for _, v := range m.baseScore {
		f64(v)
	}
	u32(p.NumRounds)
	u32(p.MaxDepth)
	u32(p.MaxLeaves)
	u32(p.MaxBins)
	u64(uint64(p.BinSampleRows))
	u32(p.EarlyStoppingRounds)
	f64(p.LearningRate)
	f64(p.Lambda)
	f64(p.MinChildWeight)
	f64(p.MinSplitGain)
	f64(p.Subsample)
	f64(p.ColSampleByTree)
	u64(p.Seed)
	u32(len(p.ClassWeights))
	for _, v := range p.ClassWeights {
		f64(v)
	}
	u32(len(m.trees))
	for i := range m.trees {
		t := &m.trees[i]
		u32(t.numNodes())
		for _, v := range t.feature {
			u32(int(v))
		}
		for _, v := range t.threshold {
			b = le.AppendUint32(b, math.Float32bits(v))
		}
		for _, v := range t.left {
			u32(int(v))
		}
		for _, v := range t.right {
			u32(int(v))
		}
		for _, v := range t.value {
			f64(v)
		}
		for _, v := range t.gain {
			f64(v)
		}
	}
	b = m.appendCover(b)
	return le.AppendUint32(b, crc32Of(b))
}

// MaxModelBytes caps what Read and ReadFile read: 1 GiB, far above any
// model this package trains (a 1,000-tree, 255-leaf model is ~20 MB).
const MaxModelBytes = 1 << 30

// Read reads a model written by WriteTo. It rejects data that is not a
// model file, has another format version, fails its checksum (corrupt or
// truncated) or describes an inconsistent model.
func Read(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(boundedread.Limit(r, MaxModelBytes, "gbdt model"))
	if err != nil {
		return nil, fmt.Errorf("gbdt: read model: %w", err)
	}
	return parseModel(data)
}

// parseModel checks the magic, version and checksum of a whole model
// file, then decodes it.
func parseModel(data []byte) (*Model, error) {
	if len(data) < len(Magic) || string(data[:len(Magic)]) != Magic {
		return nil, fmt.Errorf("gbdt: read model: not a gbdt model file or truncated before its magic (want %q at the start)", Magic)
	}
	if len(data) < headerLen+trailerLen {
		return nil, fmt.Errorf("gbdt: read model: file is %d bytes, too short for a model (truncated?)", len(data))
	}
	version := binary.LittleEndian.Uint32(data[len(Magic):])
	if version != 1 && version != FormatVersion {
		return nil, fmt.Errorf("gbdt: read model: format version %d, this reader supports versions 1 and %d", version, FormatVersion)
	}
	body := data[:len(data)-trailerLen]
	want := binary.LittleEndian.Uint32(data[len(data)-trailerLen:])
	if got := crc32Of(body); got != want {
		return nil, fmt.Errorf("gbdt: read model: checksum mismatch (stored %08x, computed %08x): file corrupt or truncated", want, got)
	}
	m, err := parseBody(body[headerLen:], version)
	if err != nil {
		return nil, fmt.Errorf("gbdt: read model: %w", err)
	}
	return m, nil
}

// reader is a bounds-checked little-endian cursor.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.off < n {
		r.err = fmt.Errorf("body ends at byte %d while reading %s", len(r.b)+headerLen, what)
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) u32(what string) uint32 {
	if s := r.take(4, what); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (r *reader) u64(what string) uint64 {
	if s := r.take(8, what); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

func (r *reader) f64(what string) float64 { return math.Float64frombits(r.u64(what)) }

// count reads a count and checks that count items of size bytes fit in
// what is left, so corrupt counts cannot cause huge allocations.
func (r *reader) count(size int, what string) int {
	v := r.u32(what)
	if r.err == nil && uint64(v)*uint64(size) > uint64(len(r.b)-r.off) {
		r.err = fmt.Errorf("%s is %d, more than the %d bytes left hold", what, v, len(r.b)-r.off)
		return 0
	}
	return int(v)
}

// maxFormatInt bounds integer fields that become ints.
const maxFormatInt = math.MaxInt32

// parseBody decodes the body (between header and checksum) of a file of
// the given format version.
func parseBody(b []byte, version uint32) (*Model, error) {
	r := &reader{b: b}
	m := &Model{workers: runtime.GOMAXPROCS(0)}
	p := &m.params
	p.Objective = Objective(r.u32("objective"))
	numClass := int(r.u32("class count"))
	m.numFeatures = int(r.u32("feature count"))
	rounds := int(r.u32("round count"))
	m.bestIteration = int(r.u32("best iteration"))
	if r.err != nil {
		return nil, r.err
	}
	switch p.Objective {
	case Binary:
		if numClass != 2 {
			return nil, fmt.Errorf("binary model with %d classes, want 2", numClass)
		}
		m.numOutputs = 1
	case Softmax:
		if numClass < 2 || numClass > maxFormatInt {
			return nil, fmt.Errorf("softmax model with %d classes, want >= 2", numClass)
		}
		p.NumClass = numClass
		m.numOutputs = numClass
	default:
		return nil, fmt.Errorf("unknown objective %d", int(p.Objective))
	}
	if m.numFeatures < 1 || m.numFeatures > maxFormatInt {
		return nil, fmt.Errorf("feature count %d, want >= 1", m.numFeatures)
	}
	if rounds < 1 || m.bestIteration != rounds-1 {
		return nil, fmt.Errorf("%d rounds with best iteration %d, want best iteration = rounds-1 >= 0", rounds, m.bestIteration)
	}
	if uint64(m.numOutputs)*8 > uint64(len(b)) {
		return nil, fmt.Errorf("%d base scores do not fit in the file", m.numOutputs)
	}
	m.baseScore = make([]float64, m.numOutputs)
	for c := range m.baseScore {
		m.baseScore[c] = r.f64("base score")
	}
	p.NumRounds = int(r.u32("params.NumRounds"))
	p.MaxDepth = int(r.u32("params.MaxDepth"))
	p.MaxLeaves = int(r.u32("params.MaxLeaves"))
	p.MaxBins = int(r.u32("params.MaxBins"))
	binRows := r.u64("params.BinSampleRows")
	if binRows > maxFormatInt {
		return nil, fmt.Errorf("params.BinSampleRows is %d, too large", binRows)
	}
	p.BinSampleRows = int(binRows)
	p.EarlyStoppingRounds = int(r.u32("params.EarlyStoppingRounds"))
	p.LearningRate = r.f64("params.LearningRate")
	p.Lambda = r.f64("params.Lambda")
	p.MinChildWeight = r.f64("params.MinChildWeight")
	p.MinSplitGain = r.f64("params.MinSplitGain")
	p.Subsample = r.f64("params.Subsample")
	p.ColSampleByTree = r.f64("params.ColSampleByTree")
	p.Seed = r.u64("params.Seed")
	if n := r.count(8, "class weight count"); n > 0 {
		p.ClassWeights = make([]float64, n)
		for c := range p.ClassWeights {
			p.ClassWeights[c] = r.f64("class weight")
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("stored %w", err)
	}
	if rounds > p.NumRounds {
		return nil, fmt.Errorf("%d rounds kept, more than the %d trained", rounds, p.NumRounds)
	}

	numTrees := r.count(4, "tree count")
	if r.err == nil && numTrees != rounds*m.numOutputs {
		return nil, fmt.Errorf("%d trees, want %d rounds x %d outputs", numTrees, rounds, m.numOutputs)
	}
	m.trees = make([]tree, numTrees)
	for i := range m.trees {
		if err := readTree(r, &m.trees[i], m.numFeatures); err != nil {
			return nil, fmt.Errorf("tree %d: %w", i, err)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if version >= 2 {
		if err := readCover(r, m.trees); err != nil {
			return nil, err
		}
	}
	if r.off != len(b) {
		return nil, fmt.Errorf("%d unexpected bytes after the last tree", len(b)-r.off)
	}
	if err := m.checkFinite(); err != nil {
		return nil, err
	}
	m.forest = packForest(m.trees)
	return m, nil
}

// nodeBytes is the encoded size of one node across the six arrays.
const nodeBytes = 4 + 4 + 4 + 4 + 8 + 8

func readTree(r *reader, t *tree, numFeatures int) error {
	n := r.count(nodeBytes, "node count")
	if r.err != nil {
		return r.err
	}
	if n < 1 {
		return errors.New("no nodes")
	}
	t.feature = make([]int32, n)
	t.threshold = make([]float32, n)
	t.left = make([]int32, n)
	t.right = make([]int32, n)
	t.value = make([]float64, n)
	t.gain = make([]float64, n)
	for i := range t.feature {
		t.feature[i] = int32(r.u32("feature"))
	}
	for i := range t.threshold {
		t.threshold[i] = math.Float32frombits(r.u32("threshold"))
	}
	for i := range t.left {
		t.left[i] = int32(r.u32("left child"))
	}
	for i := range t.right {
		t.right[i] = int32(r.u32("right child"))
	}
	for i := range t.value {
		t.value[i] = r.f64("value")
	}
	for i := range t.gain {
		t.gain[i] = r.f64("gain")
	}
	if r.err != nil {
		return r.err
	}
	for i := 0; i < n; i++ {
		f, l, rt := t.feature[i], t.left[i], t.right[i]
		if l == -1 && rt == -1 && f == -1 {
			continue
		}
		// Children come after their parent, so walks always end, and are
		// adjacent (right = left+1), which the prediction layout relies on.
		if l <= int32(i) || int(l) >= n-1 || rt != l+1 {
			return fmt.Errorf("node %d has children %d and %d, want adjacent nodes after it (or -1, -1 for a leaf)", i, l, rt)
		}
		if f < 0 || int(f) >= numFeatures {
			return fmt.Errorf("node %d splits on feature %d, want 0..%d", i, f, numFeatures-1)
		}
		if th := t.threshold[i]; th != th {
			return fmt.Errorf("node %d has a NaN threshold", i)
		}
	}
	return nil
}

// WriteFile writes the model to path atomically: it writes a temporary
// file in the same directory and renames it, so a failed write leaves an
// earlier file at path untouched.
func (m *Model) WriteFile(path string) error {
	if err := atomicfile.WriteBytes(path, m.appendBinary(nil)); err != nil {
		return fmt.Errorf("gbdt: %w", err)
	}
	return nil
}

// ReadFile reads a model file written by WriteFile or WriteTo. It refuses
// a path that is not a regular file (a device, a FIFO) and a file larger
// than MaxModelBytes before reading it.
func ReadFile(path string) (*Model, error) {
	data, err := boundedread.ReadFile(path, MaxModelBytes)
	if err != nil {
		return nil, fmt.Errorf("gbdt: %w", err)
	}
	m, err := parseModel(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return m, nil
}
