// Package pipeline is the bottom layer of failcast: the history and plan
// data contracts, Meta's WhatsApp Cloud API error taxonomy, recipient
// hashing, and Parquet dataset I/O.
//
// A history dataset holds one row per message-status event (see Event and
// docs/schema.md). A plan holds one row per upcoming send (see PlannedSend).
// Everything above this package (features, commands) speaks these types;
// nothing here knows about features or models.
package pipeline
