package main

import (
	"flag"
	"os"
	"time"

	"github.com/failcast/failcast/simulate"
)

// worldFlags are the flags that describe the simulated world; a replay
// must be given the same ones as the run that wrote the plan.
type worldFlags struct {
	cfg       simulate.Config
	asOf      string
	scale     float64
	hashKey   string
	logFormat string
}

func addWorldFlags(fs *flag.FlagSet) *worldFlags {
	w := &worldFlags{cfg: simulate.DefaultConfig()}
	c := &w.cfg
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed: the same flags give the same outputs")
	fs.IntVar(&c.Days, "days", c.Days, "days of history before --as-of")
	fs.IntVar(&c.PlanDays, "plan-days", c.PlanDays, "days of plan after --as-of")
	fs.StringVar(&w.asOf, "as-of", c.AsOf.Format(time.RFC3339), "end of the history and start of the plan (RFC 3339)")
	fs.IntVar(&c.WABAs, "wabas", c.WABAs, "WhatsApp Business Accounts")
	fs.IntVar(&c.PhoneNumbers, "numbers", c.PhoneNumbers, "sender phone numbers")
	fs.IntVar(&c.Recipients, "recipients", c.Recipients, "recipients")
	fs.IntVar(&c.Templates, "templates", c.Templates, "message templates at the start")
	fs.IntVar(&c.CampaignsPerDay, "campaigns-per-day", c.CampaignsPerDay, "mean campaigns started per day")
	fs.Float64Var(&w.scale, "scale", 1, "multiply the volume (recipients, campaigns, numbers, templates)")
	fs.StringVar(&w.hashKey, "hash-key", "", "recipient hash key (default $FAILCAST_HASH_KEY, else \""+simulate.DefaultHashKey+"\")")
	fs.StringVar(&w.logFormat, "log-format", "text", "log format: text or json")
	return w
}

// config returns the world's configuration from the parsed flags.
func (w *worldFlags) config() (simulate.Config, error) {
	cfg := w.cfg
	t, err := time.Parse(time.RFC3339, w.asOf)
	if err != nil {
		return cfg, usagef("--as-of %q: want an RFC 3339 time such as 2026-11-01T00:00:00Z", w.asOf)
	}
	cfg.AsOf = t.UTC()
	if w.scale <= 0 {
		return cfg, usagef("--scale %g: want a positive factor", w.scale)
	}
	cfg = cfg.Scaled(w.scale)
	switch {
	case w.hashKey != "":
		cfg.HashKey = w.hashKey
	case os.Getenv("FAILCAST_HASH_KEY") != "":
		cfg.HashKey = os.Getenv("FAILCAST_HASH_KEY")
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}
