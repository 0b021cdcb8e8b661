// Package training is failcast's nightly training stage: from the history
// dataset it builds point-in-time features, trains the failure model
// (binary GBDT, P(fail)) and the error-family model (softmax GBDT,
// P(family | fail)) with baselines for comparison, evaluates them on the
// most recent days, compares the challenger with the registry's champion
// on the same rows and publishes it if it is at least as good.
//
// Run is the one entry point; cmd/train and `failcast train` are flag
// parsing plus one call to it. BuildTables is the part of Run that other
// tools (bench/peers) reuse: the time-split training and validation
// tables, built exactly as Run builds them.
//
// Time windows (Config.Windows): validation is the ValidDays before
// as-of, training the TrainDays before that minus a gap of Lead. The
// label-leakage guard is part of this package, not of its callers: every
// scan of the history stops before as-of, so nothing at or after it (not
// even the outcome of an earlier send) reaches the features or the
// models.
//
// Errors carry their exit class (see package exitcode): Usage for a bad
// Config, Input for bad or missing history (nothing published), Locked
// when another run holds the registry, Internal otherwise, an interrupted
// run included. A failed run leaves the registry's champion untouched.
//
// The sends a deterministic rule decides (features/mechanism) are left
// out of the models' rows, since scoring decides them by the rule; the
// probability calibration is fitted so that scoring's combination of the
// model with the known failure mechanisms is calibrated, and kept only
// when it helps out of time (calibration.go, docs/train.md).
//
// The saved model is a models/bundle directory; its contract (metadata,
// thresholds, lead, refresh, likely codes, checks) belongs to
// models/bundle.
//
// training imports features, features/mechanism, pipeline and models/*; nothing below it
// imports it.
package training
