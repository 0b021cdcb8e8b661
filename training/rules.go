package training

import (
	"fmt"
	"sync"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/features/mechanism"
)

// ruleFilter leaves the sends a deterministic rule decides
// (features/mechanism: an announced lock, restriction, template pause or
// disable, a recipient's marketing stop, Meta's US marketing policy) out
// of the models' training and validation rows. Scoring scores those sends
// by the rule whatever the model says; a model that learns them anyway
// learns a certain failure through proxies (a country's failure rate for
// the US policy, say) and smears it over the sends beside them, and its
// family split takes their codes for everyone's (131049 as the likely
// recipient failure). The models learn what the rules do not know.
type ruleFilter struct {
	mu       sync.Mutex
	bound    []string // the names cols was bound for
	cols     mechanism.Columns
	dropped  [mechanism.NumRules]int
	failures [mechanism.NumRules]int
}

// drop returns part without the rows a rule decides (part itself when
// there are none).
func (f *ruleFilter) drop(part *features.Table) *features.Table {
	ruled := f.decide(part)
	if ruled == nil {
		return part
	}
	keep := make([]int, 0, part.Rows)
	for i, r := range ruled {
		if !r {
			keep = append(keep, i)
		}
	}
	return part.SelectRows(keep)
}

// decide counts the rows of part a rule decides and returns which they
// are (nil when there are none), leaving part as it is.
func (f *ruleFilter) decide(part *features.Table) []bool {
	if part.Rows == 0 || len(part.Names) == 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bound) != len(part.Names) || &f.bound[0] != &part.Names[0] {
		f.cols, f.bound = mechanism.Bind(part.Names), part.Names
	}
	var ruled []bool
	for i := range part.Rows {
		x := part.Row(i)
		country := ""
		if i < len(part.Country) {
			country = part.Country[i]
		}
		s := f.cols.SendFromRow(x, part.Time[i], country)
		if r := f.cols.Decide(&s, x).Rule; r != mechanism.NoRule {
			if ruled == nil {
				ruled = make([]bool, part.Rows)
			}
			ruled[i] = true
			f.dropped[r]++
			if part.Failed[i] {
				f.failures[r]++
			}
		}
	}
	return ruled
}

// String lists the rows each rule decided.
func (f *ruleFilter) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := ""
	for r, n := range f.dropped {
		if n > 0 {
			if out != "" {
				out += "; "
			}
			out += fmt.Sprintf("%d sends failing with %d (%d of them failed)", n, mechanism.RuleCodes[r], f.failures[r])
		}
	}
	return out
}

// total is the number of rows left out.
func (f *ruleFilter) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, d := range f.dropped {
		n += d
	}
	return n
}
