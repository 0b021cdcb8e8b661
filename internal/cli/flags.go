package cli

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/failcast/failcast/internal/memlimit"
	"github.com/spf13/pflag"
)

// timeLayouts are the forms ParseTime reads besides "now", in order. The
// ones without a zone are UTC.
var timeLayouts = []string{
	time.RFC3339Nano,                // 2026-11-01T00:00:00Z, 2026-11-01T02:00:00+02:00
	"2006-01-02T15:04:05.999999999", // 2026-11-01T00:00:00 (UTC)
	"2006-01-02 15:04:05.999999999", // 2026-11-01 00:00:00 (UTC)
	"2006-01-02T15:04",              // 2026-11-01T00:00 (UTC)
	"2006-01-02 15:04",              // 2026-11-01 00:00 (UTC)
	"2006-01-02",                    // 2026-11-01: midnight UTC
}

// ParseTime reads a time flag: RFC 3339 with a zone, a date and time
// without one (2026-11-01T00:00:00 or 2026-11-01 00:00:00, taken as UTC),
// a date (2026-11-01, midnight UTC) or "now" (now). The result is in UTC.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return now.UTC(), nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("want an RFC 3339 time (2026-11-01T00:00:00Z), a UTC time (2026-11-01T00:00:00 or 2026-11-01 00:00:00), a date (2026-11-01, midnight UTC) or now, got %q", s)
}

// timeValue is a pflag.Value for a time flag.
type timeValue struct {
	p   *time.Time
	now func() time.Time
}

func (v *timeValue) Set(s string) error {
	t, err := ParseTime(s, v.now())
	if err != nil {
		return err
	}
	*v.p = t
	return nil
}

func (v *timeValue) Type() string { return "time" }

func (v *timeValue) String() string {
	if v.p == nil || v.p.IsZero() {
		return ""
	}
	return v.p.UTC().Format(time.RFC3339Nano)
}

// TimeVar binds a time flag to p, parsed by ParseTime. value is the
// default in the same forms: "" leaves p zero (the command decides what an
// absent time means), "now" sets it to the time the flag is bound.
func TimeVar(f *pflag.FlagSet, p *time.Time, name, value, usage string) {
	v := &timeValue{p: p, now: time.Now}
	if value != "" {
		if err := v.Set(value); err != nil {
			panic(fmt.Sprintf("cli: default of --%s: %v", name, err))
		}
	}
	f.Var(v, name, usage+" (RFC 3339, YYYY-MM-DD[ HH:MM:SS] in UTC, or now)")
	if value != "" {
		f.Lookup(name).DefValue = value // "now", not the moment of binding
	}
}

// ParseDuration reads a duration flag: a Go duration (90m, 4h, 1h30m) or
// a whole number of days (7d). Negative durations are refused.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int64
		n, err = strconv.ParseInt(days, 10, 64)
		if err == nil && n > int64(1<<63-1)/int64(24*time.Hour) {
			err = strconv.ErrRange
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil {
		return 0, fmt.Errorf("want a duration such as 90m, 4h, 1h30m or 7d, got %q", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("want a duration of 0 or more, got %q", s)
	}
	return d, nil
}

// FormatDuration writes d the way ParseDuration reads it, without
// trailing zero units: 4h, 1h30m, 7d, 0s.
func FormatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

type durationValue time.Duration

func (v *durationValue) Set(s string) error {
	d, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*v = durationValue(d)
	return nil
}

func (v *durationValue) Type() string   { return "duration" }
func (v *durationValue) String() string { return FormatDuration(time.Duration(*v)) }

// DurationVar binds a duration flag to p, parsed by ParseDuration.
func DurationVar(f *pflag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	f.Var((*durationValue)(p), name, usage)
}

// enumValue is a string flag that takes one of a few words.
type enumValue struct {
	p       *string
	allowed []string
}

func (v *enumValue) Set(s string) error {
	if !slices.Contains(v.allowed, s) {
		return fmt.Errorf("want %s, got %q", orList(v.allowed), s)
	}
	*v.p = s
	return nil
}

func (v *enumValue) Type() string   { return strings.Join(v.allowed, "|") }
func (v *enumValue) String() string { return *v.p }

// EnumVar binds a flag that takes one of the allowed words.
func EnumVar(f *pflag.FlagSet, p *string, name, value string, allowed []string, usage string) {
	if !slices.Contains(allowed, value) {
		panic(fmt.Sprintf("cli: default %q of --%s is not one of %v", value, name, allowed))
	}
	*p = value
	f.Var(&enumValue{p: p, allowed: allowed}, name, usage)
}

func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// HashKeyEnv is the environment variable the recipient hashing key is read
// from unless --hash-key-env names another.
const HashKeyEnv = "FAILCAST_HASH_KEY"

// HashKeyEnvVar binds --hash-key-env NAME to p: the environment variable
// holding the recipient hashing key, FAILCAST_HASH_KEY by default. Secrets
// are never flag values (they would show in process lists and shell
// histories); read the key with LookupSecret(*p).
func HashKeyEnvVar(f *pflag.FlagSet, p *string) {
	f.Var(&envNameValue{p: p}, "hash-key-env", "environment variable holding the recipient hashing key (the key itself is never a flag)")
	*p = HashKeyEnv
	f.Lookup("hash-key-env").DefValue = HashKeyEnv
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// envNameValue takes the name of an environment variable, refusing what
// cannot be one (such as the secret itself given by mistake).
type envNameValue struct{ p *string }

func (v *envNameValue) Set(s string) error {
	if !envName.MatchString(s) {
		return fmt.Errorf("want the name of an environment variable (letters, digits and _), not its value")
	}
	*v.p = s
	return nil
}

func (v *envNameValue) Type() string   { return "NAME" }
func (v *envNameValue) String() string { return *v.p }

// LookupSecret returns the value of the environment variable name and
// whether it is set to something other than "".
func LookupSecret(name string) (string, bool) {
	v, ok := os.LookupEnv(name)
	return v, ok && v != ""
}

// sizeValue is a memory size flag in bytes, read by memlimit.Parse.
type sizeValue int64

func (v *sizeValue) Set(s string) error {
	n, err := memlimit.Parse(s)
	if err != nil {
		return err
	}
	*v = sizeValue(n)
	return nil
}

func (v *sizeValue) Type() string { return "size" }
func (v *sizeValue) String() string {
	if *v == 0 {
		return ""
	}
	return memlimit.Format(int64(*v))
}

// SizeVar binds a memory size flag ("2GiB", "1500MB", bytes) to p, in
// bytes.
func SizeVar(f *pflag.FlagSet, p *int64, name string, value int64, usage string) {
	*p = value
	f.Var((*sizeValue)(p), name, usage)
}
