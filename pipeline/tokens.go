package pipeline

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/failcast/failcast/internal/atomicfile"
)

// TokenExpiry is when the access token a WABA's sends use expires: one
// row of a token file. A sender knows it ahead (Meta's debug_token
// endpoint reports a token's expires_at), and every send after it is
// refused with 190 until the token is renewed.
type TokenExpiry struct {
	WABAID    string
	ExpiresAt int64 // Unix µs; TokenNeverExpires for a token without expiry
}

// TokenNeverExpires is the ExpiresAt of a token that does not expire
// (a system user's token set to never expire).
const TokenNeverExpires int64 = 0

// ColTokenExpiresAt is the expiry column of a token file.
const ColTokenExpiresAt = "token_expires_at"

// TokenColumns are the columns of a token file, in the order
// WriteTokenExpiries writes them.
var TokenColumns = []string{ColWABAID, ColTokenExpiresAt}

// ReadTokenExpiries reads a token file: CSV with a header naming waba_id
// and token_expires_at (other columns are ignored), one row per WABA. An
// expiry is an RFC 3339 time or a Unix time in seconds, milliseconds or
// microseconds; empty or "never" means the token does not expire. A bad
// or repeated row fails the read with a RowError naming it.
func ReadTokenExpiries(path string) ([]TokenExpiry, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, fmt.Errorf("read token file: %w", err)
	}
	defer f.Close()
	return readTokenExpiries(path, f)
}

func readTokenExpiries(path string, r io.Reader) ([]TokenExpiry, error) {
	if kind, err := fileFormat(path); err != nil || kind != "csv" {
		return nil, fmt.Errorf("%s: want a .csv token file", path)
	}
	var out []TokenExpiry
	rowOf := map[string]int{}
	err := readCSVRecords(path, r, TokenColumns, func(row int, h csvHeader, rec []string) error {
		t := TokenExpiry{WABAID: strings.TrimSpace(h.get(rec, ColWABAID))}
		if t.WABAID == "" {
			return RowError{File: path, Row: row, Column: ColWABAID, Err: errors.New("missing WABA id")}
		}
		if first, dup := rowOf[t.WABAID]; dup {
			return RowError{File: path, Row: row, Column: ColWABAID, Err: fmt.Errorf("WABA %q already has a token in row %d", t.WABAID, first)}
		}
		rowOf[t.WABAID] = row
		switch v := strings.TrimSpace(h.get(rec, ColTokenExpiresAt)); {
		case v == "" || strings.EqualFold(v, "never"):
			t.ExpiresAt = TokenNeverExpires
		default:
			exp, err := parseScheduledAt(v, nil)
			if err != nil {
				return RowError{File: path, Row: row, Column: ColTokenExpiresAt, Err: errors.New(strings.Replace(err.Error(), "scheduled time", "expiry", 1))}
			}
			if exp == TokenNeverExpires {
				return RowError{File: path, Row: row, Column: ColTokenExpiresAt, Err: errors.New(`the Unix epoch is not an expiry: leave the cell empty or write "never" for a token that does not expire`)}
			}
			t.ExpiresAt = exp
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// WriteTokenExpiries writes a token file (CSV, atomically), sorted by
// WABA id; a token that does not expire has an empty expiry.
func WriteTokenExpiries(path string, tokens []TokenExpiry) error {
	if kind, err := fileFormat(path); err != nil || kind != "csv" {
		return fmt.Errorf("%s: want a .csv token file", path)
	}
	sorted := slices.Clone(tokens)
	slices.SortFunc(sorted, func(a, b TokenExpiry) int { return strings.Compare(a.WABAID, b.WABAID) })
	return atomicfile.WriteFile(path, func(f *atomicfile.File) error {
		cw := csv.NewWriter(f)
		cw.Write(TokenColumns)
		for _, t := range sorted {
			exp := ""
			if t.ExpiresAt != TokenNeverExpires {
				exp = formatMicros(t.ExpiresAt)
			}
			cw.Write([]string{t.WABAID, exp})
		}
		cw.Flush()
		return cw.Error()
	})
}
