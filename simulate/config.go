package simulate

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config describes a simulated world. The same Config gives the same
// history, plan and outcomes, byte for byte.
type Config struct {
	Seed uint64
	// AsOf ends the history window and starts the plan. History covers
	// [AsOf - Days, AsOf); the plan covers [AsOf, AsOf + PlanDays).
	AsOf     time.Time
	Days     int
	PlanDays int

	WABAs           int // WhatsApp Business Accounts
	PhoneNumbers    int // sender phone numbers, spread over the WABAs
	Recipients      int // recipient population
	Templates       int // message templates at the start (new versions are added over time)
	CampaignsPerDay int // mean number of campaigns started per day

	// HashKey is the key of the recipient hash (pipeline.RecipientHasher).
	HashKey string
}

// DefaultAsOf is the as-of time of the demo world.
var DefaultAsOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// DefaultHashKey is the recipient hash key of the demo world.
const DefaultHashKey = "failcast-demo"

// DefaultConfig returns the demo world: 30 days of history (about 1.5M
// events) and a two-day plan.
func DefaultConfig() Config {
	return Config{
		Seed:            42,
		AsOf:            DefaultAsOf,
		Days:            30,
		PlanDays:        2,
		WABAs:           3,
		PhoneNumbers:    6,
		Recipients:      60_000,
		Templates:       30,
		CampaignsPerDay: 16,
		HashKey:         DefaultHashKey,
	}
}

// Scaled returns c with its volume multiplied by factor: WABAs, phone
// numbers, recipients, templates and campaigns all grow with it, so each
// WABA lives the same kind of life and the base rates stay as they are
// while the events grow about linearly.
func (c Config) Scaled(factor float64) Config {
	if factor <= 0 || factor == 1 {
		return c
	}
	scale := func(n int) int { return max(1, int(math.Round(float64(n)*factor))) }
	c.WABAs = scale(c.WABAs)
	c.PhoneNumbers = max(c.WABAs, scale(c.PhoneNumbers))
	c.Recipients = scale(c.Recipients)
	c.Templates = scale(c.Templates)
	c.CampaignsPerDay = scale(c.CampaignsPerDay)
	return c
}

// Limits on the configuration, to keep a typo from exhausting memory.
const (
	maxDays       = 3660
	maxRecipients = 50_000_000
	maxWABAs      = 1000
	maxNumbers    = 10_000
	maxTemplates  = 100_000
	maxCampaigns  = 100_000
)

// Validate reports the first invalid field of c.
func (c Config) Validate() error {
	var errs []error
	check := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("%s = %d: want %d to %d", name, v, lo, hi))
		}
	}
	if c.AsOf.IsZero() {
		errs = append(errs, errors.New("as-of time is not set"))
	}
	check("days", c.Days, 1, maxDays)
	check("plan days", c.PlanDays, 0, maxDays)
	check("WABAs", c.WABAs, 1, maxWABAs)
	check("phone numbers", c.PhoneNumbers, c.WABAs, maxNumbers)
	check("recipients", c.Recipients, 100, maxRecipients)
	check("templates", c.Templates, 1, maxTemplates)
	check("campaigns per day", c.CampaignsPerDay, 1, maxCampaigns)
	if c.HashKey == "" {
		errs = append(errs, errors.New("hash key is empty"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid simulation config: %w", errors.Join(errs...))
	}
	return nil
}

// Time constants in microseconds, the unit of pipeline.Event.Timestamp.
const (
	usSecond = int64(time.Second / time.Microsecond)
	usMinute = 60 * usSecond
	usHour   = 60 * usMinute
	usDay    = 24 * usHour
)

// start returns the first microsecond of the history window.
func (c Config) start() int64 { return c.AsOf.UnixMicro() - int64(c.Days)*usDay }

// asOf returns AsOf in microseconds.
func (c Config) asOf() int64 { return c.AsOf.UnixMicro() }

// planEnd returns the end of the plan window in microseconds.
func (c Config) planEnd() int64 { return c.asOf() + int64(c.PlanDays)*usDay }
