// Package collect is the webhook receiver a sender points Meta at: it
// answers the verification handshake, checks every POST's signature and
// appends each accepted body, as one NDJSON line, to rotating files that
// pipeline/ingest (and so export) reads as they are.
//
// # Requests
//
// On Config.WebhookPath (default /webhook):
//   - GET with hub.mode=subscribe and hub.verify_token equal to the verify
//     token (compared in constant time) gets hub.challenge echoed; any
//     other GET gets 403.
//   - POST must carry X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the
//     raw body with the app secret>, checked with hmac.Equal. A missing or
//     wrong signature gets 401; a body above Config.MaxBodyBytes gets 413;
//     a signed body that is not a JSON object gets 400 (Meta only posts
//     JSON objects: such a body is a sender's misconfigured forwarder, and
//     storing it would only move the error to export). Rejected bodies are
//     never stored; every rejection is counted by reason in /metrics and
//     logged.
//   - An accepted body is stored, then answered 200. If it cannot be
//     stored the answer is 500 (503 while shutting down) and Meta retries.
//
// /healthz answers 200 when the output directory takes a new file and the
// writer runs, 503 otherwise; /metrics serves Prometheus metrics
// (failcast_collect_*: requests by outcome, rejections by reason, bytes
// and lines written, write latency per body, batch and fsync latency,
// bodies per batch, current file size, files opened and gzipped).
//
// # Files
//
// Bodies go to Config.Dir/webhooks-YYYYMMDDTHH-NNNNNN.ndjson: the UTC hour
// of the write and a sequence number that grows across restarts, so the
// names sort in write order. A file is closed when the hour changes (also
// without traffic) or before a write would take it past
// Config.MaxFileBytes. A closed file is gzipped to .ndjson.gz atomically:
// written to .ndjson.gz.tmp, fsynced, renamed, the directory fsynced, then
// the plain file removed. Each line is the body byte for byte, unless the
// body held line breaks: it is then compacted to one line (only white
// space between JSON tokens goes; the signature was checked on the raw
// bytes).
//
// # Durability (Config.Fsync)
//
// FsyncGroup (default): one writer goroutine takes every body queued since
// its last write, writes them with one write call and one fsync (group
// commit), and only then are their requests answered 200. Every 200 means
// the body is on disk, and under load many bodies share an fsync, so the
// cost per body falls as concurrency grows. New files are made durable
// too (directory fsync).
//
// FsyncNone: 200 once the body is written to the operating system's cache;
// files are fsynced only when closed. A crash or kill -9 of the receiver
// loses nothing, but a power loss or kernel crash can lose the last
// seconds of bodies that Meta was told were received (Meta does not send
// them again). Use it only where the disk is slower than the traffic
// allows, and know the risk.
//
// Delivery is at least once: a body written by a batch whose answer never
// reached Meta (a crash between write and answer, a client timeout) may be
// received again. Export deduplicates events by their id.
//
// # Restart after a crash
//
// NewServer recovers Config.Dir first: leftover .tmp files (a gzip that
// did not finish) are removed; a plain file whose .gz exists is removed
// (the gzip had finished); any other plain file is kept, except a torn
// final line (bytes after its last line break: a write cut short, which no
// request got a 200 for), which is cut off and logged, and is then
// gzipped. New bodies go to a new file.
//
// # Shutdown
//
// Run serves until its context is cancelled (the command cancels it on
// SIGTERM and SIGINT), then stops accepting connections, lets in-flight
// requests finish for up to Config.ShutdownTimeout, writes and syncs every
// queued body, closes and gzips the current file and returns. Requests
// still running after the timeout get no 200.
//
// # TLS
//
// With Config.TLSCertFile and Config.TLSKeyFile Run serves HTTPS itself
// (Meta requires a valid certificate on the callback URL). The other way,
// usual in Kubernetes, is to serve plain HTTP behind a reverse proxy or
// ingress that terminates TLS; the body and its signature pass through
// unchanged. docs/collect.md has both.
//
// Secrets come from the environment (SecretsFromEnv): FAILCAST_APP_SECRET
// and FAILCAST_VERIFY_TOKEN, never from flags.
package collect
