// Package features turns a history of WhatsApp Cloud API status events
// into point-in-time features for each send, in one chronological pass,
// with the same code for training examples (BuildTraining) and for
// scoring upcoming sends (Scorer).
//
// # Two clocks
//
// Every send at time t is featurized with two clocks:
//
//	  outcome events counted               outcome events waiting
//	──────────────────────────────────────┼────────────────────────┼───▶ time
//	                                   cutoff(t)                   t
//	                                 (<= t - Lead)
//	  sends counted (schedule) ──────────────────────────────────▶┤
//
//	  training: cutoff(t) = latest Refresh grid point <= t - Lead
//	  scoring:  cutoff(t) = as-of, for every planned send
//
// Schedule features (the sender's own sends: counts, rates, unique
// recipients, pair gaps, template age) see every send strictly before t.
// Outcome features (deliveries, reads, failures, error codes, inbound
// messages, and anything derived from them) see only events before
// cutoff(t). When scoring a plan from an as-of time, cutoff is the as-of
// time for every send, so a send two days out sees two-day-old outcomes.
// Training reproduces that staleness: cutoff(t) is the latest point of a
// Refresh grid (aligned to UTC midnight) at or before t - Lead, and the
// feature horizon_hours = (t - cutoff) / 1 h tells the model how stale
// its outcome features are. Scored rows with a horizon beyond Lead +
// Refresh are marked Stale.
//
// Since cutoff(t) never decreases, one pass suffices: outcome events wait
// in a FIFO (at most Lead + Refresh of them) until the cutoff passes them,
// while sends update the schedule state as soon as time moves past them.
//
// # Sends and labels
//
// A send is the first event of a message id: accepted, or sent/failed in
// webhook-only data; a lone failed event (a synchronous API refusal) is
// both the send and its outcome. The label of a send is whether a failed
// event follows within Config.LabelWindow, with the family and code of
// the first one. An outcome event of a message sent between one and two
// LabelWindows before is a late outcome: no label, no send, but it
// counts for outcome features (and in the build's debug log).
//
// # Building rows
//
// BuildTrainingChunks hands the rows on in chunks as soon as their labels
// are final, so a build of any size holds only the engine state and
// about one LabelWindow of rows (ParquetWriter writes the chunks to one
// file); BuildTraining gathers them into one Table. The work runs as a
// pipeline of stages passing batches: decoding the source, classifying
// events and interning their keys into dense ids, schedule features,
// outcome features; Config.Workers sets how many goroutines share them.
// The hot state is arrays indexed by those ids and open-addressing
// tables keyed by 64-bit values, so that an event costs a few memory
// accesses and no allocation. On big histories those accesses are misses
// to memory (hundreds of megabytes of messages and recipients); the
// classifier and the stages go in groups of 16 records and read the
// entries the next group will look up in one loop of independent loads
// before working on the group before (warming), so that the misses
// overlap instead of stalling one at a time. Warming only reads.
//
// # Saved state
//
// NewScorer folds the whole history before as-of into the state, which
// is most of the cost of scoring against a large history. WriteState
// saves that state (before the first Next) and ReadScorer restores it,
// for a later as-of the history has no event before: the restored
// Scorer scores exactly as a fresh one would. The file is the state's
// memory, checksummed, for the build that wrote it (ErrStateMismatch
// otherwise).
//
// # Registry
//
// Specs lists every feature with its entity, window, kind (Outcome,
// Schedule or Send), unit and meaning; SchemaHash identifies the list.
// docs/features.md is generated from it (go run ./cmd/featuredoc).
// Features are never NaN: an unknown entity gets zero counts, NeverHours
// for "hours since" features and 1 in its *_unseen indicator.
package features

//go:generate go run ../cmd/featuredoc -o ../docs/features.md
