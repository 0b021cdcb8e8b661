// Package scoring is the score stage: it turns upcoming campaign plans
// into what people and systems act on: per-send predictions (risk band,
// likely error family and code, a warning sentence with the feature values
// behind it, an action), campaign findings, and the CSV files that carry
// them.
//
// Run is the stage's one entry point (cmd/score and `failcast score` are
// flag parsing around it):
//
//	cfg := scoring.DefaultConfig()
//	cfg.Plans, cfg.History, cfg.AsOf = []string{"plan.parquet"}, "history/", asOf
//	res, err := scoring.Run(ctx, cfg) // err carries its exit class (package exitcode)
//
// Run loads the model (the registry's current one or Config.Model) and
// checks it against this build's features, folds the history before
// Config.AsOf into the feature state (features.Scorer, optionally kept in
// a state cache), and streams the plan through four goroutines: plan
// reading (package scoring/plans, which validates every row and merges
// the files in time order), features, the models with the action policy,
// and the writers. Outputs are committed atomically (OutputDir).
//
// The per-send part is usable on its own: given a batch of planned sends,
// their feature values (by name) and the model's probabilities, a Scorer
// returns the predictions:
//
//	sc, _ := scoring.NewScorer(scoring.ScorerConfig{Thresholds: th, ModelVersion: v})
//	preds, _ = sc.Score(preds[:0], scoring.Batch{Sends: sends, Features: fs, PFail: p, PFamily: pf})
//	predictionWriter.Write(preds)
//	campaigns.Add(preds)
//
// The action policy (ActionFor) follows Meta's error taxonomy
// (pipeline.LookupCode): sends to recipients who opted out or cannot be
// reached are suppressed, sends that would hit the per-user marketing
// limit deferred, sends above throughput throttled, template and payload
// problems fixed, expired tokens renewed; transient failures and low-risk
// sends go out as planned. A seeded share of would-be-suppressed or
// deferred sends can be explored (sent anyway) so the model keeps seeing
// their outcomes. docs/predictions.md documents every column and rule.
//
// The files' columns, action words and risk band words are defined once,
// in package scoring/predictions (the contract readers use too).
//
// Every CSV is RFC 4180 (encoding/csv), UTF-8, with a header row and a
// fixed column order; cells that a spreadsheet would evaluate as a formula
// are prefixed with a single quote (SafeCell). OutputDir writes all output
// files of a run atomically.
package scoring
