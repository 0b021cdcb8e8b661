package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring"
)

// Output file names.
const (
	predictionsFile = "predictions.csv"
	campaignsFile   = "campaigns.csv"
	rejectedFile    = "rejected_rows.csv"
	evaluationFile  = "evaluation.json"
)

// result is what a run did, for the summary.
type result struct {
	Model            string
	AsOf             time.Time
	Out              string
	Sends            int
	Rejected         int
	Stale            int
	ExpectedFailures float64
	Totals           scoring.Totals
	Campaigns        []*scoring.Campaign
	Evaluation       *scoring.Evaluation
	Elapsed          time.Duration
}

// maxRejectsInError is how many rejected rows a failing run names.
const maxRejectsInError = 5

// run scores the plans of o and writes the outputs. Every output is
// committed only when everything succeeded.
func run(ctx context.Context, o options, log *slog.Logger) (*result, error) {
	start := time.Now()
	m, err := loadModel(o, log)
	if err != nil {
		return nil, err
	}
	asOf := o.AsOf.UnixMicro()
	out, err := scoring.NewOutputDir(o.Out)
	if err != nil {
		return nil, err
	}
	defer out.Abort() // no-op after Commit

	// History -> feature state as of --as-of, built on its own goroutine
	// while the first pass reads the plans.
	ds, err := pipeline.OpenDataset(o.History)
	if err != nil {
		return nil, inputf("history: %w", err)
	}
	historyEnd := int64(math.MaxInt64) // unknown: the state cache is not used
	if lo, hi, rows, err := ds.TimeRange(ctx); err == nil {
		historyEnd = hi
		log.Info("history", "dataset", o.History, "events", rows, "from", scoring.FormatTime(lo), "to", scoring.FormatTime(hi))
		if gap := time.Duration(asOf-hi) * time.Microsecond; gap > m.cfg.Lead+m.cfg.Refresh {
			log.Warn("history ends long before the as-of time: features miss the most recent outcomes", "history_end", scoring.FormatTime(hi), "gap", gap.Round(time.Minute).String())
		}
	}
	var cache *stateCache
	if o.StateCache != "" {
		if cache, err = newStateCache(o.StateCache, ds, m.cfg, historyEnd, asOf, log); err != nil {
			return nil, err
		}
	}
	foldCtx, cancelFold := context.WithCancel(ctx)
	defer cancelFold()
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
	waitFold := func() (*features.Scorer, error) {
		f := <-foldDone
		if f.err != nil {
			return nil, classify(ctx, fmt.Errorf("history %s: %w", o.History, f.err))
		}
		return f.fs, nil
	}
	// On an early return, stop the fold and wait for it.
	foldWaited := false
	defer func() {
		if !foldWaited {
			cancelFold()
			<-foldDone
		}
	}()

	// First pass: validate every plan row once.
	rw, err := createRejected(out)
	if err != nil {
		return nil, err
	}
	var firstRejects []string
	reject := func(r scoring.Rejected) error {
		msg := fmt.Sprintf("%s: row %d", r.File, r.Row)
		if r.Column != "" {
			msg += ": column " + r.Column
		}
		msg += ": " + r.Reason
		if o.BadRows == "fail" {
			return inputf("bad plan row (--bad-rows fail): %s", msg)
		}
		if len(firstRejects) < maxRejectsInError {
			firstRejects = append(firstRejects, msg)
		}
		return rw.Write(r)
	}
	p := &plans{asOf: asOf, batchSize: o.BatchSize}
	if err := p.survey(ctx, o.Plans, reject); err != nil {
		return nil, err
	}
	valid, rejected, unhashed := p.counts()
	if rejected > 0 {
		log.Warn("plan rows rejected", "rows", rejected, "file", out.Path(rejectedFile), "first", firstRejects[0])
	}
	if valid == 0 {
		return nil, inputf("no plan row can be scored (%d rejected): %s", rejected, strings.Join(firstRejects, "; "))
	}
	if !p.sorted() {
		if o.RequireSorted {
			return nil, inputf("plan %s is not in scheduled_at order (--require-sorted): sort it or drop --require-sorted", p.unsortedFile())
		}
		log.Info("plan is not in scheduled_at order: sorting it in memory", "file", p.unsortedFile(), "sends", valid,
			"approx_mb", valid*300>>20)
	}
	var hasher *pipeline.RecipientHasher
	if unhashed > 0 {
		if key := os.Getenv(o.HashKeyEnv); key != "" {
			hasher = pipeline.NewRecipientHasher([]byte(key))
			log.Info("hashing raw recipient numbers of the plan", "sends", unhashed, "key_from", "$"+o.HashKeyEnv)
		} else {
			log.Warn("plan recipients are not hashed and no hashing key is set: they match no history (cold start) and are masked in the outputs",
				"sends", unhashed, "set", "$"+o.HashKeyEnv)
		}
	}

	var tokenExpiry map[string]int64
	if o.Tokens != "" {
		tokens, err := pipeline.ReadTokenExpiries(o.Tokens)
		if err != nil {
			return nil, inputf("tokens: %w", err)
		}
		tokenExpiry = make(map[string]int64, len(tokens))
		expired := 0
		for _, tk := range tokens {
			tokenExpiry[tk.WABAID] = tk.ExpiresAt
			if tk.ExpiresAt != pipeline.TokenNeverExpires && tk.ExpiresAt <= asOf {
				expired++
			}
		}
		log.Info("token inventory", "file", o.Tokens, "wabas", len(tokens), "expired_at_as_of", expired)
	}

	var evaluator *scoring.Evaluator
	if o.Outcomes != "" {
		outcomes, err := pipeline.ReadOutcomes(o.Outcomes)
		if err != nil {
			return nil, inputf("outcomes: %w", err)
		}
		evaluator = scoring.NewEvaluator(outcomes)
	}

	foldWaited = true
	fs, err := waitFold()
	if err != nil {
		return nil, err
	}

	sc, err := scoring.NewScorer(scoring.Config{
		Thresholds: m.thresholds, LikelyCodes: m.likelyCodes, ModelVersion: m.version,
		AsOf: asOf, Explore: o.Explore, Seed: o.Seed, ThroughputMPS: o.ThroughputMPS, TokenExpiry: tokenExpiry,
	})
	if err != nil {
		return nil, err
	}
	pwOut, err := out.Create(predictionsFile)
	if err != nil {
		return nil, err
	}
	pw, err := scoring.NewPredictionWriter(pwOut, m.version)
	if err != nil {
		return nil, err
	}
	camps := scoring.NewCampaigns(o.ThroughputMPS, o.Safety)
	sink := func(preds []scoring.Prediction) error {
		if err := pw.Write(preds); err != nil {
			return err
		}
		camps.Add(preds)
		if evaluator != nil {
			evaluator.Add(preds)
		}
		return nil
	}
	t1 := time.Now()
	if err := scorePlans(ctx, p, fs, m, sc, hasher, sink); err != nil {
		return nil, err
	}
	if err := pw.Flush(); err != nil {
		return nil, err
	}
	res := &result{Model: m.version, AsOf: o.AsOf, Out: o.Out, Rejected: rejected}
	res.Totals = camps.Totals()
	res.Sends, res.Stale = res.Totals.Sends, res.Totals.Stale
	log.Info("plan scored", "sends", res.Sends, "seconds", time.Since(t1).Seconds(),
		"sends_per_second", float64(res.Sends)/max(time.Since(t1).Seconds(), 1e-9))
	if res.Stale > 0 {
		log.Warn("sends further ahead than the model was trained for were scored with the features as of --as-of (stale_features=true)",
			"sends", res.Stale, "max_horizon", m.cfg.MaxHorizon().String(), "as_of", o.AsOf.Format(time.RFC3339))
	}

	res.Campaigns = camps.List()
	for _, c := range res.Campaigns {
		res.ExpectedFailures += c.ExpectedFailures
	}
	cw, err := out.Create(campaignsFile)
	if err != nil {
		return nil, err
	}
	if err := scoring.WriteCampaigns(cw, res.Campaigns, m.version); err != nil {
		return nil, err
	}
	if err := rw.Flush(); err != nil {
		return nil, err
	}
	if evaluator != nil {
		ev := evaluator.Result()
		res.Evaluation = &ev
		ew, err := out.Create(evaluationFile)
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
	if evaluator == nil {
		// An evaluation.json of an earlier run would describe other
		// predictions than the ones just written.
		if err := os.Remove(out.Path(evaluationFile)); err == nil {
			log.Info("removed the evaluation of an earlier run (no --outcomes)", "file", out.Path(evaluationFile))
		}
	}
	res.Elapsed = time.Since(start)
	log.Info("outputs written", "predictions", out.Path(predictionsFile), "campaigns", out.Path(campaignsFile),
		"rejected_rows", out.Path(rejectedFile), "seconds", res.Elapsed.Seconds())
	return res, nil
}

func createRejected(out *scoring.OutputDir) (*scoring.RejectedWriter, error) {
	w, err := out.Create(rejectedFile)
	if err != nil {
		return nil, err
	}
	return scoring.NewRejectedWriter(w)
}

// classify marks errors of reading inputs as input errors (exit 3), except
// an interrupted run and errors already classified.
func classify(ctx context.Context, err error) error {
	var ie *inputError
	var ue *usageError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie), errors.As(err, &ue):
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted: %w", err)
	}
	return inputErr(err)
}

// batchJob is a batch of planned sends with its features, between the
// feature stage and the model stage.
type batchJob struct {
	sends []pipeline.PlannedSend
	tab   *features.Table
}

// scoredBatch is a batch's predictions on their way to the sink.
type scoredBatch struct {
	sends []pipeline.PlannedSend
	preds []scoring.Prediction
}

// scorePlans streams the plans through four stages, each on its own
// goroutine and in plan order: reading (the calling goroutine),
// features (hashing raw recipients, then fs.Next: the feature state is
// sequential), the models and the policy (predictBatch, which spreads
// rows over the cores), and sink (CSV writing and aggregation). A
// failure in any stage stops the others; the first error is returned.
func scorePlans(ctx context.Context, p *plans, fs *features.Scorer, m *model, sc *scoring.Scorer,
	hasher *pipeline.RecipientHasher, sink func([]scoring.Prediction) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	const depth = 2 // batches waiting between two stages
	// Send buffers circulate: reader -> features -> model -> sink -> reader.
	const buffers = 3*depth + 3
	free := make(chan []pipeline.PlannedSend, buffers)
	for range buffers {
		free <- make([]pipeline.PlannedSend, 0, p.batchSize)
	}
	freePreds := make(chan []scoring.Prediction, buffers)
	read := make(chan []pipeline.PlannedSend, depth)
	jobs := make(chan batchJob, depth)
	scored := make(chan scoredBatch, depth)
	fail := func(err error) { cancel(err) }

	featuresDone := make(chan struct{})
	go func() { // features
		defer close(featuresDone)
		defer close(jobs)
		for buf := range read {
			if ctx.Err() != nil {
				free <- buf[:0]
				continue // drain after a failure
			}
			if hasher != nil {
				for i := range buf {
					if !strings.HasPrefix(buf[i].Recipient, pipeline.HashedPrefix) {
						buf[i].Recipient = hasher.Hash(buf[i].Recipient)
					}
				}
			}
			tab, err := fs.Next(buf)
			if err != nil {
				fail(err)
				free <- buf[:0]
				continue
			}
			jobs <- batchJob{sends: buf, tab: tab}
		}
	}()
	go func() { // models and policy
		defer close(scored)
		for j := range jobs {
			if ctx.Err() != nil {
				free <- j.sends[:0]
				continue
			}
			var preds []scoring.Prediction
			select {
			case preds = <-freePreds:
			default:
			}
			preds, err := predictBatch(preds[:0], j, m, sc)
			if err != nil {
				fail(err)
				free <- j.sends[:0]
				continue
			}
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

	streamErr := p.stream(ctx, func(batch []pipeline.PlannedSend) error {
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

func predictBatch(dst []scoring.Prediction, j batchJob, m *model, sc *scoring.Scorer) ([]scoring.Prediction, error) {
	X := models.Matrix{Rows: j.tab.Rows, Cols: len(j.tab.Names), Data: j.tab.X}
	if err := X.Validate(); err != nil {
		return dst, err
	}
	pFail, pFamily := m.Predict(X)
	return sc.Score(dst, scoring.Batch{
		Sends:    j.sends,
		Features: scoring.Features{Names: j.tab.Names, X: j.tab.X},
		Stale:    j.tab.Stale,
		PFail:    pFail,
		PFamily:  pFamily,
	})
}
