// Package evaluate splits rows for evaluation by time, never at random,
// and runs rolling-origin backtests.
//
// # Why random splits lie here
//
// failcast predicts whether a WhatsApp send will fail from features
// computed at a point in time (the recipient's recent outcomes, the
// template's recent failure rate, the sender's quality and throttle
// state). Rows close in time share those states: the same recipient's
// opt-out shows up in every later send to them, a template paused by Meta
// fails every send for days, a throttle episode fails a whole burst. A
// random split puts rows from the same episode on both sides, so the model
// is graded on outcomes it has effectively already seen, and on a future
// it could not have known: scores look far better than they will be on
// tomorrow's campaign. Label leakage is worse still: a row's label (did it
// fail within the lead time?) is only known lead time after it was sent,
// so a training row sent just before the validation window carries a label
// that was observed inside it.
//
// So validation is always later than training, with a gap of at least the
// prediction lead time between the last training row and the first
// validation row: TimeSplit, LastDays and Backtest enforce it.
//
// # Times
//
// Times are Unix microseconds (UTC), the unit of failcast's history
// contract. A row with time t is in training when t < validFrom - gap and
// in validation when t >= validFrom; rows inside the gap are in neither.
package evaluate
