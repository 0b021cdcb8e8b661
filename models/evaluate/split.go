package evaluate

import (
	"errors"
	"fmt"
	"time"
)

// Day is one day in the microseconds of the times.
const Day = int64(24 * time.Hour / time.Microsecond)

// ErrEmptySide is returned (wrapped) when a split leaves no training or no
// validation rows.
var ErrEmptySide = errors.New("evaluate: split leaves a side empty")

// TimeSplit returns the rows to train on (time < validFrom - gap) and to
// validate on (time >= validFrom), each in row order. gap must be at least
// the prediction lead time (see the package documentation); a negative
// gap is an error, as is a side with no rows.
func TimeSplit(times []int64, validFrom int64, gap time.Duration) (train, valid []int, err error) {
	if gap < 0 {
		return nil, nil, fmt.Errorf("evaluate: gap %v is negative, want at least the lead time", gap)
	}
	trainTo := validFrom - gap.Microseconds()
	for i, t := range times {
		switch {
		case t >= validFrom:
			valid = append(valid, i)
		case t < trainTo:
			train = append(train, i)
		}
	}
	if len(train) == 0 || len(valid) == 0 {
		return nil, nil, fmt.Errorf("%w: %d training rows before %s (gap %v), %d validation rows from %s on, of %d rows",
			ErrEmptySide, len(train), FormatMicros(trainTo), gap, len(valid), FormatMicros(validFrom), len(times))
	}
	return train, valid, nil
}

// LastDays is TimeSplit with the validation window the most recent days
// days: the rows with time in (latest - days*24h, latest]. It returns the
// window's start, validFrom = latest + 1 - days*24h.
func LastDays(times []int64, days int, gap time.Duration) (train, valid []int, validFrom int64, err error) {
	if days <= 0 {
		return nil, nil, 0, fmt.Errorf("evaluate: validation window of %d days, want at least 1", days)
	}
	if len(times) == 0 {
		return nil, nil, 0, fmt.Errorf("%w: no rows", ErrEmptySide)
	}
	validFrom = latest(times) + 1 - int64(days)*Day
	train, valid, err = TimeSplit(times, validFrom, gap)
	return train, valid, validFrom, err
}

// Window returns the earliest and latest time of the given rows, or 0, 0
// when there are none.
func Window(times []int64, rows []int) (from, to int64) {
	for k, i := range rows {
		t := times[i]
		if k == 0 || t < from {
			from = t
		}
		if k == 0 || t > to {
			to = t
		}
	}
	return from, to
}

// FormatMicros formats Unix microseconds as RFC 3339 UTC, for messages.
func FormatMicros(t int64) string {
	return time.UnixMicro(t).UTC().Format(time.RFC3339)
}

func latest(times []int64) int64 {
	m := times[0]
	for _, t := range times[1:] {
		m = max(m, t)
	}
	return m
}
