// Package drift compares the distribution of each feature column of a
// matrix with a reference distribution saved at training: the Population
// Stability Index (PSI) over quantile bins of the reference.
//
// Fit summarises the reference rows of every column in at most Bins
// quantile bins (cut points deduplicated, so a column with heavy ties such
// as "0 events" or a "never" sentinel gets fewer, wider bins) plus the
// share of NaN values. A Meter counts new rows into the same bins; its
// Result gives each column's PSI,
//
//	PSI = sum over bins of (a - e) * ln(a / e)
//
// where e and a are the reference's and the new rows' shares of the bin
// (NaN is one more bin), each floored at MinShare so an empty bin does not
// make the index infinite. Conventional reading, used by Status: below
// 0.1 stable, 0.1 to 0.2 moderate shift, above 0.2 drifted. PSI of fewer
// than MinRows new rows is not assessed: its sampling noise alone can pass
// the thresholds.
//
// drift knows only matrices and column names, like the rest of models.
package drift
