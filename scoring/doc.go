// Package scoring turns what the model says about upcoming sends into what
// people and systems act on: per-send predictions (risk band, likely error
// family and code, a warning sentence with the feature values behind it,
// an action), campaign findings, and the CSV files that carry them.
//
// It knows nothing about models or history files. A caller (cmd/score)
// computes features for a batch of planned sends, runs the model, and hands
// scoring the sends, their feature values (by name) and the probabilities:
//
//	sc, _ := scoring.NewScorer(scoring.Config{Thresholds: th, ModelVersion: v})
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
