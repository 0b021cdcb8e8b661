// Package inspect reads a history dataset (the Parquet contract of
// docs/schema.md) and summarises what it holds: files, rows, time range,
// events by status, sends and failures, failures by error family and the
// most frequent error codes with Meta's meaning, and how fast it was read.
//
// Summarize is the whole stage; `failcast inspect` is its flags. Options
// name the columns to read besides the four the statistics need, which is
// how the history scan is benchmarked (bench/run).
package inspect
