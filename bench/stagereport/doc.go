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
// per run of a stage at a scale point:
//
//	scale  events  stage  items  unit  seconds  rate  rss_kb  load  status  note  repeat  cpu_s
//
// (rate, rss_kb and cpu_s may be empty: rate is then items / seconds;
// status is "ok" or what went wrong; repeat is 1, 2, ... for a stage
// bench/run repeats, 0 for one run once; cpu_s is the user + system CPU
// seconds of a whole command). It prints one table per scale point, the
// issue-15 targets table and a table of cost growth. A repeated stage is
// shown as the median over its finished runs (for an even count, the mean
// of the middle two) with the range (min-max), each run's load, and the
// runs that failed named, never dropped silently. A target that is a
// ratio of ours to a peer's is the median of the per-repeat ratios (the
// two sides of a ratio run in the same repeat); met / not met reads that
// median. Where every stage of a time ratio measured its CPU seconds, the
// same ratio in CPU seconds is shown beside it, not judged.
package main
