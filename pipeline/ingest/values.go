package ingest

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Timestamps outside [2000-01-01, 2100-01-01) are rejected: they are
// always unit mix-ups or placeholders, never real WhatsApp traffic.
const (
	minMicros = 946684800 * 1_000_000
	maxMicros = 4102444800 * 1_000_000
)

var errTimeRange = errors.New("timestamp out of range (want a time between 2000 and 2100)")

// parseUnix parses a Unix time written as decimal digits with an optional
// fraction ("1790000000", "1790000000.25", "1790000000123") and returns
// microseconds. The unit follows from the magnitude: below 1e11 seconds,
// below 1e14 milliseconds, below 1e17 microseconds.
func parseUnix(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, errors.New("empty timestamp")
	}
	var whole int64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if i >= 17 {
			return 0, errTimeRange
		}
		whole = whole*10 + int64(b[i]-'0')
	}
	if i == 0 {
		return 0, fmt.Errorf("timestamp %q is not a number", b)
	}
	var frac int64 // microseconds of the fraction, when the unit is seconds
	var scale int64
	switch {
	case whole < 1e11:
		scale = 1_000_000
	case whole < 1e14:
		scale = 1_000
	default:
		scale = 1
	}
	if i < len(b) {
		if b[i] != '.' || i+1 == len(b) {
			return 0, fmt.Errorf("timestamp %q is not a number", b)
		}
		unit := scale / 10
		for _, c := range b[i+1:] {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("timestamp %q is not a number", b)
			}
			frac += int64(c-'0') * unit
			unit /= 10
		}
	}
	us := whole*scale + frac
	if us < minMicros || us >= maxMicros {
		return 0, errTimeRange
	}
	return us, nil
}

// parseTime parses an RFC 3339 time ("2026-09-21T13:33:20.120Z", a space
// instead of the T is accepted) or a Unix time (see parseUnix) and returns
// Unix microseconds. A time without a zone ("2026-09-20 09:01:00") is read
// in loc; with a nil loc it is an error naming --timezone.
func parseTime(b []byte, loc *time.Location) (int64, error) {
	if len(b) > 4 && b[4] == '-' {
		s := string(b)
		if len(s) > 10 && s[10] == ' ' {
			s = s[:10] + "T" + s[11:]
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			lt, lerr := time.Parse(localLayout, s)
			switch {
			case lerr == nil && loc == nil:
				return 0, fmt.Errorf("timestamp %q has no time zone: give --timezone (for example --timezone UTC or --timezone America/Sao_Paulo) to read such times", b)
			case lerr == nil:
				t = time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), lt.Second(), lt.Nanosecond(), loc)
			default:
				return 0, fmt.Errorf("timestamp %q is neither RFC 3339 nor Unix seconds or milliseconds", b)
			}
		}
		us := t.UnixMicro()
		if us < minMicros || us >= maxMicros {
			return 0, errTimeRange
		}
		return us, nil
	}
	us, err := parseUnix(b)
	if err != nil && !errors.Is(err, errTimeRange) {
		return 0, fmt.Errorf("timestamp %q is neither RFC 3339 nor Unix seconds or milliseconds", b)
	}
	return us, err
}

// localLayout is an RFC 3339 time without its zone.
const localLayout = "2006-01-02T15:04:05.999999999"

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
