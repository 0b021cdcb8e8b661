package ingest

import (
	"strings"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// parseUnix parses a Unix time written as decimal digits with an optional
// fraction into microseconds (pipeline.ParseUnixTime).
func parseUnix(b []byte) (int64, error) { return pipeline.ParseUnixTime(b) }

// parseTime parses an RFC 3339 or Unix time, a zone-less time in loc
// (pipeline.ParseTime: the formats export and score accept).
func parseTime(b []byte, loc *time.Location) (int64, error) { return pipeline.ParseTime(b, loc) }

// rawControlInString finds a raw control character (below U+0020) inside
// a JSON string, which JSON forbids (it must be escaped, e.g. \u0000) and
// which would otherwise reach ids and names as it is. Tabs and line
// breaks between tokens are fine.
func rawControlInString(line []byte) *lineError {
	has := false
	for _, c := range line {
		if c < 0x20 {
			has = true
			break
		}
	}
	if !has {
		return nil
	}
	in, esc := false, false
	for i, c := range line {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case in && c < 0x20:
			return reject(KindControlChar, "raw control character U+%04X at byte %d inside a JSON string (JSON wants it escaped)", c, i)
		}
	}
	return nil
}

// parseInt parses an optionally signed decimal integer that fits in bits.
func parseInt(b []byte, bits uint) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg || b[0] == '+' {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	limit := uint64(1)<<(bits-1) - 1 // largest positive value
	if neg {
		limit++
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > limit {
			return 0, false
		}
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

// parseBool accepts the spellings of a flag that CSV and JSON tools use.
func parseBool(b []byte) (value, ok bool) {
	switch strings.ToLower(string(b)) {
	case "true", "1", "yes", "y", "t":
		return true, true
	case "false", "0", "no", "n", "f", "":
		return false, true
	}
	return false, false
}

// campaignFromCallback extracts the campaign id from a webhook's
// biz_opaque_callback_data, which senders fill with key=value pairs such as
// "campaign=black-friday-2026" (separated by ';', '&', ',' or spaces).
func campaignFromCallback(b []byte) []byte {
	for len(b) > 0 {
		end := len(b)
		for i, c := range b {
			if c == ';' || c == '&' || c == ',' || c == ' ' {
				end = i
				break
			}
		}
		pair := b[:end]
		if k, v, ok := cutByte(pair, '='); ok && (string(k) == "campaign" || string(k) == "campaign_id") {
			return v
		}
		if end == len(b) {
			break
		}
		b = b[end+1:]
	}
	return nil
}

func cutByte(b []byte, sep byte) (before, after []byte, found bool) {
	for i, c := range b {
		if c == sep {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}
