// Command export turns a sender's raw records into a history dataset: it
// joins the sender's own send log (NDJSON or CSV) with Meta's status
// webhook bodies (NDJSON) into history events (pipeline.Event), hashes
// recipients, drops duplicate events and merges them into the Parquet
// history at --out. It is flag parsing around ingest.Export.
//
//	export --send-log send-log.ndjson --webhooks webhooks.ndjson --out out/history --partitioned
//
// Malformed lines never stop an export: each goes to the reject file and
// is counted in the summary printed at the end; more than
// --max-reject-rate (default 5%) of rejected lines fails the run. An
// existing history is merged into, never replaced: exporting the same
// batch twice changes nothing. docs/export.md documents the inputs, the
// flags, the join rules, the reject file and nightly incremental exports.
//
// Exit codes: 0 ok (rejects included), 1 failure, 2 bad usage, 3 bad input
// (too many rejects, no events, missing columns; the history is left as
// it was), 4 another export is writing the same output.
package main
