package training

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"time"

	"github.com/failcast/failcast/exitcode"
)

// logOutcome logs the run's final line.
func logOutcome(log *slog.Logger, res *Result, err error, code int, took time.Duration) {
	secs := math.Round(took.Seconds()*10) / 10
	switch {
	case err != nil && code == exitcode.Locked:
		log.Error("another training run holds the registry; nothing done", "err", err, "exit_code", code)
	case err != nil && errors.Is(err, context.Canceled):
		log.Error("interrupted; the champion is untouched", "err", err, "exit_code", code)
	case err != nil && code == exitcode.Input:
		log.Error("bad or missing input data; nothing published", "err", err, "exit_code", code)
	case err != nil && code == exitcode.Usage:
		log.Error("bad configuration; nothing done", "err", err, "exit_code", code)
	case err != nil:
		log.Error("training failed; the champion is untouched", "err", err, "exit_code", code)
	case res.Promoted:
		log.Info("published: the new model is the champion", "version", res.Version, "valid_pr_auc", round4(res.ValidPRAUC),
			"previous", res.ChampionVersion, "reason", res.Reason, "seconds", secs, "exit_code", code)
	default:
		log.Info("kept out: the challenger is not promoted by the comparison; the champion stays", "version", res.Version,
			"valid_pr_auc", round4(res.ValidPRAUC), "champion", res.ChampionVersion, "champion_pr_auc", round4(res.ChampionPRAUC),
			"reason", res.Reason, "seconds", secs, "exit_code", code)
	}
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
