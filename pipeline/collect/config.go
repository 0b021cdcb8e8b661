package collect

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// FsyncPolicy says when an accepted body counts as written.
type FsyncPolicy string

const (
	// FsyncGroup (the default) answers 200 only after the body's batch has
	// been written and fsynced: concurrent requests share one write and
	// one fsync, so every 200 means the body is on disk.
	FsyncGroup FsyncPolicy = "group"
	// FsyncNone answers 200 once the body is in the operating system's
	// cache; files are fsynced only when closed. A crash of the receiver
	// loses nothing, a power loss or kernel crash may lose the bodies of
	// the last seconds although Meta got a 200 for them.
	FsyncNone FsyncPolicy = "none"
)

// Defaults of Config; a zero field takes its default.
const (
	DefaultAddr            = ":8080"
	DefaultWebhookPath     = "/webhook"
	DefaultMaxFileBytes    = 64 << 20
	DefaultMaxBodyBytes    = 4 << 20 // Meta's webhook payloads are up to 3 MB
	DefaultReadTimeout     = 30 * time.Second
	DefaultWriteTimeout    = 30 * time.Second
	DefaultIdleTimeout     = 120 * time.Second
	DefaultShutdownTimeout = 25 * time.Second
)

// Config configures a receiver. Zero fields take the Default* values, so
// Config{Dir: "webhooks"} is a complete configuration.
type Config struct {
	// Addr is the TCP address to listen on (Run only), e.g. ":8080" or
	// "127.0.0.1:0".
	Addr string
	// WebhookPath is the URL path Meta is pointed at (GET handshake and
	// POSTed bodies).
	WebhookPath string
	// Dir receives the files webhooks-YYYYMMDDTHH-NNNNNN.ndjson[.gz]. It
	// is created when missing. Required.
	Dir string
	// MaxFileBytes starts a new file before a write would take the
	// current one past this size (files are also rotated every UTC hour).
	MaxFileBytes int64
	// NoCompress keeps closed files as plain .ndjson instead of gzipping
	// them to .ndjson.gz.
	NoCompress bool
	// MaxBodyBytes is the largest body accepted; larger ones get 413.
	MaxBodyBytes int64
	// Fsync is the durability policy: FsyncGroup (default) or FsyncNone.
	Fsync FsyncPolicy
	// TLSCertFile and TLSKeyFile, both or neither, make Run serve HTTPS.
	TLSCertFile, TLSKeyFile string
	// ReadTimeout, WriteTimeout and IdleTimeout bound a connection (see
	// net/http.Server); ShutdownTimeout bounds the wait for in-flight
	// requests when Run's context is cancelled.
	ReadTimeout, WriteTimeout, IdleTimeout, ShutdownTimeout time.Duration
}

// withDefaults returns c with every zero field set to its default, or an
// error naming the first bad field.
func (c Config) withDefaults() (Config, error) {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.WebhookPath == "" {
		c.WebhookPath = DefaultWebhookPath
	}
	if !strings.HasPrefix(c.WebhookPath, "/") || strings.ContainsAny(c.WebhookPath, " {}") {
		return c, fmt.Errorf("collect: webhook path %q must start with / and hold no spaces or braces", c.WebhookPath)
	}
	switch c.WebhookPath {
	case "/healthz", "/metrics":
		return c, fmt.Errorf("collect: webhook path %q is taken by the receiver itself", c.WebhookPath)
	}
	if c.Dir == "" {
		return c, errors.New("collect: an output directory is required")
	}
	if c.MaxFileBytes == 0 {
		c.MaxFileBytes = DefaultMaxFileBytes
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxFileBytes < 0 || c.MaxBodyBytes < 0 {
		return c, fmt.Errorf("collect: max file bytes %d and max body bytes %d must be positive", c.MaxFileBytes, c.MaxBodyBytes)
	}
	switch c.Fsync {
	case "":
		c.Fsync = FsyncGroup
	case FsyncGroup, FsyncNone:
	default:
		return c, fmt.Errorf("collect: fsync policy %q: want %q or %q", c.Fsync, FsyncGroup, FsyncNone)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return c, errors.New("collect: TLS needs both a certificate file and a key file")
	}
	for _, d := range []*time.Duration{&c.ReadTimeout, &c.WriteTimeout, &c.IdleTimeout, &c.ShutdownTimeout} {
		if *d < 0 {
			return c, fmt.Errorf("collect: negative timeout %v", *d)
		}
	}
	c.ReadTimeout = cmpOr(c.ReadTimeout, DefaultReadTimeout)
	c.WriteTimeout = cmpOr(c.WriteTimeout, DefaultWriteTimeout)
	c.IdleTimeout = cmpOr(c.IdleTimeout, DefaultIdleTimeout)
	c.ShutdownTimeout = cmpOr(c.ShutdownTimeout, DefaultShutdownTimeout)
	return c, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Environment variables the secrets are read from.
const (
	// EnvAppSecret holds the Meta app secret that signs every POST
	// (X-Hub-Signature-256). Several secrets may be given separated by
	// commas while one is being rotated: a body signed by any is accepted.
	EnvAppSecret = "FAILCAST_APP_SECRET"
	// EnvVerifyToken holds the verify token typed into Meta's webhook
	// settings, echoed in the GET handshake.
	EnvVerifyToken = "FAILCAST_VERIFY_TOKEN"
)

// Secrets authenticate Meta to the receiver. They come from the
// environment (SecretsFromEnv), never from flags.
type Secrets struct {
	AppSecrets  [][]byte // any one of them may have signed a body
	VerifyToken string
}

// SecretsFromEnv reads the secrets from $FAILCAST_APP_SECRET and
// $FAILCAST_VERIFY_TOKEN, failing with the names of those missing.
func SecretsFromEnv() (Secrets, error) { return secretsFrom(os.Getenv) }

func secretsFrom(getenv func(string) string) (Secrets, error) {
	var s Secrets
	for part := range strings.SplitSeq(getenv(EnvAppSecret), ",") {
		if part = strings.TrimSpace(part); part != "" {
			s.AppSecrets = append(s.AppSecrets, []byte(part))
		}
	}
	s.VerifyToken = strings.TrimSpace(getenv(EnvVerifyToken))
	var missing []string
	if len(s.AppSecrets) == 0 {
		missing = append(missing, "$"+EnvAppSecret+" (the Meta app secret that signs webhook POSTs)")
	}
	if s.VerifyToken == "" {
		missing = append(missing, "$"+EnvVerifyToken+" (the verify token set in Meta's webhook settings)")
	}
	if len(missing) > 0 {
		return s, fmt.Errorf("collect: missing secrets: %s", strings.Join(missing, " and "))
	}
	return s, nil
}

func (s Secrets) validate() error {
	if len(s.AppSecrets) == 0 || s.VerifyToken == "" {
		return errors.New("collect: both an app secret and a verify token are required")
	}
	for _, k := range s.AppSecrets {
		if len(k) == 0 {
			return errors.New("collect: empty app secret")
		}
	}
	return nil
}
