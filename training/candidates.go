package training

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/gbdt"
	"github.com/failcast/failcast/models/metrics"
	"github.com/failcast/failcast/pipeline"
)

// candidate is one model's validation results.
type candidate struct {
	name       string
	valid      []float64 // P(fail) of every validation row
	summary    metrics.Summary
	recallAtP  float64
	fitSeconds float64
	trainRows  int
	note       string
}

// candidateSet is the GBDT bundle and its competitors.
type candidateSet struct {
	main       *candidate // the GBDT P(fail) model: the challenger
	all        []*candidate
	fail       *gbdt.Model
	family     *gbdt.Model
	familyEval familyEval
	likelyCode map[string]int32 // family name -> most frequent code in training
}

// familyEval is the family model's validation result.
type familyEval struct {
	summary   *metrics.MultiSummary // on failed validation rows, P(family | fail)
	perFamily []familyResult        // one-vs-rest P(family) = P(fail) * P(family | fail) on all validation rows
	pFamily   [][]float64           // P(fail with family f) of every validation row (bundle.CombineFamily), what the calibration's mechanisms split
}

type familyResult struct {
	family        pipeline.Family
	support       int
	prAUC, rocAUC float64
	precision     float64
	recall        float64
}

func (t *trainer) evalCandidate(name string, scores []float64, labels []bool, fit time.Duration, rows int, note string) (*candidate, error) {
	s, err := metrics.ComputeAt(scores, labels, []float64{t.cfg.TargetPrecision}, []float64{t.cfg.AlertBudget})
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", name, err)
	}
	r, _ := metrics.RecallAtPrecision(scores, labels, t.cfg.TargetPrecision)
	t.log.Info("candidate evaluated", "model", name, "valid_pr_auc", round4(s.PRAUC), "valid_roc_auc", round4(s.ROCAUC),
		"log_loss", round4(s.LogLoss), "fit_seconds", math.Round(fit.Seconds()*100)/100, "train_rows", rows)
	return &candidate{name: name, valid: scores, summary: s, recallAtP: r, fitSeconds: fit.Seconds(), trainRows: rows, note: note}, nil
}

// fitCandidates trains the GBDT fail and family models and, with
// --baselines, the baselines, and evaluates each on validation. The fail
// model carries its node cover.
func (t *trainer) fitCandidates(ctx context.Context, s *Tables, bar *bar) (*candidateSet, error) {
	set := &candidateSet{}

	// P(fail): binary GBDT with early stopping on the validation window.
	train := gbdt.Dataset{X: s.TrainX, Y: boolsToY(s.TrainLabels)}
	trainRows, note := s.TrainRows, ""
	if s.Binned != nil {
		train = *s.Binned
	}
	if sp := s.Sampling; sp != nil {
		trainRows = sp.RowsKept
		note = fmt.Sprintf("; successes down-sampled to %.4g, weighted %.4g", sp.SuccessShare, sp.SuccessWeight)
	}
	p := t.gbdtParams()
	p.Objective = gbdt.Binary
	p.StopOnShiftedLoss = true
	valid := t.stoppingSet(s)
	if valid.X.Rows < len(s.Valid) {
		note += fmt.Sprintf("; early stopping on %d of the %d validation rows", valid.X.Rows, len(s.Valid))
	}
	// The error-family model fits beside the failure model: each fit
	// leaves the cores idle part of the time (split search, the
	// validation scores of every round), and neither needs the other
	// until the family model is evaluated.
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		family       *gbdt.Model
		familyScored familyScores
		familyErr    error
		familyDone   = make(chan struct{})
	)
	fitsBegan := time.Now()
	go func() {
		defer close(familyDone)
		valid := familyValid(s)
		if family, familyErr = t.fitFamily(fctx, s, valid); familyErr == nil {
			familyScored, familyErr = scoreFamily(s, family, valid)
		}
	}()
	began := time.Now()
	fail, err := gbdt.Fit(ctx, p, train, &valid)
	if err != nil {
		cancel()
		<-familyDone
		return nil, fmt.Errorf("fit the failure model: %w", err)
	}
	t.log.Info("failure model trained", "rounds_kept", fail.NumRounds(), "best_round", fail.BestIteration()+1, "max_rounds", p.NumRounds,
		"rows", train.X.Rows, "seconds", math.Round(time.Since(began).Seconds()*100)/100)
	set.fail = fail
	// The node cover reasons use: the counts Fit took of the rows it was
	// fitted on as it grew the trees (equal to what SetCoverDataset would
	// count in a pass over them).
	if err := fail.SetFitCover(); err != nil {
		cancel()
		<-familyDone
		return nil, fmt.Errorf("fail model: node cover for reasons: %w", err)
	}
	main, err := t.evalCandidate("gbdt", fail.PredictProba(s.ValidX), s.ValidLabels, time.Since(began), trainRows, fmt.Sprintf("%d rounds kept%s", fail.NumRounds(), note))
	if err != nil {
		cancel()
		<-familyDone
		return nil, err
	}
	set.main = main
	set.all = append(set.all, main)

	// P(family | fail): softmax GBDT on the failed rows.
	bar.step("family model")
	<-familyDone
	if familyErr != nil {
		return nil, familyErr
	}
	set.family, set.familyEval = family, t.evalFamily(s, familyScored, main.valid)
	set.likelyCode = s.LikelyCodes

	if t.cfg.Baselines {
		bar.step("baselines")
		// The baselines may take as long as the production models took.
		budget := time.Since(fitsBegan)
		base, err := t.fitBaselines(ctx, s, budget)
		if err != nil {
			return nil, err
		}
		set.all = append(set.all, base...)
	} else {
		bar.step("baselines (off)")
	}
	return set, nil
}

// maxStoppingRows caps the validation rows the failure model's early
// stopping scores after every round (a seeded uniform sample of them when
// the window holds more). Every validation row is still scored once by
// the kept model: metrics, calibration and thresholds see the whole
// window.
const maxStoppingRows = 500_000

// stoppingSet returns the validation rows early stopping scores: all of
// them, or a seeded uniform sample of t.stoppingRows (maxStoppingRows)
// when there are more.
func (t *trainer) stoppingSet(s *Tables) gbdt.Dataset {
	n := t.stoppingRows
	if n <= 0 {
		n = maxStoppingRows
	}
	rows := SampleRows(indexes(len(s.Valid)), n, t.cfg.Seed^stoppingSampleSeed)
	if len(rows) == len(s.Valid) {
		return gbdt.Dataset{X: s.ValidX, Y: boolsToY(s.ValidLabels)}
	}
	y := make([]float32, len(rows))
	for k, i := range rows {
		if s.ValidLabels[i] {
			y[k] = 1
		}
	}
	t.log.Info("early stopping on a sample of the validation window", "rows", len(rows), "valid_rows", len(s.Valid))
	return gbdt.Dataset{X: s.ValidX.SelectRows(rows), Y: y}
}

// stoppingSampleSeed is mixed into the seed of the early-stopping sample
// (SampleRows draws the baselines' samples with the seed itself).
const stoppingSampleSeed = 0x73746f70 // "stop"

// fitFamily trains the error-family model on the failed training rows,
// with early stopping on the failed validation rows.
func (t *trainer) fitFamily(ctx context.Context, s *Tables, valid *gbdt.Dataset) (*gbdt.Model, error) {
	p := t.gbdtParams()
	p.Objective = gbdt.Softmax
	p.NumClass = pipeline.NumFamilies
	train := gbdt.Dataset{X: s.FamilyX, Y: s.FamilyY, Weight: s.FamilyWeight}
	if valid == nil {
		p.EarlyStoppingRounds = 0
	}
	began := time.Now()
	model, err := gbdt.Fit(ctx, p, train, valid)
	if err != nil {
		return nil, fmt.Errorf("fit the error-family model: %w", err)
	}
	t.log.Info("error-family model trained", "failed_train_rows", s.FamilyX.Rows, "failed_train_rows_all", s.TrainFailures,
		"max_rows_per_family", t.cfg.MaxFamilyRows, "weighted", s.FamilyWeight != nil, "rounds_kept", model.NumRounds(),
		"seconds", math.Round(time.Since(began).Seconds()*100)/100)
	return model, nil
}

// familyValid returns the failed validation rows with their families,
// nil when there are none.
func familyValid(s *Tables) *gbdt.Dataset {
	tab := s.Table
	failedValid := failedRows(tab, s.Valid)
	if len(failedValid) == 0 {
		return nil
	}
	X := models.Matrix{Rows: tab.Rows, Cols: len(tab.Names), Data: tab.X}
	return &gbdt.Dataset{X: X.SelectRows(failedValid), Y: familyY(tab, failedValid)}
}

// familyScores are the error-family model's validation results that do
// not need the failure model: its summary on the failed validation rows
// and its P(family | fail) of every validation row.
type familyScores struct {
	summary *metrics.MultiSummary
	cond    [][]float64 // P(family | fail) of every validation row
}

// scoreFamily scores the error-family model on the validation window: on
// its failed rows (valid, from familyValid) and on all of them. It runs on
// the family model's goroutine, beside the failure model's fit.
func scoreFamily(s *Tables, model *gbdt.Model, valid *gbdt.Dataset) (familyScores, error) {
	var fs familyScores
	if valid != nil {
		tab := s.Table
		failedValid := failedRows(tab, s.Valid)
		probs := flatten(model.PredictProbaMulti(valid.X))
		truth := make([]int, len(failedValid))
		for k, i := range failedValid {
			truth[k] = int(tab.Family[i])
		}
		ms, err := metrics.ComputeMulti(probs, pipeline.NumFamilies, truth, familyNames())
		if err != nil {
			return familyScores{}, fmt.Errorf("evaluate the error-family model: %w", err)
		}
		fs.summary = &ms
	}
	fs.cond = model.PredictProbaMulti(s.ValidX)
	return fs, nil
}

// evalFamily evaluates the error-family model on the validation window:
// its scores (from scoreFamily), and one-vs-rest with the failure model's
// P(fail) (validFail) on every validation row. The families' rankings
// are independent and are computed on up to GOMAXPROCS goroutines.
func (t *trainer) evalFamily(s *Tables, fs familyScores, validFail []float64) familyEval {
	tab := s.Table
	eval := familyEval{summary: fs.summary}
	// One-vs-rest on every validation row with P(family) = P(fail) * P(family | fail).
	pFamily := bundle.CombineFamily(validFail, fs.cond)
	eval.pFamily = pFamily
	results := make([]familyResult, pipeline.NumFamilies)
	eachFamily(func(f int) {
		scores := make([]float64, len(s.Valid))
		labels := make([]bool, len(s.Valid))
		for k, i := range s.Valid {
			scores[k] = pFamily[k][f]
			labels[k] = tab.Failed[i] && int(tab.Family[i]) == f
		}
		support := count(labels)
		if support == 0 {
			return
		}
		r := &results[f]
		*r = familyResult{family: pipeline.Family(f), support: support, precision: math.NaN(), recall: math.NaN()}
		if eval.summary != nil && f < len(eval.summary.PerClass) {
			c := eval.summary.PerClass[f]
			r.precision, r.recall = c.Precision, c.Recall
		}
		r.prAUC, _ = metrics.AveragePrecision(scores, labels)
		r.rocAUC, _ = metrics.ROCAUC(scores, labels)
	})
	for _, r := range results[1:] {
		if r.support > 0 {
			eval.perFamily = append(eval.perFamily, r)
		}
	}
	return eval
}

func failedRows(tab *features.Table, rows []int) []int {
	var out []int
	for _, i := range rows {
		if tab.Failed[i] {
			out = append(out, i)
		}
	}
	return out
}

func familyY(tab *features.Table, rows []int) []float32 {
	y := make([]float32, len(rows))
	for k, i := range rows {
		y[k] = float32(tab.Family[i])
	}
	return y
}

func familyNames() []string {
	names := make([]string, pipeline.NumFamilies)
	for f := range names {
		names[f] = pipeline.Family(f).String()
	}
	return names
}

// likelyCodes returns, per family, the most frequent error code among the
// failed training rows (ties to the smaller code).
func likelyCodes(tab *features.Table, rows []int) map[string]int32 {
	counts := map[pipeline.Family]map[int32]int{}
	for _, i := range rows {
		if !tab.Failed[i] || tab.Code[i] == pipeline.NoErrorCode {
			continue
		}
		f := pipeline.Family(tab.Family[i])
		if counts[f] == nil {
			counts[f] = map[int32]int{}
		}
		counts[f][tab.Code[i]]++
	}
	return likelyFromCounts(counts)
}

// likelyFromCounts returns, per family, its most frequent error code
// (ties to the smaller code).
func likelyFromCounts(counts map[pipeline.Family]map[int32]int) map[string]int32 {
	out := map[string]int32{}
	for f, byCode := range counts {
		codes := make([]int32, 0, len(byCode))
		for c := range byCode {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		best := codes[0]
		for _, c := range codes[1:] {
			if byCode[c] > byCode[best] {
				best = c
			}
		}
		out[f.String()] = best
	}
	return out
}

func boolsToY(b []bool) []float32 {
	y := make([]float32, len(b))
	for i, v := range b {
		if v {
			y[i] = 1
		}
	}
	return y
}

func flatten(rows [][]float64) []float64 {
	if len(rows) == 0 {
		return nil
	}
	out := make([]float64, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// SampleRows returns up to n of rows, drawn without replacement with the
// seed and returned in their original order: the row cap of the
// baselines (Config.BaselineRows, Config.LogRegRows).
func SampleRows(rows []int, n int, seed uint64) []int {
	if len(rows) <= n {
		return rows
	}
	rng := rand.New(rand.NewPCG(seed, 0x6261736531696e65))
	perm := rng.Perm(len(rows))[:n]
	slices.Sort(perm)
	out := make([]int, n)
	for k, j := range perm {
		out[k] = rows[j]
	}
	return out
}
