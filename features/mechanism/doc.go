// Package mechanism knows the WhatsApp failures that follow from a send's
// fields and its point-in-time features, not from anything a model has to
// learn: the deterministic rules (an announced account lock, restriction,
// template pause or disable, a recipient's marketing stop, Meta's US
// marketing policy) and the known mechanisms whose share of failing sends
// the schedule fixes (a rate above the number's throughput, a template's
// running parameter error rate, a closed 24-hour window, the messaging
// tier limit, media above the size limit).
//
// The tier limit counts conversations, which a refused send does not open:
// a TierLedger follows a sender's sends in time order and leaves the
// refused ones out of the number's unique recipients (tier.go); scoring
// runs one over the plan, training one over its validation window.
//
// Scoring and training use the same decisions: scoring combines them with
// the model's calibrated probability (Combine), and training fits the
// calibration so that the combined probability, what scoring outputs, is
// calibrated on the validation window (Verdict.Outer). Both describe a
// send with Send and its feature row with Columns, bound once per feature
// name list.
//
// The package reads no files and knows nothing of models; it sits above
// features (whose names it reads) and below the stages.
package mechanism
