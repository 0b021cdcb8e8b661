package training

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/internal/mix"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/evaluate"
	"github.com/failcast/failcast/models/gbdt"
	"github.com/failcast/failcast/pipeline"
)

// Defaults of the streamed training set.
const (
	// DefaultMaxTrainRows is the default row target of negative
	// down-sampling (Config.MaxTrainRows): about 7M history events of a
	// sender with an 8% failure rate fit it unsampled.
	DefaultMaxTrainRows = 2_000_000
	// DefaultMaxValidRows is the default cap of the validation rows
	// (Config.MaxValidRows): about three days of a sender with 330k
	// sends a day fit it whole.
	DefaultMaxValidRows = 1_000_000
	// DefaultMaxFamilyRows is the default cap of the error-family
	// model's rows of each family (Config.MaxFamilyRows). A uniform
	// sample of all failed sends lost the rare families at 50M events
	// (1.44M failed sends): validation F1 of auth 0.22 -> 0.12, of
	// transient 0.37 -> 0.24 with 100k rows against 500k. Capped per
	// family, the rare ones keep every row (auth 41k, transient 47k at
	// 50M events) and the model fits on about 240k rows.
	DefaultMaxFamilyRows = 30_000
	// minSuccessShare is the smallest share of successful sends
	// down-sampling keeps, however many failures there are.
	minSuccessShare = 1.0 / 1024
)

// streamSet collects the training set of a run as the feature build
// hands its chunks on: the training window's rows down-sampled and kept
// chunk by chunk as 16-bit codes (never whole as floats; binned once all
// are in, so that the bin edges cover the whole window), a uniform sample of
// them as floats for the baselines, the failed ones (capped) for the
// error-family model, and the validation rows whole.
type streamSet struct {
	cfg     Config
	w       Windows
	params  gbdt.Params // of the failure model: bins
	names   []string
	schema  *arrow.Schema
	mem     memory.Allocator
	maxRows int

	// Training window, all rows.
	rows, failures int
	first, last    int64
	codes          map[pipeline.Family]map[int32]int

	// Down-sampled rows, as codes (gbdt.CodedBuilder).
	share float64
	coded *gbdt.CodedBuilder
	u     []float32 // per kept row: its draw (-1 for a failure, always kept)
	kept  int
	// presampled: the share was estimated from the window's first rows.
	presampled bool
	codedRows  int // rows coded, those dropped since included

	sample reservoir
	family [pipeline.NumFamilies]reservoir // per family: the error-family model's rows

	// Validation window: a uniform sample of its rows, kept while their
	// draw is below validShare (halved while more than maxValid are kept).
	maxValid   int
	validShare float64
	validRows  int               // rows in the validation window
	validParts []*features.Table // the kept rows, in time order
	validU     [][]float32       // their draws, per part
	validKept  int
}

// reservoir is a seeded uniform sample of up to cap rows (Algorithm R).
type reservoir struct {
	cap, seen int
	nf        int
	rng       *rand.Rand
	x         []float32
	label     []uint8
	time      []int64
}

func newReservoir(capacity, nf int, seed, stream uint64) reservoir {
	return reservoir{cap: capacity, nf: nf, rng: rand.New(rand.NewPCG(seed, stream))}
}

// offer shows the reservoir one row.
func (r *reservoir) offer(row []float32, label uint8, ts int64) {
	r.seen++
	if r.cap <= 0 || len(r.label) < r.cap {
		r.x = append(r.x, row...)
		r.label = append(r.label, label)
		r.time = append(r.time, ts)
		return
	}
	if j := r.rng.IntN(r.seen); j < r.cap {
		copy(r.x[j*r.nf:(j+1)*r.nf], row)
		r.label[j] = label
		r.time[j] = ts
	}
}

// backtestTable returns the sampled rows in time order followed by the
// rows of valid, as one table (features and labels only), with the
// indexes of each part: the rows a streamed run's champion backtest
// refits on.
func (r *reservoir) backtestTable(valid *features.Table) (tab *features.Table, train, validRows []int) {
	order := make([]int, len(r.label))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return r.time[order[a]] < r.time[order[b]] })
	n := len(order) + valid.Rows
	tab = &features.Table{Names: valid.Names, Rows: n, X: make([]float32, 0, n*r.nf), Time: make([]int64, 0, n), Failed: make([]bool, 0, n)}
	for _, i := range order {
		tab.X = append(tab.X, r.x[i*r.nf:(i+1)*r.nf]...)
		tab.Time = append(tab.Time, r.time[i])
		tab.Failed = append(tab.Failed, r.label[i] == 1)
	}
	tab.X = append(tab.X, valid.X...)
	tab.Time = append(tab.Time, valid.Time...)
	tab.Failed = append(tab.Failed, valid.Failed...)
	train, validRows = indexes(len(order)), make([]int, valid.Rows)
	for i := range validRows {
		validRows[i] = len(order) + i
	}
	return tab, train, validRows
}

// familySet joins the per-family samples into the error-family model's
// rows: each row's features, its family and its weight, the family's
// rows seen over those kept (1 when the family was not sampled); nil
// weights when no family was.
func familySet(fams []reservoir) (models.Matrix, []float32, []float32) {
	var rows, nf int
	sampled := false
	for _, r := range fams {
		rows += len(r.label)
		nf = max(nf, r.nf)
		sampled = sampled || r.seen > len(r.label)
	}
	x := make([]float32, 0, rows*nf)
	y := make([]float32, 0, rows)
	var w []float32
	if sampled {
		w = make([]float32, 0, rows)
	}
	for _, r := range fams {
		x = append(x, r.x...)
		for _, l := range r.label {
			y = append(y, float32(l))
			if sampled {
				w = append(w, float32(r.seen)/float32(len(r.label)))
			}
		}
	}
	return models.Matrix{Rows: rows, Cols: nf, Data: x}, y, w
}

func (r *reservoir) matrix() models.Matrix {
	return models.Matrix{Rows: len(r.label), Cols: r.nf, Data: r.x}
}

// Reservoir streams (PCG's second word) of the samples.
const (
	baselineSampleStream = 0x626173656c696e65 // "baseline"
	familySampleStream   = 0x66616d696c790000 // "family"
)

// validSampleSeed is mixed into the seed of the validation rows' draws
// (the training rows' draws use the seed itself).
const validSampleSeed = 0x76616c6964000000 // "valid"

func (t *trainer) newStreamSet(w Windows) (*streamSet, error) {
	p := t.gbdtParams()
	names := features.Names()
	coded, err := gbdt.NewCodedBuilder(p, len(names))
	if err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	s := &streamSet{coded: coded,
		cfg: t.cfg, w: w, params: p, names: names, schema: features.TrainingSchema(names), mem: memory.DefaultAllocator,
		maxRows: t.cfg.MaxTrainRows, share: 1, maxValid: t.cfg.MaxValidRows, validShare: 1,
		first: math.MaxInt64, last: math.MinInt64, codes: map[pipeline.Family]map[int32]int{},
		sample: newReservoir(max(t.cfg.LogRegRows, t.cfg.BaselineRows), len(names), t.cfg.Seed, baselineSampleStream),
	}
	for f := range s.family {
		s.family[f] = newReservoir(t.cfg.MaxFamilyRows, len(names), t.cfg.Seed, familySampleStream+uint64(f))
	}
	return s, nil
}

// draw is the uniform [0, 1) draw of the training row with this index:
// a success is kept while its draw is below the share.
func draw(seed uint64, row int) float32 {
	z := mix.Finalize(seed ^ (uint64(row)+1)*mix.Golden)
	return float32(z>>40) / (1 << 24)
}

// add takes one chunk of the feature build, without the rows ruled marks
// (those a deterministic rule decides; nil: none): the set is the one a
// part without them would give.
func (s *streamSet) add(ctx context.Context, part *features.Table, ruled []bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	trainTo, validFrom := s.w.TrainTo.UnixMicro(), s.w.ValidFrom.UnixMicro()
	nf := len(s.names)
	var keep []int32
	var valid []int
	var validU []float32
	for i := range part.Rows {
		if ruled != nil && ruled[i] {
			continue
		}
		ts := part.Time[i]
		switch {
		case ts >= validFrom:
			u := draw(s.cfg.Seed^validSampleSeed, s.validRows)
			s.validRows++
			if u < float32(s.validShare) {
				valid = append(valid, i)
				validU = append(validU, u)
			}
			continue
		case ts >= trainTo: // the gap
			continue
		}
		g := s.rows
		s.rows++
		s.first, s.last = min(s.first, ts), max(s.last, ts)
		row := part.X[i*nf : (i+1)*nf]
		failed := part.Failed[i]
		var label uint8
		if failed {
			label = 1
		}
		// A uniform sample of the training window, before down-sampling:
		// the baselines train on it and the drift reference is fitted on it.
		s.sample.offer(row, label, ts)
		if !failed {
			if u := draw(s.cfg.Seed, g); u < float32(s.share) {
				keep = append(keep, int32(i))
				s.u = append(s.u, u)
			}
			continue
		}
		s.failures++
		keep = append(keep, int32(i))
		s.u = append(s.u, -1)
		fam := pipeline.Family(part.Family[i])
		s.family[fam].offer(row, uint8(fam), ts)
		if code := part.Code[i]; code != pipeline.NoErrorCode {
			if s.codes[fam] == nil {
				s.codes[fam] = map[int32]int{}
			}
			s.codes[fam][code]++
		}
	}
	if len(valid) > 0 {
		s.validParts = append(s.validParts, part.SelectRows(valid))
		s.validU = append(s.validU, validU)
		s.validKept += len(valid)
		s.tightenValid()
	}
	if len(keep) == 0 {
		return nil
	}
	// The kept rows go on as an Arrow record batch, whose float columns
	// are coded at once.
	rec, err := part.TrainingRecord(s.mem, s.schema, keep)
	if err != nil {
		return err
	}
	s.kept += len(keep)
	err = s.code(rec)
	rec.Release()
	if err != nil {
		return err
	}
	s.presample()
	s.tighten()
	return nil
}

// presampleAfter is the share of the training window whose rows the
// set has seen when it estimates the share of successes the whole window
// will keep (presample).
const presampleAfter = 8 // 1/8

// presample, once an eighth of the training window has been seen,
// extrapolates the window's rows and failures from it and lowers the
// share of successes kept to twice the share they need: rows that a
// later halving would drop are then never coded. The
// kept rows are those of the final share either way, unless the window's
// first eighth had more than twice its share of the sends (then fewer
// rows than --max-train-rows are kept, still a uniform sample of the
// successes, weighted back).
func (s *streamSet) presample() {
	if s.presampled || s.maxRows <= 0 || s.rows == 0 {
		return
	}
	window := float64(s.w.TrainTo.UnixMicro() - s.first)
	seen := float64(s.last - s.first)
	if window <= 0 || seen < window/presampleAfter {
		return
	}
	s.presampled = true
	scale := window / max(seen, 1)
	failures := float64(s.failures) * scale
	successes := float64(s.rows-s.failures) * scale
	share := 1.0
	for failures+share*successes > float64(s.maxRows) && share/2 >= minSuccessShare {
		share /= 2
	}
	if share = min(1, 2*share); share < s.share {
		s.filter(share)
	}
}

// tighten halves the share of successes kept while the rows kept exceed
// the target, dropping the kept successes whose draw is no longer below
// it: what is left is what sampling at the final share from the start
// would have kept.
func (s *streamSet) tighten() {
	if s.maxRows <= 0 || s.kept <= s.maxRows {
		return
	}
	share := s.share
	kept := s.kept
	for kept > s.maxRows && share/2 >= minSuccessShare {
		share /= 2
		kept = 0
		for _, u := range s.u {
			if u < float32(share) {
				kept++
			}
		}
	}
	if share < s.share {
		s.filter(share)
	}
}

// filter lowers the share of successes kept to share, dropping the kept
// successes whose draw is not below it.
func (s *streamSet) filter(share float64) {
	s.share = share
	u := s.u
	n := s.coded.Filter(func(k int) bool { return u[k] < float32(share) })
	j := 0
	for _, v := range u {
		if v < float32(share) {
			u[j] = v
			j++
		}
	}
	s.u = u[:j]
	s.kept = n
}

// tightenValid halves the share of validation rows kept while more than
// maxValid are kept, dropping the rows whose draw is no longer below it:
// what is left is a uniform sample, the rows sampling at the final share
// from the start would have kept.
func (s *streamSet) tightenValid() {
	if s.maxValid <= 0 || s.validKept <= s.maxValid {
		return
	}
	share := s.validShare
	for s.validKept > s.maxValid {
		share /= 2
		s.validKept = 0
		for _, us := range s.validU {
			for _, u := range us {
				if u < float32(share) {
					s.validKept++
				}
			}
		}
	}
	s.validShare = share
	parts, draws := s.validParts[:0], s.validU[:0]
	for k, part := range s.validParts {
		var rows []int
		var us []float32
		for i, u := range s.validU[k] {
			if u < float32(share) {
				rows = append(rows, i)
				us = append(us, u)
			}
		}
		if len(rows) == 0 {
			continue
		}
		if len(rows) < part.Rows {
			part = part.SelectRows(rows)
		}
		parts, draws = append(parts, part), append(draws, us)
	}
	clear(s.validParts[len(parts):])
	s.validParts, s.validU = parts, draws
}

// code appends the rows of a training record to the coded set.
func (s *streamSet) code(rec arrow.Record) error {
	failed := rec.Column(1).(*array.Boolean)
	s.codedRows += int(rec.NumRows())
	y := make([]float32, rec.NumRows())
	for i := range y {
		if failed.Value(i) {
			y[i] = 1
		}
	}
	return s.coded.AppendColumns(featureColumns(rec), nil, y)
}

// featureColumns returns the feature columns of a training record: its
// float32 values, not copied.
func featureColumns(rec arrow.Record) [][]float32 {
	nf := int(rec.NumCols()) - features.TrainingFeatureCol
	cols := make([][]float32, nf)
	for j := range cols {
		cols[j] = rec.Column(features.TrainingFeatureCol + j).(*array.Float32).Float32Values()
	}
	return cols
}

// finish returns the Tables of the run: the validation rows whole, the
// training rows as the binned, down-sampled set, its bin edges computed
// from every row kept.
func (s *streamSet) finish(ctx context.Context) (*Tables, error) {
	valid := features.ConcatTables(s.validParts)
	s.validParts, s.validU = nil, nil
	if s.rows == 0 || valid.Rows == 0 {
		return nil, exitcode.AsInput(fmt.Errorf("time split at %s: %w: %d training rows before %s (gap %v), %d validation rows from %s on",
			evaluate.FormatMicros(s.w.ValidFrom.UnixMicro()), evaluate.ErrEmptySide, s.rows, evaluate.FormatMicros(s.w.TrainTo.UnixMicro()),
			s.w.Gap, valid.Rows, evaluate.FormatMicros(s.w.ValidFrom.UnixMicro())))
	}
	weight := make([]float32, len(s.u))
	for k, u := range s.u {
		weight[k] = 1
		if u >= 0 {
			weight[k] = float32(1 / s.share)
		}
	}
	ds, err := s.coded.Dataset(ctx, weight)
	if err != nil {
		return nil, fmt.Errorf("training: binning the training rows: %w", err)
	}
	s.coded, s.u = nil, nil

	tabs := &Tables{Windows: s.w, Table: valid, Valid: indexes(valid.Rows)}
	tabs.ValidX = models.Matrix{Rows: valid.Rows, Cols: len(valid.Names), Data: valid.X}
	tabs.ValidLabels = valid.Failed
	tabs.ValidFailures = count(valid.Failed)
	tabs.TrainRows, tabs.TrainFailures = s.rows, s.failures
	tabs.TrainFrom, tabs.TrainLast = s.first, s.last
	tabs.Binned = &ds
	if s.validShare < 1 {
		tabs.ValidSampling = &ValidSampling{Share: s.validShare, MaxRows: s.maxValid, RowsBefore: s.validRows, RowsKept: valid.Rows}
	}
	if s.share < 1 {
		tabs.Sampling = &artifact.Sampling{SuccessShare: s.share, SuccessWeight: 1 / s.share, MaxRows: s.maxRows,
			RowsBefore: s.rows, RowsKept: ds.X.Rows, FailuresKept: s.failures}
	}
	tabs.Sample = s.sample.matrix()
	sample := s.sample
	tabs.buildBacktest = func() (*features.Table, []int, []int) { return sample.backtestTable(valid) }
	tabs.SampleLabels = make([]bool, len(s.sample.label))
	for i, l := range s.sample.label {
		tabs.SampleLabels[i] = l == 1
	}
	tabs.FamilyX, tabs.FamilyY, tabs.FamilyWeight = familySet(s.family[:])
	clear(s.family[:])
	tabs.LikelyCodes = likelyFromCounts(s.codes)
	return tabs, nil
}
