package scoring

import (
	"github.com/failcast/failcast/features/mechanism"
)

// Known failure mechanisms.
//
// Some failures follow from the schedule and Meta's published limits, not
// from anything a model can learn (a campaign planned above its number's
// throughput, a template failing on its parameters, a closed 24-hour
// window, the tier limit, media above the size limit). The package
// features/mechanism knows them, and the share of sends each fails; the
// Scorer combines them with the model's calibrated probability in one
// place (applyMechanisms, mechanism.Combine): a mechanism replaces the
// model's probability of its own family, the model's other families apply
// to the sends no mechanism failed, and a mechanism never lowers a
// probability. Training fits the calibration map through the same
// combination, so that what the Scorer outputs is calibrated, not the
// model's probability alone (docs/predictions.md).
//
// A send after a known token expiry (ScorerConfig.TokenExpiry) is a
// mechanism of its own, decided before these (decideTokenExpired), and so
// is a send an announced account state or Meta's US policy fails
// (knownFailureOf, decideKnown): both take the whole failure mass.

// unbound locates no feature: the rules of a row without features.
var unbound = mechanism.Bind(nil)

// mechInputs is what the mechanism package reads of a row: its columns,
// the send and its feature values.
type mechInputs struct {
	cols *mechanism.Columns
	send mechanism.Send
	x    []float32
}

// mechanismInputs returns what the mechanism package reads of the row.
// Score makes them once per send for the rules and the shares (making
// them twice cost a 1M-send plan about 0.05 CPU seconds).
func (r row) mechanismInputs() mechInputs {
	s := mechanism.FromPlanned(r.send)
	if r.fx == nil || !r.fx.bound {
		return mechInputs{cols: &unbound, send: s}
	}
	return mechInputs{cols: &r.fx.mech, send: s, x: r.fx.x[r.i*r.fx.width : (r.i+1)*r.fx.width]}
}

// applyMechanisms combines p's model probabilities (P(fail) and the
// family split, calibrated) with the known mechanisms of the send, unless
// decided (a token expiry or a deterministic rule decides the send). It
// reports whether a mechanism changed p. Every send passes through it in
// scheduled order, the decided ones too: the tier limit counts the
// conversations the plan's earlier sends open, and a decided send opens
// none (mechanism.TierLedger).
func (s *Scorer) applyMechanisms(p *Prediction, r row, in *mechInputs, decided bool) bool {
	cols, ms, x := in.cols, &in.send, in.x
	ts := mechanism.TierSend{Phone: r.send.PhoneNumberID, Recipient: r.send.Recipient, Refused: decided}
	if decided {
		s.tier.Tier(cols, ms, x, ts, nil)
		return false
	}
	sh := cols.Shares(ms, x, r.throughput)
	s.tier.Tier(cols, ms, x, ts, &sh)
	return mechanism.Combine(&p.PFail, &p.PFamily, &sh)
}

// tierLedger is the Scorer's ledger of the plan's refused sends.
type tierLedger = mechanism.TierLedger
