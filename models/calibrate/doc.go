// Package calibrate maps a binary model's scores to probabilities whose
// averages match observed rates.
//
// Platt is logistic calibration on the logit of the score,
// p' = sigmoid(A*logit(p) + B), fitted by maximum likelihood (Newton's
// method) with Platt's smoothed targets (positives count as
// (N+ + 1)/(N+ + 2), negatives as 1/(N- + 2)) so that a small or
// separable set does not push the map to 0 or 1. It is monotone for
// A > 0: the ranking of the scores, and so PR-AUC and which rows a
// threshold flags, is unchanged; only the probability values move.
//
// Two parameters need few rows and cannot overfit the way isotonic
// regression's steps can; FitPlatt refuses sets with fewer than
// MinPositives positives or negatives.
//
// FitPlattOuter fits the same map when the probability that meets the
// labels is not the calibrated score itself but a known function of it,
// max(q, C + D*q) per row (Outer): a cause outside the model that fails a
// known share of the row's sends. Fitting on the scores alone would take
// that cause's failures for the model's and lift every row, so that the
// combined probability counts them twice.
//
// FamilyWeights calibrate a family model's split: each class's
// probability P(fail with c) is scaled by a weight in (0, 1] and P(fail)
// becomes their sum. FitFamilyWeight is a class's actual over expected
// failures, shrunk toward 1 by a pseudo-count and floored at
// MinFamilyWeight; which classes are weighted, on which rows, is the
// caller's (training: the families a known mechanism covers).
package calibrate
