package pipeline

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// RecipientHasher turns phone numbers into stable pseudonyms with a keyed
// hash (HMAC-SHA256), so history can be joined per recipient without
// storing numbers. The same key must be used for history and plans.
type RecipientHasher struct {
	key []byte
}

// HashedPrefix starts every hashed recipient, so a hashed value is never
// mistaken for a number (and is never hashed twice).
const HashedPrefix = "h:"

// NewRecipientHasher returns a hasher with the given secret key.
func NewRecipientHasher(key []byte) *RecipientHasher {
	return &RecipientHasher{key: append([]byte(nil), key...)}
}

// Hash returns the pseudonym of a phone number: "h:" and 16 hex digits.
// The number is normalised first (spaces, dashes, a leading "+" removed).
// A value that is already hashed is returned unchanged.
func (h *RecipientHasher) Hash(number string) string {
	if strings.HasPrefix(number, HashedPrefix) {
		return number
	}
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(NormalizeNumber(number)))
	var sum [sha256.Size]byte
	return HashedPrefix + hex.EncodeToString(m.Sum(sum[:0])[:8])
}

// NormalizeNumber strips the formatting characters people put in phone
// numbers (spaces, dashes, dots, parentheses and a leading "+").
func NormalizeNumber(number string) string {
	var b strings.Builder
	b.Grow(len(number))
	for _, r := range number {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// MaskNumber masks all but the last four digits of a phone number
// ("*******4321"), for outputs that must show unhashed recipients.
func MaskNumber(number string) string {
	n := NormalizeNumber(number)
	if len(n) <= 4 {
		return strings.Repeat("*", len(n))
	}
	return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
}
