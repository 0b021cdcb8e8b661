package scoring

import (
	"context"
	"log/slog"
	"math"
	"os"
	"strings"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/outcomes"
	"github.com/failcast/failcast/scoring/plans"
)

// IsHistoryDir reports whether an --outcomes path names a history dataset
// (a directory) rather than an outcome file (.parquet or .csv).
func IsHistoryDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// readOutcomes reads Config.Outcomes: an outcome file as it is, or a
// history dataset exported after the plan ran, from which the plan's
// outcomes are derived (package scoring/outcomes).
func readOutcomes(ctx context.Context, o Config, p *plans.Set, rekey func(string) string, log *slog.Logger) ([]pipeline.PlanOutcome, error) {
	if !IsHistoryDir(o.Outcomes) {
		out, err := pipeline.ReadOutcomes(o.Outcomes)
		if err != nil {
			return nil, exitcode.Inputf("outcomes: %w", err)
		}
		return out, nil
	}
	sends, err := PlanSends(ctx, p, rekey)
	if err != nil {
		return nil, err
	}
	ds, err := pipeline.OpenDataset(o.Outcomes)
	if err != nil {
		return nil, exitcode.Inputf("outcomes history: %w", err)
	}
	res, err := outcomes.Derive(ctx, sends, ds, outcomes.DefaultOptions(), log)
	if err != nil {
		return nil, classify(ctx, exitcode.AsInput(err))
	}
	return res.Outcomes, nil
}

// PlanSends returns the valid sends of the plans, in time order, with raw
// recipients keyed by rekey (when not nil: hashed, or normalised digits
// for an unhashed history) as scoring keys them.
func PlanSends(ctx context.Context, p *plans.Set, rekey func(string) string) ([]pipeline.PlannedSend, error) {
	var sends []pipeline.PlannedSend
	err := p.Stream(ctx, func(batch []pipeline.PlannedSend) error {
		for _, s := range batch {
			if rekey != nil && !strings.HasPrefix(s.Recipient, pipeline.HashedPrefix) {
				s.Recipient = rekey(s.Recipient)
			}
			sends = append(sends, s)
		}
		return nil
	})
	if err != nil {
		return nil, classify(ctx, err)
	}
	return sends, nil
}

// OutcomesConfig is what `failcast outcomes` derives and where it writes.
type OutcomesConfig struct {
	Plans       []string // the plans that were scored (--plan)
	History     string   // a history exported after the plan ran (--history)
	Out         string   // outcome file to write, .csv or .parquet (--out)
	Options     outcomes.Options
	HashKey     []byte // hashes raw plan recipients, as score does
	HashKeyFrom string
	BatchSize   int
	Logger      *slog.Logger
}

// DeriveOutcomes derives the outcomes of cfg.Plans from cfg.History
// (outcomes.Derive) and writes them to cfg.Out atomically, in the outcome
// file contract (pipeline.WriteOutcomes) that score --outcomes and the
// notebooks read. Plan rows that cannot be read are skipped and counted;
// unreadable files and histories are input errors.
func DeriveOutcomes(ctx context.Context, cfg OutcomesConfig) (*outcomes.Result, error) {
	switch {
	case len(cfg.Plans) == 0:
		return nil, exitcode.Usagef("--plan is required")
	case cfg.History == "":
		return nil, exitcode.Usagef("--history is required")
	case cfg.Out == "":
		return nil, exitcode.Usagef("--out is required")
	}
	if cfg.BatchSize < 1 {
		cfg.BatchSize = DefaultConfig().BatchSize
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rejected := 0
	p, err := plans.Survey(ctx, cfg.Plans, math.MinInt64, cfg.BatchSize, func(pipeline.RowError) error { rejected++; return nil })
	if err != nil {
		return nil, err
	}
	if rejected > 0 {
		log.Warn("plan rows that cannot be read are left out (score lists them in rejected_rows.csv)", "rows", rejected)
	}
	var hasher *pipeline.RecipientHasher
	if _, _, unhashed := p.Counts(); unhashed > 0 {
		if len(cfg.HashKey) == 0 {
			return nil, exitcode.Inputf("%d plan recipients are raw numbers and no hashing key is set (%s): they cannot be joined to the history", unhashed, cfg.HashKeyFrom)
		}
		hasher = pipeline.NewRecipientHasher(cfg.HashKey)
	}
	var rekey func(string) string
	if hasher != nil {
		rekey = hasher.Hash
	}
	sends, err := PlanSends(ctx, p, rekey)
	if err != nil {
		return nil, err
	}
	ds, err := pipeline.OpenDataset(cfg.History)
	if err != nil {
		return nil, exitcode.Inputf("history: %w", err)
	}
	res, err := outcomes.Derive(ctx, sends, ds, cfg.Options, log)
	if err != nil {
		return nil, classify(ctx, exitcode.AsInput(err))
	}
	if len(res.Outcomes) == 0 {
		return nil, exitcode.Inputf("no planned send could be joined to the history %s (%d sends, %d unmatched, %d unsettled): is it the export of the plan's period, with the plan's hashing key?",
			cfg.History, res.Sends, res.Unmatched, res.Unsettled)
	}
	if err := pipeline.WriteOutcomes(cfg.Out, res.Outcomes); err != nil {
		return nil, err
	}
	return res, nil
}
