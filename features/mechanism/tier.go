package mechanism

// The messaging tier limit counts conversations, not sends.
//
// Meta limits the unique users a number opens business-initiated
// conversations with in a rolling 24 hours. A send the limit refuses
// (131048), or one a rule fails (a paused template, a locked account, the
// US marketing policy, ...), opens no conversation and so uses up no slot.
// The feature phone_unique_recipients_24h counts every send's recipient
// (the schedule stage sees no outcomes): on a plan it counts the sends
// the limit itself will refuse, and once a number reaches its limit the
// count stays there for 24 h after the refused sends even though the
// admitted ones age out of the window and free their slots.
//
// A TierLedger follows a sender's sends in time order and keeps, per
// number, the recipients the feature counted whose send was refused (by
// the tier limit or a rule) within the trailing 24 hours: the number's
// admitted unique recipients are the feature's count minus those. Scoring
// runs one over the plan (its sends come in scheduled order) and training
// one over the validation window, so that both decide the tier limit the
// same way. Only certain refusals are left out: a send that may fail for
// another reason (the model's probability) is still counted.

// TierLedger is the refusals of a sender's numbers in the trailing 24 h.
// The zero value is empty and ready; it is not safe for concurrent use.
type TierLedger struct {
	phones map[string]*tierPhone
}

// tierPhone is a number's recipients whose counted send was refused in
// the trailing 24 h: recipient -> when (Unix µs), with their order for
// expiry.
type tierPhone struct {
	refused map[string]int64
	order   []refusal
	head    int
}

type refusal struct {
	at    int64
	recip string
}

// TierWindowHours is the messaging tier's rolling window: a recipient the
// number sent to less than this long ago is counted already.
const TierWindowHours = 24

const usPerDay = TierWindowHours * 3600 * 1e6

// TierSend is what the ledger reads of one send.
type TierSend struct {
	Phone, Recipient string
	// Refused: a rule fails the send, or a mechanism decided before the
	// tier limit (token expiry) does; it opens no conversation.
	Refused bool
}

// Tier applies the ledger to the send's shares: it recomputes
// sh[TierLimit] from the admitted unique recipients of the number (the
// feature's count less the refused ones) and notes whether the send
// itself opens a conversation. Call it for every send of a sender in
// time order, the ones a rule decides included (with ts.Refused).
func (l *TierLedger) Tier(c *Columns, s *Send, x []float32, ts TierSend, sh *Shares) {
	if l.phones == nil {
		l.phones = make(map[string]*tierPhone)
	}
	p := l.phones[ts.Phone]
	if p == nil {
		p = &tierPhone{refused: make(map[string]int64)}
		l.phones[ts.Phone] = p
	}
	p.expire(s.At - usPerDay)
	r := row{c: c, x: x}
	h, okH := r.get(inPairHoursSincePrev)
	// counted: the feature counts the recipient anew with this send (no
	// send of the number to it in the trailing 24 h).
	counted := !(okH && h < TierWindowHours)
	_, wasRefused := p.refused[ts.Recipient]
	refusedByTier := false
	if sh != nil && !ts.Refused {
		sh[TierLimit] = 0
		u, ok1 := r.get(inPhoneUnique24h)
		limit, ok2 := r.get(inPhoneTierLimit)
		if s.IsTemplateSend() && ok1 && ok2 && limit > 0 && limit < UnlimitedTier &&
			u-float64(len(p.refused)) >= limit && (counted || wasRefused) {
			sh[TierLimit] = 1
			refusedByTier = true
		}
	}
	switch {
	case ts.Refused || refusedByTier:
		if counted || wasRefused {
			// The feature counts the recipient until 24 h after this send.
			p.refused[ts.Recipient] = s.At
			p.order = append(p.order, refusal{at: s.At, recip: ts.Recipient})
		}
	case wasRefused:
		// The conversation opens now: the recipient counts for real.
		delete(p.refused, ts.Recipient)
	}
}

// expire drops the refusals at or before limit (the feature no longer
// counts them either).
func (p *tierPhone) expire(limit int64) {
	for p.head < len(p.order) && p.order[p.head].at <= limit {
		e := p.order[p.head]
		p.head++
		if at, ok := p.refused[e.recip]; ok && at == e.at {
			delete(p.refused, e.recip)
		}
	}
	if p.head > 1024 && p.head*2 > len(p.order) {
		n := copy(p.order, p.order[p.head:])
		p.order = p.order[:n]
		p.head = 0
	}
}
