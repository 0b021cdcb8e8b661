// Package outcomes derives a plan's true outcomes from a history export
// made after the plan ran, so a sender can check last week's predictions
// against what happened without the simulator (failcast outcomes, and
// score --outcomes HISTORY).
//
// A planned send is joined to the message that carried it in the history,
// by the rules the export (pipeline/ingest) sets message ids with:
//
//  1. By id: a message whose message_id equals the plan's send_id. The
//     export gives a refused send the sender's request id as message id,
//     so a sender whose request id is the plan's send_id (an idempotency
//     key) is joined exactly; so is a plan whose send_id is the wamid.
//  2. By send: otherwise, the message's first status event (the accepted
//     row from the send log, or the first webhook status of a sender who
//     exports webhooks only) with the send's phone_number_id and
//     recipient, and its campaign_id when both carry one, at a time within
//     [scheduled_at - Early, scheduled_at + Late]; the closest in time
//     wins, and each message carries one planned send.
//
// A joined send failed when its message has a failed event (error_code of
// the first one). It did not fail when it has a delivered or read event,
// or when the history reaches Settle past its send without a failure.
// Otherwise it is unsettled; a send no message joins is unmatched (not
// sent, sent outside the window, or sent by other means). Unsettled and
// unmatched sends get no outcome: they are counted and named, never taken
// for successes.
package outcomes
