package training_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/training"
)

// The windows of a run as of 1 November with the default settings: the
// gap of one lead (4h) between training and validation.
func ExampleConfig_Windows() {
	cfg := training.DefaultConfig()
	cfg.AsOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	w := cfg.Windows()
	fmt.Println("train:   ", w.From.Format(time.RFC3339), "to", w.TrainTo.Format(time.RFC3339))
	fmt.Println("validate:", w.ValidFrom.Format(time.RFC3339), "to", w.AsOf.Format(time.RFC3339))
	// Output:
	// train:    2026-09-30T20:00:00Z to 2026-10-28T20:00:00Z
	// validate: 2026-10-29T00:00:00Z to 2026-11-01T00:00:00Z
}

// A nightly run: train on the history as of a night, publish to the
// registry if the model is at least as good as the champion.
func ExampleRun() {
	cfg := training.DefaultConfig()
	cfg.History = "out/sim/history"
	cfg.Registry = "out/registry"
	cfg.AsOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	res, err := training.Run(context.Background(), cfg)
	if err != nil {
		os.Exit(exitcode.Of(err)) // 3: bad history, 4: registry locked, ...
	}
	fmt.Println(res.Version, res.Promoted, res.Reason)
}

// A usage error names the setting.
func ExampleConfig_Validate() {
	cfg := training.DefaultConfig()
	cfg.ValidDays = 0
	err := cfg.Validate()
	fmt.Println(exitcode.Of(err), err)
	// Output: 2 --valid-days is 0, want at least 1
}
