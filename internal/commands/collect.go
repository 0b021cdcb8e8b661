package commands

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/pipeline/collect"
)

// NewCollect returns `collect`: the webhook receiver Meta is pointed at.
func NewCollect() *cobra.Command {
	cfg := collect.Config{
		Addr: collect.DefaultAddr, WebhookPath: collect.DefaultWebhookPath, MaxFileBytes: collect.DefaultMaxFileBytes,
		MaxBodyBytes: collect.DefaultMaxBodyBytes, Fsync: collect.FsyncGroup,
		ReadTimeout: collect.DefaultReadTimeout, WriteTimeout: collect.DefaultWriteTimeout,
		IdleTimeout: collect.DefaultIdleTimeout, ShutdownTimeout: collect.DefaultShutdownTimeout,
	}
	var fsync string
	return cli.Command(cli.Spec{
		Use:   "collect",
		Short: "receive Meta's webhooks and keep every body in rotating NDJSON files that export reads",
		Long: `An HTTP endpoint to point Meta's webhooks at. It answers the verification
handshake (GET with hub.mode=subscribe and hub.verify_token), checks every POST's
X-Hub-Signature-256 (HMAC-SHA256 of the body with the app secret; bad or missing
-> 401, never stored) and appends each accepted body as one line to
DIR/webhooks-YYYYMMDDTHH-NNNNNN.ndjson, answering 200 only once the line is on
disk (--fsync group). Files rotate every UTC hour or at --max-file-bytes and are
gzipped when closed; 'failcast export --webhooks DIR' reads them as they are.
/healthz and Prometheus /metrics are served on the same address. SIGTERM stops
accepting, finishes in-flight requests and closes the files: nothing acknowledged
is lost.

Secrets come from the environment only: FAILCAST_APP_SECRET (the app secret;
"new,old" while rotating it) and FAILCAST_VERIFY_TOKEN. See docs/collect.md.`,
		Example: `  FAILCAST_APP_SECRET=... FAILCAST_VERIFY_TOKEN=... failcast collect --dir /var/lib/failcast/webhooks
  failcast collect --config /etc/failcast/collect.yaml --tls-cert-file cert.pem --tls-key-file key.pem --addr :8443`,
		Config:   true,
		Required: []string{"dir"},
	},
		func(f *pflag.FlagSet) {
			f.StringVar(&cfg.Addr, "addr", cfg.Addr, "TCP address to listen on")
			f.StringVar(&cfg.WebhookPath, "path", cfg.WebhookPath, "URL path Meta is pointed at")
			f.StringVar(&cfg.Dir, "dir", "", "directory of the webhook files (created when missing)")
			f.Int64Var(&cfg.MaxFileBytes, "max-file-bytes", cfg.MaxFileBytes, "start a new file before the current one passes this size (files also rotate every UTC hour)")
			f.BoolVar(&cfg.NoCompress, "no-gzip", false, "keep closed files as plain .ndjson instead of gzipping them")
			f.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", cfg.MaxBodyBytes, "largest body accepted; larger ones get 413")
			cli.EnumVar(f, &fsync, "fsync", string(collect.FsyncGroup), []string{string(collect.FsyncGroup), string(collect.FsyncNone)},
				"durability: group (batched write+fsync before every 200) or none (the OS cache; a power loss can lose acknowledged bodies)")
			f.StringVar(&cfg.TLSCertFile, "tls-cert-file", "", "certificate file for HTTPS (with --tls-key-file; default plain HTTP, e.g. behind a TLS proxy)")
			f.StringVar(&cfg.TLSKeyFile, "tls-key-file", "", "private key file for HTTPS (with --tls-cert-file)")
			cli.DurationVar(f, &cfg.ReadTimeout, "read-timeout", cfg.ReadTimeout, "longest time to read a request")
			cli.DurationVar(f, &cfg.WriteTimeout, "write-timeout", cfg.WriteTimeout, "longest time to write a response")
			cli.DurationVar(f, &cfg.IdleTimeout, "idle-timeout", cfg.IdleTimeout, "longest idle time of a keep-alive connection")
			cli.DurationVar(f, &cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "on SIGTERM, longest wait for in-flight requests")
		},
		func(ctx context.Context, env cli.Env) error {
			cfg.Fsync = collect.FsyncPolicy(fsync)
			secrets, err := collect.SecretsFromEnv()
			if err != nil {
				return exitcode.Wrap(exitcode.Usage, err)
			}
			return collect.Run(ctx, cfg, secrets, env.Log)
		})
}
