package scoring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/internal/cputime"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/plans"
)

// The files a run writes to Config.Out.
const (
	PredictionsFile = "predictions.csv"
	CampaignsFile   = "campaigns.csv"
	RejectedFile    = "rejected_rows.csv"
	EvaluationFile  = "evaluation.json"
)

// Result is what a run did: the counts and aggregates of its summary.
type Result struct {
	Model            string    // version of the model used
	AsOf             time.Time // Config.AsOf
	Out              string    // Config.Out
	Sends            int       // planned sends scored
	Rejected         int       // plan rows rejected (listed in rejected_rows.csv)
	Stale            int       // sends scored with stale features
	ExpectedFailures float64   // sum of P(fail) over the scored sends
	Totals           Totals
	Campaigns        []*Campaign // by expected failures, descending
	Evaluation       *Evaluation // with Config.Outcomes, else nil
	Warnings         []string    // what the run noticed in its inputs without stopping (unused plan columns)
	// RecipientsFound of RecipientsChecked scored sends go to recipients
	// the history has an outcome of (sends are checked when the model's
	// features include recipient_last_outcome_family); below
	// MinKnownRecipientShare the run warns.
	RecipientsFound, RecipientsChecked int
	Elapsed                            time.Duration

	Drift *DriftReport // the plan's features against the model's training distributions
}

// maxRejectsInError is how many rejected rows a failing run names.
const maxRejectsInError = 5

// Run scores the plans of cfg: it loads the model, folds the history
// before cfg.AsOf into the feature state, streams the plan's valid rows
// in time order through features, the models and the action policy, and
// writes predictions.csv, campaigns.csv, rejected_rows.csv (and
// evaluation.json with cfg.Outcomes) to cfg.Out. The outputs are
// committed together only when everything succeeded, by switching a new
// directory into cfg.Out's place (OutputDir): a failed, cancelled or
// killed run leaves the earlier outputs as they were, and an earlier
// run's evaluation.json never sits beside other predictions.
//
// Errors carry their exit class (package exitcode): Usage for a Config
// that fails Validate; Input for a plan, history, outcomes or token file
// that cannot be read, a bad plan row with FailOnBadRows, an unsorted plan
// with RequireSorted, a hash key that does not match the history's, and a
// model that is missing or does not match this build's features; Locked
// when another run writes cfg.Out; anything else is internal.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	o, log := cfg, cfg.logger()
	res := &Result{}
	m, err := loadModel(o.Registry, o.Model, log)
	if err != nil {
		return nil, err
	}
	if err := m.prepareExtras(o, log); err != nil {
		return nil, err
	}
	asOf := o.AsOf.UnixMicro()
	out, err := NewOutputDir(o.Out, log)
	if err != nil {
		return nil, err
	}
	defer out.Abort() // no-op after Commit

	// History -> feature state as of --as-of, built on its own goroutine
	// while the first pass reads the plans.
	ds, err := pipeline.OpenDataset(o.History)
	if err != nil {
		return nil, exitcode.Inputf("history: %w", err)
	}
	historyEnd := int64(math.MaxInt64) // unknown: the state cache is not used
	if lo, hi, rows, err := ds.TimeRange(ctx); err == nil {
		historyEnd = hi
		log.Info("history", "dataset", o.History, "events", rows, "from", FormatTime(lo), "to", FormatTime(hi))
		if gap := time.Duration(asOf-hi) * time.Microsecond; gap > m.cfg.Lead+m.cfg.Refresh {
			log.Warn("history ends long before the as-of time: features miss the most recent outcomes", "history_end", FormatTime(hi), "gap", gap.Round(time.Minute).String())
		}
	}
	var cache *stateCache
	if o.StateCache != "" {
		if cache, err = newStateCache(o.StateCache, ds, m.cfg, historyEnd, asOf, log); err != nil {
			return nil, err
		}
	}
	foldCtx, cancelFold := context.WithCancel(ctx)
	type folded struct {
		fs  *features.Scorer
		err error
	}
	foldDone := make(chan folded, 1)
	go func() {
		t0 := time.Now()
		fs, err := foldOrLoad(foldCtx, ds, m.cfg, asOf, cache)
		if err == nil {
			log.Info("feature state built", "as_of", o.AsOf.Format(time.RFC3339), "seconds", time.Since(t0).Seconds())
		}
		foldDone <- folded{fs, err}
	}()
	var (
		foldOnce sync.Once
		fold     folded
		foldAt   time.Time // when the feature state was ready
		foldCPU  float64   // the process's CPU seconds then
	)
	waitFold := func() (*features.Scorer, error) {
		foldOnce.Do(func() { fold = <-foldDone; foldAt, foldCPU = time.Now(), cputime.Seconds() })
		if fold.err != nil {
			return nil, classify(ctx, fmt.Errorf("history %s: %w", o.History, fold.err))
		}
		return fold.fs, nil
	}
	// On an early return, stop the fold and wait for it.
	defer func() {
		cancelFold()
		waitFold()
	}()

	// First pass: validate every plan row once.
	rw, err := createRejected(out)
	if err != nil {
		return nil, err
	}
	var firstRejects []string
	reject := func(e pipeline.RowError) error {
		r := Rejected{File: e.File, Row: e.Row, Column: e.Column, Reason: errText(e.Err)}
		msg := fmt.Sprintf("%s: row %d", r.File, r.Row)
		if r.Column != "" {
			msg += ": column " + r.Column
		}
		msg += ": " + r.Reason
		if o.BadRows == FailOnBadRows {
			return exitcode.Inputf("bad plan row (--bad-rows fail): %s", msg)
		}
		if len(firstRejects) < maxRejectsInError {
			firstRejects = append(firstRejects, msg)
		}
		return rw.Write(r)
	}
	planOpts, err := o.planOptions(func(w string) {
		res.Warnings = append(res.Warnings, w)
		log.Warn(w)
	})
	if err != nil {
		return nil, err
	}

	p, err := plans.SurveyWith(ctx, o.Plans, planOpts, asOf, o.BatchSize, reject)
	if err != nil {
		return nil, err
	}
	valid, rejected, unhashed := p.Counts()
	if m.drift != nil {
		m.drift.SetShare(DriftShare(valid))
	}
	if rejected > 0 {
		log.Warn("plan rows rejected", "rows", rejected, "file", out.Path(RejectedFile), "first", firstRejects[0])
	}
	if valid == 0 {
		return nil, exitcode.Inputf("no plan row can be scored (%d rejected): %s", rejected, strings.Join(firstRejects, "; "))
	}
	if !p.Sorted() {
		if o.RequireSorted {
			return nil, exitcode.Inputf("plan %s is not in scheduled_at order (--require-sorted): sort it or drop --require-sorted", p.UnsortedFile())
		}
		log.Info("plan is not in scheduled_at order: sorting it in memory", "file", p.UnsortedFile(), "sends", valid,
			"approx_mb", valid*300>>20)
	}
	rekey, err := recipientKeying(ds, o, unhashed, log)
	if err != nil {
		return nil, err
	}

	tokenExpiry, err := readTokenExpiries(o, asOf, log)
	if err != nil {
		return nil, err
	}

	var evaluator *Evaluator
	if o.Outcomes != "" {
		outcomes, err := readOutcomes(ctx, o, p, rekey, log)
		if err != nil {
			return nil, err
		}
		evaluator = NewEvaluator(outcomes)
	}

	sc, err := NewScorer(ScorerConfig{
		Thresholds: m.thresholds, LikelyCodes: m.likelyCodes, ModelVersion: m.version,
		AsOf: asOf, Explore: o.Explore, Seed: o.Seed, ThroughputMPS: o.ThroughputMPS, TokenExpiry: tokenExpiry,
		Calibration: m.Calibration,
	})
	if err != nil {
		return nil, err
	}
	pwOut, err := out.Create(PredictionsFile)
	if err != nil {
		return nil, err
	}
	pw, err := NewPredictionWriter(pwOut, m.version)
	if err != nil {
		return nil, err
	}
	camps := NewCampaigns(o.ThroughputMPS, o.ThrottleSafety)
	var known recipientCounter
	sink := func(preds []Prediction) error {
		if err := pw.Write(preds); err != nil {
			return err
		}
		camps.Add(preds)
		known.add(preds)
		if evaluator != nil {
			evaluator.Add(preds)
		}
		return nil
	}
	t1, cpu1 := time.Now(), cputime.Seconds()
	if err := scorePlans(ctx, p.StreamOnce, o.BatchSize, waitFold, m, sc, rekey, sink); err != nil {
		return nil, err
	}
	if err := pw.Flush(); err != nil {
		return nil, err
	}
	res.Model, res.AsOf, res.Out, res.Rejected = m.version, o.AsOf, o.Out, rejected
	res.Totals = camps.Totals()
	res.RecipientsChecked, res.RecipientsFound = known.checked, known.found
	known.warn(log, o)
	res.Sends, res.Stale = res.Totals.Sends, res.Totals.Stale
	// The plan's own time: from when both the plan stream and the
	// feature state were ready (the fold's wait is "feature state built");
	// its CPU seconds (user+system of the whole process, 0 where not
	// measured) from then on are the plan's alone, a figure less at the
	// mercy of a busy machine than the seconds.
	planSeconds := time.Since(latest(t1, foldAt)).Seconds()
	planCPU := cputime.Seconds() - cpu1
	if foldAt.After(t1) {
		planCPU += cpu1 - foldCPU
	}
	log.Info("plan scored", "sends", res.Sends, "seconds", planSeconds,
		"sends_per_second", float64(res.Sends)/max(planSeconds, 1e-9), "cpu_seconds", planCPU)
	if res.Stale > 0 {
		log.Warn("sends further ahead than the model was trained for were scored with the features as of --as-of (stale_features=true)",
			"sends", res.Stale, "max_horizon", m.cfg.MaxHorizon().String(), "as_of", o.AsOf.Format(time.RFC3339))
	}

	res.Campaigns = camps.List()
	for _, c := range res.Campaigns {
		res.ExpectedFailures += c.ExpectedFailures
	}
	cw, err := out.Create(CampaignsFile)
	if err != nil {
		return nil, err
	}
	if err := WriteCampaigns(cw, res.Campaigns, m.version); err != nil {
		return nil, err
	}
	if err := rw.Flush(); err != nil {
		return nil, err
	}
	if err := res.writeDrift(out, m, log); err != nil {
		return nil, err
	}
	if evaluator != nil {
		ev := evaluator.Result()
		res.Evaluation = &ev
		ew, err := out.Create(EvaluationFile)
		if err != nil {
			return nil, err
		}
		if err := ev.WriteJSON(ew); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := out.Commit(); err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	log.Info("outputs written", "predictions", out.Path(PredictionsFile), "campaigns", out.Path(CampaignsFile),
		"rejected_rows", out.Path(RejectedFile), "seconds", res.Elapsed.Seconds())
	return res, nil
}

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// readTokenExpiries reads Config.Tokens (nil without one): each WABA's
// token expiry.
func readTokenExpiries(o Config, asOf int64, log *slog.Logger) (map[string]int64, error) {
	if o.Tokens == "" {
		return nil, nil
	}
	tokens, err := pipeline.ReadTokenExpiries(o.Tokens)
	if err != nil {
		return nil, exitcode.Inputf("tokens: %w", err)
	}
	tokenExpiry := make(map[string]int64, len(tokens))
	expired := 0
	for _, tk := range tokens {
		tokenExpiry[tk.WABAID] = tk.ExpiresAt
		if tk.ExpiresAt != pipeline.TokenNeverExpires && tk.ExpiresAt <= asOf {
			expired++
		}
	}
	log.Info("token inventory", "file", o.Tokens, "wabas", len(tokens), "expired_at_as_of", expired)
	return tokenExpiry, nil
}

func createRejected(out *OutputDir) (*RejectedWriter, error) {
	w, err := out.Create(RejectedFile)
	if err != nil {
		return nil, err
	}
	return NewRejectedWriter(w)
}

// errText is the reason of a rejected row: the error without the file and
// row prefix RowError adds (they have their own columns).
func errText(err error) string {
	var re pipeline.RowError
	if errors.As(err, &re) {
		return errText(re.Err)
	}
	return err.Error()
}

// classify marks errors of reading inputs as input errors (exit 3), except
// an interrupted run and errors already classified.
func classify(ctx context.Context, err error) error {
	var ce *exitcode.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted: %w", err)
	}
	return exitcode.AsInput(err)
}

// batchJob is a batch of planned sends with its features, between the
// feature stage and the model stage, and with the models' outputs
// (pFail, pFamily in scratch) between the model stage and the policy
// stage.
type batchJob struct {
	sends   []pipeline.PlannedSend
	tab     *features.Table
	scratch *bundle.Scratch
	pFail   []float64
	pFamily [][]float64
}

// scoredBatch is a batch's predictions on their way to the sink.
type scoredBatch struct {
	sends []pipeline.PlannedSend
	preds []Prediction
}

// scorePlans streams the plans through five stages, each on its own
// goroutine and in plan order: reading (stream, on the calling
// goroutine: batches of at most batchSize sends), features (fsReady's
// feature state, which it waits for; rekeying raw recipients, see
// recipientKeying, then fs.NextFeatures: the feature state is
// sequential), the models (predictModels, which spreads rows over the
// cores), the policy (applyPolicy: drift, the Scorer, whose tier ledger
// is sequential, and reasons), and sink (CSV writing and aggregation).
// The models and the policy were one stage, the longest of the chain
// (about 2 s of a 1M-send plan's 5 CPU s, of which GBDT prediction
// runs on both cores): split, the stages on the chain are closer in
// length and two cores stay busy. A failure in any stage stops the
// others; the first error is returned.
func scorePlans(ctx context.Context, stream func(context.Context, func([]pipeline.PlannedSend) error) error, batchSize int,
	fsReady func() (*features.Scorer, error), m *model, sc *Scorer,
	rekey func(string) string, sink func([]Prediction) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	const depth = 2 // batches waiting between two stages
	// Send buffers circulate: reader -> features -> models -> policy ->
	// sink -> reader; the models' scratch buffers from models to policy.
	const buffers = 4*depth + 4
	free := make(chan []pipeline.PlannedSend, buffers)
	for range buffers {
		free <- make([]pipeline.PlannedSend, 0, batchSize)
	}
	freePreds := make(chan []Prediction, buffers)
	freeScratch := make(chan *bundle.Scratch, buffers)
	read := make(chan []pipeline.PlannedSend, depth)
	jobs := make(chan batchJob, depth)
	predicted := make(chan batchJob, depth)
	scored := make(chan scoredBatch, depth)
	fail := func(err error) { cancel(err) }

	var fs *features.Scorer // set by the features stage before its first job
	featuresDone := make(chan struct{})
	go func() { // features
		defer close(featuresDone)
		defer close(jobs)
		var err error
		if fs, err = fsReady(); err != nil {
			fail(err)
		}
		for buf := range read {
			if ctx.Err() != nil {
				free <- buf[:0]
				continue // drain after a failure
			}
			if rekey != nil {
				for i := range buf {
					if !strings.HasPrefix(buf[i].Recipient, pipeline.HashedPrefix) {
						buf[i].Recipient = rekey(buf[i].Recipient)
					}
				}
			}
			tab, err := fs.NextFeatures(buf)
			if err != nil {
				fail(err)
				free <- buf[:0]
				continue
			}
			jobs <- batchJob{sends: buf, tab: tab}
		}
	}()
	go func() { // models
		defer close(predicted)
		for j := range jobs {
			if ctx.Err() != nil {
				free <- j.sends[:0]
				continue
			}
			select {
			case j.scratch = <-freeScratch:
			default:
				j.scratch = new(bundle.Scratch)
			}
			if err := predictModels(&j, m); err != nil {
				fail(err)
				free <- j.sends[:0]
				continue
			}
			predicted <- j
		}
	}()
	go func() { // policy
		defer close(scored)
		for j := range predicted {
			if ctx.Err() != nil {
				free <- j.sends[:0]
				continue
			}
			var preds []Prediction
			select {
			case preds = <-freePreds:
			default:
				preds = make([]Prediction, 0, batchSize)
			}
			preds, err := applyPolicy(ctx, preds[:0], j, m, sc)
			if err != nil {
				fail(err)
				free <- j.sends[:0]
				continue
			}
			fs.Recycle(j.tab) // the predictions hold no part of it
			freeScratch <- j.scratch
			scored <- scoredBatch{sends: j.sends, preds: preds}
		}
	}()
	sinkDone := make(chan struct{})
	go func() { // sink
		defer close(sinkDone)
		for s := range scored {
			if ctx.Err() == nil {
				if err := sink(s.preds); err != nil {
					fail(err)
				}
			}
			select {
			case freePreds <- s.preds:
			default:
			}
			free <- s.sends[:0]
		}
	}()

	streamErr := stream(ctx, func(batch []pipeline.PlannedSend) error {
		var buf []pipeline.PlannedSend
		select {
		case buf = <-free:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		read <- append(buf[:0], batch...)
		return nil
	})
	close(read)
	<-featuresDone
	<-sinkDone
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if streamErr != nil {
		return streamErr
	}
	return ctx.Err()
}

// predictModels fills j's model outputs: P(fail) and the family
// probabilities (in j.scratch).
func predictModels(j *batchJob, m *model) error {
	X := models.Matrix{Rows: j.tab.Rows, Cols: len(j.tab.Names), Data: j.tab.X}
	if err := X.Validate(); err != nil {
		return err
	}
	j.pFail, j.pFamily = m.PredictInto(j.scratch, X)
	return nil
}

// applyPolicy counts j's features into the drift meter and appends the
// predictions of its sends to dst (the Scorer, then reasons).
func applyPolicy(ctx context.Context, dst []Prediction, j batchJob, m *model, sc *Scorer) ([]Prediction, error) {
	X := models.Matrix{Rows: j.tab.Rows, Cols: len(j.tab.Names), Data: j.tab.X}
	if m.drift != nil {
		if err := m.drift.Add(X); err != nil {
			return dst, err
		}
	}
	out, err := sc.Score(dst, Batch{
		Sends:    j.sends,
		Features: Features{Names: j.tab.Names, X: j.tab.X},
		Stale:    j.tab.Stale,
		PFail:    j.pFail,
		PFamily:  j.pFamily,
	})
	if err != nil {
		return out, err
	}
	return out, m.reasons.fill(ctx, X, out[len(dst):])
}
