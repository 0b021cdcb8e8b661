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
	return FormatEventID(EventIDHash(messageID, status, timestamp))
}

// EventIDHash returns the hash MakeEventID writes in hex: ids compare as
// their hashes do (FormatEventID pads to a fixed width).
func EventIDHash(messageID string, status Status, timestamp int64) uint64 {
	return EventIDHashOf(MessageIDHash(messageID), status, timestamp)
}

// MessageIDHash returns the part of EventIDHash that depends on the
// message id alone, for EventIDHashOf: the events of one message (a send
// and its statuses) hash its id once.
func MessageIDHash(messageID string) uint64 { return fnv1a(fnvOffset, messageID) }

// EventIDHashOf returns EventIDHash(messageID, status, timestamp) given
// MessageIDHash(messageID).
func EventIDHashOf(messageIDHash uint64, status Status, timestamp int64) uint64 {
	var buf [32]byte
	b := append(buf[:0], '|')
	b = append(b, status.String()...)
	b = append(b, '|')
	b = strconv.AppendInt(b, timestamp, 10)
	return fnv1a(messageIDHash, string(b))
}

// FNV-1a, 64 bits (hash/fnv's, without its allocations).
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func fnv1a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// FormatEventID writes an event id hash as the contract's event id: 16
// hex digits.
func FormatEventID(h uint64) string {
	var b [16]byte
	return string(AppendEventID(b[:0], h))
}

// AppendEventID appends the 16 hex digits of an event id hash to b.
func AppendEventID(b []byte, h uint64) []byte {
	const hex = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		b = append(b, hex[h>>uint(i)&15])
	}
	return b
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
	return FormatEventID(AccountEventIDHash(e, displayNumber))
}

// AccountEventIDHash returns the hash MakeAccountEventID writes in hex.
func AccountEventIDHash(e *Event, displayNumber string) uint64 {
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
	return h.Sum64()
}
