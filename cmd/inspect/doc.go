// Command inspect reads a history dataset (the Parquet contract of
// docs/schema.md) and prints what it holds: files, rows, time range,
// events by status, sends and failures, failures by error family and the
// most frequent error codes with Meta's meaning, and how fast it was read.
//
// Usage:
//
//	inspect --history out/sim/history [--from T] [--to T] [--columns a,b,c] [--json]
//
// --columns projects the scan (the statistics need timestamp, message_id,
// status and error_code; others are read only when named), which is how the history
// scan is benchmarked (bench/run). Exit codes: 0 ok, 2 bad usage, 3 bad or
// missing input data, 1 internal failure.
package main
