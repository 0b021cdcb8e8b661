package pipeline

import (
	"errors"
	"fmt"
	"time"
)

// Timestamps outside [2000-01-01, 2100-01-01) are rejected by ParseTime:
// they are always unit mix-ups or placeholders, never real WhatsApp
// traffic.
const (
	minTimeMicros = 946684800 * 1_000_000
	maxTimeMicros = 4102444800 * 1_000_000
)

// ErrTimeRange is matched by the error for a time before 2000 or from
// 2100 on.
var ErrTimeRange = errors.New("timestamp out of range (want a time between 2000 and 2100)")

// ParseUnixTime parses a Unix time written as decimal digits with an
// optional fraction ("1790000000", "1790000000.25", "1790000000123") and
// returns microseconds. The unit follows from the magnitude: below 1e11
// seconds, below 1e14 milliseconds, below 1e17 microseconds.
func ParseUnixTime(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, errors.New("empty timestamp")
	}
	var whole int64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if i >= 17 {
			return 0, ErrTimeRange
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
	if us < minTimeMicros || us >= maxTimeMicros {
		return 0, ErrTimeRange
	}
	return us, nil
}

// ParseTime parses the times export (send logs) and score (plans) accept
// and returns Unix microseconds: an RFC 3339 time
// ("2026-09-21T13:33:20.120Z"; a space instead of the T is accepted) or a
// Unix time (see ParseUnixTime). A time without a zone
// ("2026-09-20 09:01:00") is read in loc; with a nil loc it is an error
// naming --timezone. Times outside 2000..2100 are ErrTimeRange.
func ParseTime(b []byte, loc *time.Location) (int64, error) {
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
		if us < minTimeMicros || us >= maxTimeMicros {
			return 0, ErrTimeRange
		}
		return us, nil
	}
	us, err := ParseUnixTime(b)
	if err != nil && !errors.Is(err, ErrTimeRange) {
		return 0, fmt.Errorf("timestamp %q is neither RFC 3339 nor Unix seconds or milliseconds", b)
	}
	return us, err
}

// localLayout is an RFC 3339 time without its zone.
const localLayout = "2006-01-02T15:04:05.999999999"
