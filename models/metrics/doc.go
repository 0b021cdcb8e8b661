// Package metrics scores predictions: plain numeric code over slices of
// scores and labels, in the style of gonum's stat package.
//
// Binary metrics take scores (a predicted probability of the positive
// class, or any score where higher means "more likely positive") and
// labels (true = positive, e.g. "the send failed"):
//
//   - ROCAUC: area under the ROC curve. Tied scores count one half (the
//     Mann-Whitney statistic), so a constant scorer gets exactly 0.5.
//   - AveragePrecision: the area under the precision-recall curve computed
//     step-wise, AP = sum over thresholds of (R_k - R_{k-1}) * P_k, with
//     tied scores forming one threshold. This is scikit-learn's
//     average_precision_score; it is not the trapezoidal PR-AUC, which is
//     optimistic.
//   - LogLoss (probabilities clipped to [1e-15, 1-1e-15]) and Brier.
//   - Reliability: the calibration table (equal-width bins over [0,1]) and
//     ECE, the count-weighted mean gap between predicted and observed rate.
//   - ROCCurve and PRCurve: one point per distinct score, for plots.
//   - ThresholdForPrecision / RecallAtPrecision: the lowest threshold (the
//     highest recall) whose precision reaches a target.
//   - ThresholdForBudget / PrecisionAtBudget: the lowest threshold that
//     flags at most a given fraction of rows (an alert budget).
//
// A threshold t flags the rows with score >= t. Metrics that need both
// classes (ROCAUC, AveragePrecision, the curves, thresholds by precision)
// return ErrOneClass when the labels hold only one class; inputs of
// different lengths, empty inputs and NaN scores are errors too.
//
// Multi-class metrics (the error-family model) take class indices and
// row-major probability slices: Confusion, Accuracy, MacroF1 and
// MultiLogLoss. The package knows class indices only; callers supply the
// class names.
//
// Compute bundles the binary metrics into a JSON-ready Summary and
// ComputeMulti the multi-class ones into a MultiSummary. Undefined values
// (for example ROCAUC with one class) are NaN in Go and null in JSON.
package metrics
