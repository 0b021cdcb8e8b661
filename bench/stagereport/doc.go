// Command stagereport is bench/run's bookkeeping: it reads figures out of
// the commands' JSON output and turns the run's measurements into Markdown
// tables.
//
// Usage:
//
//	stagereport value -file F [-msg M] [-where key=value] -key K
//	stagereport tables -in measurements.tsv
//
// value prints one field. With -msg, F is a log of JSON lines (log/slog's
// JSON handler, as the commands write with --log-format json) and the field
// comes from the last line whose "msg" is M (and whose field key equals
// value, with -where); without it, F is one JSON object (inspect --json).
// It exits 1 when the field is missing.
//
// tables reads the tab-separated measurements bench/run appends, one line
// per stage and scale point:
//
//	scale  events  stage  items  unit  seconds  rate  rss_kb  load  status  note
//
// (rate and rss_kb may be empty: rate is then items / seconds; status is
// "ok" or what went wrong), and prints one table per scale point and a table
// of cost growth: seconds, seconds per million history events and peak
// RSS of every stage at every point.
package main
