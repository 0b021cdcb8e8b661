package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/training"
)

// options are the command's flags and config-file keys: training.Config
// in flag-friendly types, plus how to log and draw progress.
type options struct {
	History     string   `yaml:"history"`
	AsOf        AsOf     `yaml:"as-of"`
	TrainDays   int      `yaml:"train-days"`
	ValidDays   int      `yaml:"valid-days"`
	Lead        Duration `yaml:"lead"`
	Refresh     Duration `yaml:"refresh"`
	Warmup      Duration `yaml:"warmup"`
	Registry    string   `yaml:"registry"`
	Seed        uint64   `yaml:"seed"`
	Tolerance   float64  `yaml:"tolerance"`
	Force       bool     `yaml:"force"`
	Keep        int      `yaml:"keep"`
	Wait        Duration `yaml:"wait"`
	MetricsFile string   `yaml:"metrics-file"`
	LogFormat   string   `yaml:"log-format"`
	Progress    string   `yaml:"progress"`
	FeaturesOut string   `yaml:"features-out"`

	Rounds       int     `yaml:"rounds"`
	Depth        int     `yaml:"depth"`
	LearningRate float64 `yaml:"learning-rate"`
	EarlyStop    int     `yaml:"early-stop"`

	MaxTrainRows  int `yaml:"max-train-rows"`
	MaxFamilyRows int `yaml:"max-family-rows"`

	Baselines    bool `yaml:"baselines"`
	BaselineRows int  `yaml:"baseline-rows"`
	LogRegRows   int  `yaml:"logreg-rows"`

	TargetPrecision float64 `yaml:"target-precision"`
	AlertBudget     float64 `yaml:"alert-budget"`
	MinRows         int     `yaml:"min-rows"`
	MinFailures     int     `yaml:"min-failures"`
}

// defaultOptions returns the defaults --help shows: training.DefaultConfig's.
func defaultOptions() options {
	d := training.DefaultConfig()
	return options{
		History: d.History, AsOf: AsOf(d.AsOf), TrainDays: d.TrainDays, ValidDays: d.ValidDays,
		Lead: Duration(d.Lead), Refresh: Duration(d.Refresh), Warmup: Duration(d.Warmup),
		Registry: d.Registry, Seed: d.Seed, Tolerance: d.Tolerance, Force: d.Force, Keep: d.Keep, Wait: Duration(d.Wait),
		MetricsFile: d.MetricsFile, LogFormat: "text", Progress: "auto", FeaturesOut: d.FeaturesOut,
		Rounds: d.Rounds, Depth: d.Depth, LearningRate: d.LearningRate, EarlyStop: d.EarlyStop,
		MaxTrainRows: d.MaxTrainRows, MaxFamilyRows: d.MaxFamilyRows,
		Baselines: d.Baselines, BaselineRows: d.BaselineRows, LogRegRows: d.LogRegRows,
		TargetPrecision: d.TargetPrecision, AlertBudget: d.AlertBudget, MinRows: d.MinRows, MinFailures: d.MinFailures,
	}
}

// config returns the training.Config of the options (without the logger
// and progress writer, which run sets).
func (o options) config() training.Config {
	return training.Config{
		History: o.History, AsOf: time.Time(o.AsOf), TrainDays: o.TrainDays, ValidDays: o.ValidDays,
		Lead: time.Duration(o.Lead), Refresh: time.Duration(o.Refresh), Warmup: time.Duration(o.Warmup),
		Registry: o.Registry, Seed: o.Seed, Tolerance: o.Tolerance, Force: o.Force, Keep: o.Keep, Wait: time.Duration(o.Wait),
		MetricsFile: o.MetricsFile, FeaturesOut: o.FeaturesOut,
		Rounds: o.Rounds, Depth: o.Depth, LearningRate: o.LearningRate, EarlyStop: o.EarlyStop,
		MaxTrainRows: o.MaxTrainRows, MaxFamilyRows: o.MaxFamilyRows,
		Baselines: o.Baselines, BaselineRows: o.BaselineRows, LogRegRows: o.LogRegRows,
		TargetPrecision: o.TargetPrecision, AlertBudget: o.AlertBudget, MinRows: o.MinRows, MinFailures: o.MinFailures,
	}
}

// Duration is a time.Duration that reads "4h" from YAML and flags.
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

// Set parses a Go duration such as "4h" or "90m".
func (d *Duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 4h or 90m, got %q", s)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error { return d.Set(n.Value) }

// AsOf is the run's as-of time; the zero value means "now".
type AsOf time.Time

func (a AsOf) String() string {
	if time.Time(a).IsZero() {
		return "now"
	}
	return time.Time(a).UTC().Format(time.RFC3339)
}

// Set parses RFC 3339 ("2026-11-01T00:00:00Z"), a date ("2026-11-01",
// midnight UTC) or "now".
func (a *AsOf) Set(s string) error {
	if s == "" || s == "now" {
		*a = AsOf{}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			*a = AsOf(t.UTC())
			return nil
		}
	}
	return fmt.Errorf("want an RFC 3339 time (2026-11-01T00:00:00Z), a date (2026-11-01) or now, got %q", s)
}

// UnmarshalYAML reads an as-of time string.
func (a *AsOf) UnmarshalYAML(n *yaml.Node) error { return a.Set(n.Value) }

var usagef = exitcode.Usagef

// errHelp is returned by parseConfig when --help was asked for.
var errHelp = flag.ErrHelp

// flagSet binds every flag to c.
func flagSet(c *options, configPath *string) *flag.FlagSet {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.StringVar(configPath, "config", "", "YAML config file; its keys are the flag names (history: ..., train-days: ...); flags override it")
	fs.StringVar(&c.History, "history", c.History, "history dataset: a Parquet file, a directory (hive partitions allowed) or a glob")
	fs.Var(&c.AsOf, "as-of", "train as of this `time` (RFC 3339 or YYYY-MM-DD, UTC): only history before it is used; reruns of a past night give the same model")
	fs.IntVar(&c.TrainDays, "train-days", c.TrainDays, "days of history before the validation window to train on")
	fs.IntVar(&c.ValidDays, "valid-days", c.ValidDays, "the last days before as-of held out for validation, early stopping, thresholds and the champion comparison")
	fs.Var(&c.Lead, "lead", "how long before a send its risk is scored (a `duration`); features only see history this far before a send, and the gap between training and validation is at least this")
	fs.Var(&c.Warmup, "warmup", "history at the start of the dataset that only warms the feature state, a `duration`: sends in it are not training examples, since every entity looks unseen there")
	fs.Var(&c.Refresh, "refresh", "spacing of the training cutoff grid, a `duration`: the model is meant to score plans up to this far past their as-of (plus --lead); stored with the model")
	fs.StringVar(&c.Registry, "registry", c.Registry, "model registry directory (versions/, current, lock)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed: the same seed, data and as-of give the same model")
	fs.Float64Var(&c.Tolerance, "tolerance", c.Tolerance, "promote the challenger if its validation PR-AUC is at least the champion's minus this")
	fs.BoolVar(&c.Force, "force", c.Force, "promote the challenger even if it is worse than the champion")
	fs.IntVar(&c.Keep, "keep", c.Keep, "versions to keep in the registry (the champion is never deleted); 0 keeps all")
	fs.Var(&c.Wait, "wait", "if another run holds the registry lock, wait up to this `duration` for it (0: exit 4 at once)")
	fs.StringVar(&c.MetricsFile, "metrics-file", c.MetricsFile, "write Prometheus metrics to this file (node_exporter textfile format), even when the run fails")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.Progress, "progress", c.Progress, "progress bars on stderr: auto (when stderr is a terminal), always or never")
	fs.StringVar(&c.FeaturesOut, "features-out", c.FeaturesOut, "also write the training feature table to this Parquet file")
	fs.IntVar(&c.Rounds, "rounds", c.Rounds, "GBDT: maximum boosting rounds")
	fs.IntVar(&c.Depth, "depth", c.Depth, "GBDT: maximum tree depth")
	fs.Float64Var(&c.LearningRate, "learning-rate", c.LearningRate, "GBDT: learning rate")
	fs.IntVar(&c.EarlyStop, "early-stop", c.EarlyStop, "GBDT: stop when validation log-loss has not improved for this many rounds (0: never)")
	fs.IntVar(&c.MaxTrainRows, "max-train-rows", c.MaxTrainRows, "down-sample: keep every failed training send and a seeded share of the successful ones (weighted back by 1/share) so that at most about this many rows train the failure model; 0 keeps every row")
	fs.IntVar(&c.MaxFamilyRows, "max-family-rows", c.MaxFamilyRows, "the error-family model trains on at most this many failed sends, sampled with the seed; 0 uses them all")
	fs.BoolVar(&c.Baselines, "baselines", c.Baselines, "also train logistic regression, random forest and rule baselines and report them")
	fs.IntVar(&c.BaselineRows, "baseline-rows", c.BaselineRows, "row cap for the random forest baseline (golearn's split search is slow), sampled with the seed")
	fs.IntVar(&c.LogRegRows, "logreg-rows", c.LogRegRows, "row cap for the logistic regression baseline, sampled with the seed")
	fs.Float64Var(&c.TargetPrecision, "target-precision", c.TargetPrecision, "precision the \"high\" threshold is chosen for on validation")
	fs.Float64Var(&c.AlertBudget, "alert-budget", c.AlertBudget, "fraction of sends the \"medium\" threshold flags on validation")
	fs.IntVar(&c.MinRows, "min-rows", c.MinRows, "refuse to train on fewer training rows than this (exit 3)")
	fs.IntVar(&c.MinFailures, "min-failures", c.MinFailures, "refuse to train on fewer failed training rows than this (exit 3)")
	return fs
}

// parseConfig reads the config file named by --config (if any) and then
// the flags, which override it. --help prints the usage to stderr and
// returns errHelp. On a usage error the returned Config holds what could
// be parsed (so that the metrics file can still be written).
func parseConfig(args []string, stderr io.Writer) (options, error) {
	scratch := defaultOptions()
	var configPath string
	fs := flagSet(&scratch, &configPath)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stderr)
			return options{}, errHelp
		}
		return scratch, usagef("%v (see train --help)", err)
	}
	if fs.NArg() > 0 {
		return scratch, usagef("unexpected argument %q: train takes flags only (see train --help)", fs.Arg(0))
	}
	cfg := defaultOptions()
	if configPath != "" {
		if err := loadConfigFile(configPath, &cfg); err != nil {
			return scratch, err
		}
	}
	// Re-apply the flags given on the command line over the file.
	var ignored string
	final := flagSet(&cfg, &ignored)
	var applyErr error
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "config" || applyErr != nil {
			return
		}
		if err := final.Set(f.Name, f.Value.String()); err != nil {
			applyErr = usagef("flag --%s: %v", f.Name, err)
		}
	})
	if applyErr != nil {
		return scratch, applyErr
	}
	return cfg, cfg.validate()
}

func loadConfigFile(path string, cfg *options) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return usagef("config file: %v", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return usagef("config file %s: %v (keys are the flag names, such as train-days)", path, err)
	}
	return nil
}

// validate checks the command's own settings, then training's.
func (o options) validate() error {
	switch {
	case o.LogFormat != "text" && o.LogFormat != "json":
		return usagef("--log-format is %q, want text or json", o.LogFormat)
	case o.Progress != "auto" && o.Progress != "always" && o.Progress != "never":
		return usagef("--progress is %q, want auto, always or never", o.Progress)
	}
	return o.config().Validate()
}

const usageHeader = `train: train failcast's failure models on the history and publish the
result to the model registry if it is at least as good as the champion.

Usage:
  train [flags]
  train --config train.yaml [flags]     (flags override the file)

Flags (default in parentheses):
`

const usageFooter = `
Exit codes:
  0  finished: the model was published, or it was kept out because it is
     worse than the champion (a log line says which)
  1  internal failure (the champion and registry are left untouched)
  2  bad usage: unknown flag, bad value, unreadable config file
  3  bad or missing input data: no rows, no failures, an empty training or
     validation window, a history schema mismatch (nothing is published)
  4  the registry is locked by another run (the message names its pid and
     start time)

See docs/train.md and docs/scheduling.md.
`

func printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString(usageHeader)
	var ignored string
	c := defaultOptions()
	fs := flagSet(&c, &ignored)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(&b, " %s", name)
		}
		def := f.DefValue
		switch f.Name {
		case "as-of":
			def = "now"
		case "config", "metrics-file", "features-out":
			def = "none"
		}
		fmt.Fprintf(&b, "\n      %s (%s)\n", usage, def)
	})
	b.WriteString(usageFooter)
	io.WriteString(w, b.String())
}
