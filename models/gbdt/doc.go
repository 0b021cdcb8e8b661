// Package gbdt is failcast's production learner: histogram gradient-boosted
// decision trees for binary log-loss (P(fail)) and multi-class softmax (the
// error family of a failure).
//
// Training quantile-bins every feature into at most 255 bins (a uint8 bin
// matrix, held column-major and row-major; edges at evenly spaced ranks
// of a row sample, as XGBoost's hist method places its cuts: from the
// same rows the trees are XGBoost's up to ties, TestMatchesXGBoost), grows
// each tree best-first
// from per-node gradient histograms (building the smaller child and
// subtracting it from the parent for the sibling) and stops early on a
// caller-supplied, time-ordered validation set. Histograms sum gradients
// quantised to integers, gradient and hessian packed in one int64 per bin
// (one add per row and bin; units sized so that the sum of every row's
// absolute value fits, which leaves a typical row 2^10 levels or more at
// a million rows, like LightGBM's quantised training), so sums are exact
// and do not depend on their order: large nodes are built column-wise in
// parallel over feature groups, small ones row-wise in parallel over row
// blocks (rowhist.go), features with most rows in one bin from lists of
// their other rows (sparse.go; row-wise, from each row's list of its
// entries outside those bins), and a seed gives byte-identical models
// whatever the number of workers. Leaf values are summed from the float
// gradients.
//
// A trained Model predicts from flat arrays, never from pointer trees: in
// blocks of 128 rows, copied column-major (only the features the forest
// splits on), each tree laid out complete as a heap (children of node j
// at 2j+1 and 2j+2, shallower leaves padded) and walked one level of
// every row of the block at a time, so the rows' steps are independent
// and need no bounds checks (forest.go); trees deeper than 7 (leaf-wise
// growth) walk a packed node array instead. Scores are added tree by tree
// in the same order either way, so they do not depend on the layout or
// the number of workers. A Model is saved in the checksummed binary
// format described in docs/model-format.md.
//
// Contributions explains predictions: exact TreeSHAP values (Lundberg et
// al. 2018, path-dependent) of every feature to a row's raw score, which
// add up with the model's expected score to that score; TopReasons picks
// the largest. It needs each node's cover, the number of training rows
// reaching it, which Fit counts as it grows the trees (SetFitCover
// records those counts; SetCover counts any rows) and the model file
// keeps.
//
// Like everything under models/, gbdt knows only matrices, labels and
// scores. (bench/golearngbdt adapts a Model to golearn's base.Classifier
// for experiments; it is not on the production path.)
package gbdt
