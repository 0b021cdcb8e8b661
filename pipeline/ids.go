package pipeline

import (
	"hash/fnv"
	"strconv"
)

// MakeEventID returns the contract's event id for a status event: 16 hex
// digits of the FNV-1a hash of message id, status and timestamp. Export and
// simulator both use it, so the same event always gets the same id and
// duplicate webhook deliveries collapse to one row.
func MakeEventID(messageID string, status Status, timestamp int64) string {
	h := fnv.New64a()
	h.Write([]byte(messageID))
	var buf [32]byte
	b := append(buf[:0], '|')
	b = append(b, status.String()...)
	b = append(b, '|')
	b = strconv.AppendInt(b, timestamp, 10)
	h.Write(b)
	s := strconv.FormatUint(h.Sum64(), 16)
	for len(s) < 16 {
		s = "0" + s
	}
	return s
}

// CountryOfNumber returns the country of an international phone number.
//
// Deprecated: use CountryOf, which it calls.
func CountryOfNumber(number string) string { return CountryOf(number) }

// MakeAccountEventID returns the contract's event id for an account event
// (Status.IsAccountEvent): 16 hex digits of the FNV-1a hash of what the
// event says: its kind, timestamp, account, phone number, recipient,
// template, language, category and account value, number and time. The
// same webhook exported twice, or delivered twice, gets the same id and
// collapses to one row; export and simulator both use it.
//
// displayNumber is the sender's display phone number when the webhook
// names the number by it rather than by its phone number id
// (phone_number_quality_update, account_update): it then stands for the
// number in the hash in place of e.PhoneNumberID, so the id does not
// depend on whether the export could resolve the display number to an id.
// Recipient is the hashed recipient, never the number.
func MakeAccountEventID(e *Event, displayNumber string) string {
	h := fnv.New64a()
	phone := e.PhoneNumberID
	if displayNumber != "" {
		phone = "display:" + displayNumber
	}
	var buf [64]byte
	b := append(buf[:0], e.Status.String()...)
	b = append(b, '|')
	b = strconv.AppendInt(b, e.Timestamp, 10)
	h.Write(b)
	for _, s := range [...]string{e.WABAID, phone, e.Recipient, e.Template, e.Language, e.Category, e.AccountValue} {
		h.Write([]byte{'|'})
		h.Write([]byte(s))
	}
	b = append(buf[:0], '|')
	b = strconv.AppendInt(b, e.AccountNumber, 10)
	b = append(b, '|')
	b = strconv.AppendInt(b, e.AccountUntil, 10)
	h.Write(b)
	s := strconv.FormatUint(h.Sum64(), 16)
	for len(s) < 16 {
		s = "0" + s
	}
	return s
}
