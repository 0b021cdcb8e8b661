package colmatch

import (
	"fmt"
	"strings"
)

// Closeness scores how well an input column name fits a field known by
// names (its name, then its aliases); lower is better, and ok is false
// when the column is not close to any of them. Close means: the same
// letters and digits (case and punctuation ignored), an abbreviation of
// a name (its letters in order, the same first letter: tpl, cat,
// err_code), a shared prefix of 4 or more letters, or a small edit
// distance (at most a third of the name's length).
func Closeness(col string, names []string) (score float64, ok bool) {
	c := normName(col)
	if c == "" {
		return 0, false
	}
	best := 99.0
	for _, n := range names {
		n = normName(n)
		if n == "" {
			continue
		}
		var s float64
		switch {
		case c == n:
			s = 0
		case c[0] == n[0] && isSubsequence(c, n):
			s = 1 + float64(len(n)-len(c))/100
		case commonPrefix(c, n) >= 4:
			s = 1.5 + float64(len(n)-commonPrefix(c, n))/100
		default:
			d := editDistance(c, n)
			if d > max(1, len(n)/3) {
				continue
			}
			s = 2 + float64(d)
		}
		if s < best {
			best, ok = s, true
		}
	}
	return best, ok
}

// Closest returns the index of the candidate (each a field's names) that
// col is closest to, or -1 when none is close.
func Closest(col string, candidates [][]string) int {
	best, bestScore := -1, 99.0
	for i, names := range candidates {
		if s, ok := Closeness(col, names); ok && s < bestScore {
			best, bestScore = i, s
		}
	}
	return best
}

// Pair is one field=column (or field=path) pair of a --map value.
type Pair struct {
	Field, Column string
}

// ParsePairs splits a --map value, comma-separated field=column pairs such
// as "recipient=phone,template=tpl", into its pairs, spaces around names
// trimmed. An empty spec gives none; a pair without '=' or with an empty
// side is an error naming it and the form wanted, "field=" + what
// ("column", or "path" for JSON paths).
func ParsePairs(spec, what string) ([]Pair, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	var pairs []Pair
	for i, pair := range strings.Split(spec, ",") {
		field, col, ok := strings.Cut(pair, "=")
		field, col = strings.TrimSpace(field), strings.TrimSpace(col)
		if !ok || field == "" || col == "" {
			return nil, fmt.Errorf("mapping pair %d %q: want field=%s", i+1, pair, what)
		}
		pairs = append(pairs, Pair{Field: field, Column: col})
	}
	return pairs, nil
}

func normName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isSubsequence(short, long string) bool {
	i := 0
	for j := 0; i < len(short) && j < len(long); j++ {
		if short[i] == long[j] {
			i++
		}
	}
	return i == len(short)
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
