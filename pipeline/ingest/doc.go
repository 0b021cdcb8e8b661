// Package ingest turns a sender's raw records into history events: it joins
// the sender's own send log (NDJSON or CSV, one record per send request and
// the Cloud API's answer) with Meta's status webhook bodies (NDJSON) into
// pipeline.Event rows, joined by message id (wamid), deduplicated by event
// id and ordered by time.
//
// Every input line either becomes events or becomes a Reject naming the
// source, the line number and the reason; nothing is lost silently and a
// malformed line never stops an export. Recipients are pseudonymised with
// pipeline.RecipientHasher as they are read, so raw numbers never reach
// the output unless hashing is switched off explicitly.
//
// NDJSON inputs are parsed in parallel (one parser per GOMAXPROCS, on
// chunks of lines) and committed in input order, so the result does not
// depend on the number of cores; the touched day partitions are written in
// parallel too. The usual webhook and send-log lines are read by one-pass
// scanners (webhook_fast.go, sendlog_fast.go) that only ever accept: any
// other line goes to the general fastjson parser, which owns the rejects. Export (the command) keeps events on disk, not in memory:
// it spills them to bucket files by message id, joins the buckets a group
// at a time within a memory budget (ExportConfig.MemoryLimit), and merges
// the joined runs into each day's file (spill.go; docs/export.md, Memory).
// Exporter.Events and WriteEvents join in memory (about 0.4 GB per million
// events).
//
// The command cmd/export wraps this package; docs/export.md describes the
// inputs, the column mapping, the join rules and the reject file.
package ingest
