// Package plans reads the campaign plans a scoring run scores, in two
// passes over the files (Parquet or CSV in pipeline's plan contract):
// Survey (SurveyWith: other column names and zone-less times, see
// pipeline.PlanOptions) validates every row once and reports the ones that
// cannot be scored (invalid, scheduled before the as-of time, or a send id
// seen before) with their file, row and column; Set.Stream then hands the valid rows over in batches in
// non-decreasing scheduled_at order, merging sorted files that overlap in
// time and sorting unsorted ones in memory. Survey keeps the valid rows of
// a plan up to KeepBytes compactly, so that Stream need not read such a
// plan a second time. Only the sends and their
// order come out: features, models and outputs are package scoring's.
package plans
