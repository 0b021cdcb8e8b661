package features

import (
	"context"
	"fmt"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// Source is a history dataset in time order. *pipeline.Dataset satisfies
// it; tests use an in-memory one. Scan must call fn with batches in
// non-decreasing Timestamp order and may reuse the batch after fn returns.
type Source interface {
	Scan(ctx context.Context, opts pipeline.ScanOptions, fn func(batch []pipeline.Event) error) error
}

// Config sets the clocks and bounds of the feature engine.
type Config struct {
	// Lead is the minimum age of an outcome before a send may see it:
	// outcome events count for a send at t only if they happened before
	// cutoff(t) <= t - Lead.
	Lead time.Duration
	// Refresh is the spacing of the training cutoff grid (aligned to UTC
	// midnight). Training sees outcomes up to the latest grid point at or
	// before t - Lead, so it is as stale as a plan scored once per Refresh.
	// It should divide 24 h or be a multiple of it.
	Refresh time.Duration
	// LabelWindow is how long after a send its outcome events still count
	// for its label (and how long a message id is remembered).
	LabelWindow time.Duration
	// LabelDelay excludes sends this close to the end of the data from
	// training: their outcome may not be known yet.
	LabelDelay time.Duration
	// Workers is how many goroutines a build runs on: 1 does everything
	// on the caller's (which scans the source); 2 runs the state engine
	// on another; 3 splits the engine into its schedule and outcome
	// stages; 4 or more also classifies the events on a goroutine of its
	// own (on copies), leaving the caller's to decode the source. The
	// stages pass batches along, so two cores stay busy whichever is
	// heaviest. Results do not depend on it.
	Workers int
}

// DefaultConfig returns Lead 4 h, Refresh 48 h (a plan of two days is
// scored from one as-of time), LabelWindow 72 h,
// LabelDelay 1 h and four workers.
func DefaultConfig() Config {
	return Config{
		Lead:        4 * time.Hour,
		Refresh:     48 * time.Hour,
		LabelWindow: 72 * time.Hour,
		LabelDelay:  time.Hour,
		Workers:     4,
	}
}

// Validate reports a configuration the engine cannot run with.
func (c Config) Validate() error {
	switch {
	case c.Lead < 0:
		return fmt.Errorf("features: config Lead %v: want >= 0", c.Lead)
	case c.Refresh < time.Microsecond:
		return fmt.Errorf("features: config Refresh %v: want >= 1µs", c.Refresh)
	case c.LabelWindow < time.Microsecond:
		return fmt.Errorf("features: config LabelWindow %v: want >= 1µs", c.LabelWindow)
	case c.LabelDelay < 0:
		return fmt.Errorf("features: config LabelDelay %v: want >= 0", c.LabelDelay)
	}
	return nil
}

// TrainingCutoff returns cutoff(t) of the training path: the latest point
// of the Refresh grid (multiples of Refresh since the Unix epoch, which is
// UTC midnight) at or before t - Lead. Outcome events with Timestamp <
// cutoff count for a send at t.
func (c Config) TrainingCutoff(t int64) int64 {
	x := t - c.Lead.Microseconds()
	r := c.Refresh.Microseconds()
	q := x / r
	if x%r != 0 && x < 0 {
		q--
	}
	return q * r
}

// MaxHorizon is the largest horizon (t - cutoff) the training path
// produces: Lead + Refresh. Scored sends beyond it are marked Stale.
func (c Config) MaxHorizon() time.Duration { return c.Lead + c.Refresh }

// Constants of the feature definitions.
const (
	// FeatureVersion changes whenever a feature's meaning changes without
	// its name changing; it is part of SchemaHash.
	FeatureVersion = "5" // 2: send_media_over_limit covers template media headers; 3: phone_tier_limit waits for 131048s; 4: account events (phone_tier_limit is the announced limit when known); 5: template_param_errors_persist
	// NeverHours is the value of a "hours since X" feature when X never
	// happened (its count is then 0 too).
	NeverHours = 1e6
	// ThroughputMPS is the Cloud API's default throughput of a phone
	// number, messages per second.
	ThroughputMPS = 80
	// UnlimitedTier stands for the unlimited messaging tier.
	UnlimitedTier = 1e7
)

// TierLadder lists the messaging-limit tiers (unique recipients in a
// rolling 24 h); above the last comes UnlimitedTier.
var TierLadder = []int32{250, 2000, 10000, 100000}

// tierOf rounds the number of unique recipients reached up to the ladder.
func tierOf(reached int32) float32 {
	for _, t := range TierLadder {
		if reached <= t {
			return float32(t)
		}
	}
	return UnlimitedTier
}

// KeyCodes are the error codes each recipient tracks separately.
var KeyCodes = []int32{131026, 131047, 131049, 131050, 131056}

func keyCodeIndex(code int32) int {
	for i, c := range KeyCodes {
		if c == code {
			return i
		}
	}
	return -1
}
