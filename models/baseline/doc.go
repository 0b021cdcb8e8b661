// Package baseline holds the models every production model must beat,
// each giving probabilities and reproducible under a seed:
//
//   - LogReg: L2-regularised logistic regression on standardised
//     features, fitted by golearn's liblinear binding;
//   - Forest: a random forest of golearn information-gain trees;
//   - Rule: P(fail | the value of one categorical column), by counting.
//
// All take a models.Matrix and []bool labels, and encode to JSON (WriteTo,
// ReadLogReg, ReadForest, ReadRule) for model artifacts.
//
// # liblinear without GODEBUG
//
// golearn's LogisticRegression panics with "cgo argument has Go pointer to
// unpinned Go pointer" unless the process runs with GODEBUG=cgocheck=0: its
// problem struct, passed to C, points to Go-allocated arrays. It also has
// no intercept and its Predict drops non-positive values. LogReg uses the
// lower-level linear_models.NewProblem / Train / Export path instead, with
// a constant column for the intercept and its own sigmoid over the
// exported weights, and makes the call legal under the default cgocheck=1
// by pinning, with runtime.Pinner, the three Go objects the problem points
// to (see pinProblem). The alternatives were worse: a //go:debug
// cgocheck=0 directive is rejected by Go 1.26 ("unknown //go:debug
// setting"); building the C arrays ourselves would need golearn's
// unexported fields written, not just read; re-executing the process with
// GODEBUG set would change the whole program's behaviour. The pinning
// reads two unexported pointer fields by name through reflect, and fails
// with a clear error, never silently, if a golearn upgrade renames them.
// golearn offers no way to free a trained liblinear model, so each Fit
// leaks one weight vector of C memory (a few hundred bytes).
//
// golearn logs liblinear's solver iterations to stdout; this package
// sends golearn's logger to slog at debug level instead.
//
// # A random forest that is right
//
// golearn's own RandomForest cannot be used as is: its bagging builds each
// bootstrap as a lazy view that pairs one row's features with another
// row's label, its trees draw features from the global math/rand (not
// seedable since Go 1.24) in map-iteration order, and its ID3 removes a
// column once split on, capping the depth at the number of columns. Forest
// keeps golearn's pieces (DenseInstances, the information-gain split
// search, DecisionTreeNode with its ClassDist) and drives them itself: it
// draws bootstraps with math/rand/v2 from the seed and the tree index,
// copies every node's rows (features and label from the same source row)
// into a DenseInstances, draws the candidate columns from the tree's own
// generator, lets columns be split on again, and stops at MaxDepth or
// MinLeaf. Trees grow in parallel without changing the result: the same
// seed gives the same probabilities.
//
// golearn's split search sorts each candidate column at every node and is
// slow (about 0.5 s per 100k rows and 8 columns), so Forest subsamples the
// training set to MaxRows (200k) and grows each tree on SampleRows (20k)
// bootstrap rows; see BenchmarkForestFit for the cost at 100k x 60.
package baseline
