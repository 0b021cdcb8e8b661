package pipeline

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/failcast/failcast/internal/colmatch"
)

// planAliases are other names accepted for plan contract columns, as
// --map keys and as column names of a plan file (the send-log field
// names of export's --map among them, so one vocabulary serves both).
var planAliases = map[string][]string{
	ColSendID:      {"request_id"},
	ColCampaignID:  {"campaign"},
	ColRecipient:   {"to", "recipient_id", "phone"},
	ColTemplate:    {"template"},
	ColLanguage:    {"language", "language_code"},
	ColMessageType: {"type"},
}

// planNames returns a plan column's name and aliases.
func planNames(col string) []string { return append([]string{col}, planAliases[col]...) }

// lookupPlanColumn finds a plan contract column by its name or an alias.
func lookupPlanColumn(name string) (string, bool) {
	for _, c := range PlanColumns {
		if slices.Contains(planNames(c), name) {
			return c, true
		}
	}
	return "", false
}

// PlanMapping names, for plan contract columns, the column of a plan file
// that holds them: keys are contract column names (ColRecipient, ...),
// values column names of the file. Columns not in the mapping are looked
// up by their contract name, then by their aliases.
type PlanMapping map[string]string

// ParsePlanMapping parses a score --map value: comma-separated
// column=file-column pairs such as "recipient=phone,scheduled_at=send_time"
// (the same syntax as export's --map). Contract columns may be given by an
// alias ("template" for template_name, "campaign" for campaign_id); the
// result is keyed by the contract names. An empty spec gives an empty
// mapping.
func ParsePlanMapping(spec string) (PlanMapping, error) {
	pairs, err := colmatch.ParsePairs(spec, "column")
	if err != nil {
		return nil, err
	}
	m := PlanMapping{}
	for i, p := range pairs {
		col, ok := lookupPlanColumn(p.Field)
		if !ok {
			return nil, fmt.Errorf("mapping pair %d %s=%s: unknown plan column %q (want one of %s)", i+1, p.Field, p.Column, p.Field, strings.Join(PlanColumns, ", "))
		}
		if _, dup := m[col]; dup {
			return nil, fmt.Errorf("mapping pair %d %s=%s: plan column %q mapped twice", i+1, p.Field, p.Column, col)
		}
		m[col] = p.Column
	}
	return m, nil
}

// PlanOptions says how ReadPlanWith reads a plan file that is not written
// exactly as the plan contract says.
type PlanOptions struct {
	// Mapping names the file's columns for contract columns it holds
	// under other names (score --map).
	Mapping PlanMapping
	// Location is the time zone of scheduled_at times written without one
	// ("2026-11-01 09:00:00"; score --timezone). Nil rejects such rows
	// with a message naming --timezone.
	Location *time.Location
	// OnWarning receives what the reader noticed without stopping: the
	// file's columns that no contract column uses, each with the closest
	// contract column ("did you mean --map template_name=tpl?"). Nil
	// discards them.
	OnWarning func(string)
}

// PlanColumnsError is a plan file without columns the contract requires
// (or that --map names). It lists all of them at once.
type PlanColumnsError struct {
	File    string
	Missing []string // what is missing and how to map it, one entry per column
	Header  []string // the file's column names
}

func (e *PlanColumnsError) Error() string {
	return fmt.Sprintf("%s: %d plan column(s) missing: %s (the file has %s)",
		e.File, len(e.Missing), strings.Join(e.Missing, "; "), strings.Join(e.Header, ","))
}

// resolvePlanColumns finds the file column of each contract column from
// the file's column names: the mapped name, else the contract name, else
// an alias (exact, then ignoring case). It returns the file index of each
// contract column found, and warns about file columns nothing uses.
func resolvePlanColumns(path string, names []string, opts PlanOptions) (map[string]int, error) {
	clean := make([]string, len(names))
	for i, n := range names {
		if i == 0 {
			n = strings.TrimPrefix(n, "\ufeff")
		}
		clean[i] = strings.TrimSpace(n)
	}
	for i, n := range clean {
		if n != "" && slices.Index(clean, n) != i {
			return nil, fmt.Errorf("%s: header: column %s appears twice", path, n)
		}
	}
	find := func(name string) int {
		if i := slices.Index(clean, name); i >= 0 {
			return i
		}
		return slices.IndexFunc(clean, func(h string) bool { return strings.EqualFold(h, name) })
	}
	for col := range opts.Mapping {
		if _, ok := lookupPlanColumn(col); !ok {
			return nil, fmt.Errorf("%s: mapping: unknown plan column %q (want one of %s)", path, col, strings.Join(PlanColumns, ", "))
		}
	}
	idx := make(map[string]int, len(PlanColumns))
	used := make([]bool, len(clean))
	var missing []string
	for _, col := range PlanColumns {
		i := -1
		if m, ok := opts.Mapping[col]; ok {
			if i = find(m); i < 0 {
				missing = append(missing, fmt.Sprintf("no column %q for %s (from --map)", m, col))
				continue
			}
		} else {
			for _, n := range planNames(col) {
				if i = find(n); i >= 0 {
					break
				}
			}
		}
		if i >= 0 {
			if used[i] {
				return nil, fmt.Errorf("%s: column %s is used for two plan columns (check --map)", path, clean[i])
			}
			idx[col], used[i] = i, true
		}
	}
	var unbound []string
	for _, col := range PlanColumns {
		if _, ok := idx[col]; !ok {
			unbound = append(unbound, col)
		}
	}
	candidates := make([][]string, len(unbound))
	for k, col := range unbound {
		candidates[k] = planNames(col)
	}
	for _, col := range planRequired {
		if _, ok := idx[col]; ok || opts.Mapping[col] != "" {
			continue
		}
		hint, best := "", 99.0
		for i, h := range clean {
			if s, ok := colmatch.Closeness(h, planNames(col)); ok && !used[i] && s < best {
				hint, best = fmt.Sprintf("; column %q looks like it", h), s
			}
		}
		missing = append(missing, fmt.Sprintf("%s (want a column %q or --map %s=COLUMN%s)", col, col, col, hint))
	}
	if opts.OnWarning != nil {
		for i, h := range clean {
			if used[i] {
				continue
			}
			msg := fmt.Sprintf("%s: column `%s` is not used", path, h)
			if k := colmatch.Closest(h, candidates); k >= 0 {
				msg += fmt.Sprintf("; did you mean --map %s=%s?", unbound[k], h)
			} else {
				msg += " (no plan column is close; the plan contract is in docs/predictions.md)"
			}
			opts.OnWarning(msg)
		}
	}
	if len(missing) > 0 {
		return nil, &PlanColumnsError{File: path, Missing: missing, Header: clean}
	}
	return idx, nil
}
