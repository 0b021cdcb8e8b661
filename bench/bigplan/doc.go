// Command bigplan builds a large campaign plan for benchmarking `score`:
// the simulator's plan replicated over other recipients of the history
// until it holds the requested number of sends.
//
// Usage:
//
//	bigplan --history DIR --plan plan.parquet --as-of T --sends 1000000 --out big.parquet [--seed 1]
//
// Replica 0 is the plan itself. Replica r (r >= 1) copies every row with the
// send and campaign ids suffixed "~r<r>", the recipient (and its country)
// replaced by one drawn, with the seed, from the recipients that WABA
// messaged or heard from in the history before --as-of, and the send time
// moved r milliseconds later. Rows are written in (scheduled_at, send_id)
// order with pipeline.WritePlan, atomically.
//
// The plan is honest about cost, not about risk: every replica goes out
// from the plan's own phone numbers at the plan's own times, so schedule
// features (per-number rates and unique recipients) see up to replicas times
// the load of the original plan. The benchmark measures how fast score
// featurizes, predicts and writes a million sends against the history, not
// what it predicts for them.
package main
