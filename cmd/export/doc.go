// Command export turns a sender's raw records into a history dataset: it
// joins the sender's own send log (NDJSON or CSV) with Meta's status
// webhook bodies (NDJSON) into history events (pipeline.Event), hashes
// recipients, drops duplicate events and writes Parquet.
//
//	export --send-log send-log.ndjson --webhooks webhooks.ndjson --out out/history --partitioned
//
// Malformed lines never stop an export: each goes to the reject file
// (NDJSON of {"source","line","kind","reason","raw"}) and is counted in the
// summary printed at the end. All outputs are written atomically; a failed
// run leaves earlier outputs as they were. docs/export.md documents the
// inputs, the --map flag, the join rules and the reject file; `export
// -help` lists every flag.
//
// Exit codes: 0 ok (rejects included), 1 failure or more rejects than
// --max-reject-rate allows, 2 bad usage.
package main
