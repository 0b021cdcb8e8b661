package collect

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server receives Meta's webhooks and stores every accepted body. Mount
// Handler in any net/http server, or let Run serve it; call Close when no
// request can reach the handler any more.
type Server struct {
	cfg     Config
	secrets Secrets
	logger  *slog.Logger
	m       *metrics
	store   *store
	mux     *http.ServeMux
}

// NewServer checks cfg and secrets, recovers cfg.Dir from any earlier run
// (see the package documentation) and starts the file writer.
func NewServer(cfg Config, secrets Secrets, logger *slog.Logger) (*Server, error) {
	return newServer(cfg, secrets, logger, time.Now)
}

func newServer(cfg Config, secrets Secrets, logger *slog.Logger, now func() time.Time) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := secrets.validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, secrets: secrets, logger: logger, m: newMetrics()}
	s.store, err = openStore(cfg.Dir, cfg.MaxFileBytes, cfg.Fsync == FsyncGroup, !cfg.NoCompress, logger, s.m, now)
	if err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc(cfg.WebhookPath, s.serveWebhook)
	s.mux.HandleFunc("/healthz", s.serveHealth)
	s.mux.Handle("/metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))
	return s, nil
}

// Handler serves the webhook path, /healthz and /metrics.
func (s *Server) Handler() http.Handler { return s.mux }

// Close writes the bodies already queued, closes the current file and
// waits for the gzip of closed files. Requests arriving afterwards get
// 503 (Meta retries them).
func (s *Server) Close() error { return s.store.close() }

func (s *Server) serveWebhook(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		s.receive(w, r)
	case http.MethodGet, http.MethodHead:
		s.handshake(w, r)
	default:
		s.m.reject(reasonMethod)
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// handshake answers Meta's verification request: hub.mode=subscribe and
// the configured hub.verify_token get hub.challenge echoed, anything else
// 403.
func (s *Server) handshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	challenge := q.Get("hub.challenge")
	if q.Get("hub.mode") != "subscribe" || challenge == "" {
		s.m.reject(reasonBadHandshake)
		s.logger.Warn("verification request rejected: want hub.mode=subscribe and a hub.challenge", "remote", r.RemoteAddr)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	// Comparing digests hides the token's length as well as its bytes.
	got, want := sha256.Sum256([]byte(q.Get("hub.verify_token"))), sha256.Sum256([]byte(s.secrets.VerifyToken))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		s.m.reject(reasonBadVerifyToken)
		s.logger.Warn("verification request rejected: wrong verify token", "remote", r.RemoteAddr)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	s.m.requests.WithLabelValues(outcomeHandshake).Inc()
	s.logger.Info("verification request answered", "remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	io.WriteString(w, challenge)
}

// receive checks a POST (size, signature, JSON) and stores its body.
func (s *Server) receive(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > s.cfg.MaxBodyBytes {
		s.tooLarge(w, r, r.ContentLength)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.tooLarge(w, r, -1)
			return
		}
		s.m.reject(reasonReadError)
		s.logger.Warn("body not read", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "body not read", http.StatusBadRequest)
		return
	}
	if reason := s.checkSignature(r.Header.Get("X-Hub-Signature-256"), body); reason != "" {
		s.m.reject(reason)
		s.logger.Warn("body rejected: signature", "reason", reason, "remote", r.RemoteAddr, "bytes", len(body))
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	line, err := normalizeBody(body)
	if err != nil {
		s.m.reject(reasonNotJSON)
		s.logger.Warn("signed body rejected: not a JSON object", "remote", r.RemoteAddr, "bytes", len(body), "err", err)
		http.Error(w, "body is not a JSON object", http.StatusBadRequest)
		return
	}
	start := time.Now()
	if err := s.store.append(line); err != nil {
		s.m.requests.WithLabelValues(outcomeFailed).Inc()
		code := http.StatusInternalServerError
		if errors.Is(err, ErrClosed) {
			code = http.StatusServiceUnavailable
		}
		s.logger.Error("body not stored", "err", err)
		http.Error(w, "not stored", code)
		return
	}
	s.m.requestSeconds.Observe(time.Since(start).Seconds())
	s.m.requests.WithLabelValues(outcomeAccepted).Inc()
	w.WriteHeader(http.StatusOK)
}

func (s *Server) tooLarge(w http.ResponseWriter, r *http.Request, size int64) {
	s.m.reject(reasonTooLarge)
	s.logger.Warn("body rejected: too large", "remote", r.RemoteAddr, "content_length", size, "max_bytes", s.cfg.MaxBodyBytes)
	http.Error(w, fmt.Sprintf("body larger than %d bytes", s.cfg.MaxBodyBytes), http.StatusRequestEntityTooLarge)
}

// checkSignature returns "" when header is "sha256=<hex>" of the HMAC-SHA256
// of body under one of the app secrets, else the rejection reason.
func (s *Server) checkSignature(header string, body []byte) string {
	if header == "" {
		return reasonMissingSignature
	}
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	got, err := hex.DecodeString(hexSum)
	if !ok || err != nil || len(got) != sha256.Size {
		return reasonBadSignature
	}
	valid := false
	for _, key := range s.secrets.AppSecrets {
		mac := hmac.New(sha256.New, key)
		mac.Write(body)
		valid = hmac.Equal(got, mac.Sum(nil)) || valid
	}
	if !valid {
		return reasonBadSignature
	}
	return ""
}

// Sign returns the X-Hub-Signature-256 value Meta sends with body: what a
// test or a forwarding proxy needs to post to a receiver.
func Sign(appSecret, body []byte) string {
	mac := hmac.New(sha256.New, appSecret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// normalizeBody returns body as one NDJSON line: it must be a JSON object;
// it is kept byte for byte unless it holds line breaks, which are removed
// by compacting it (JSON strings cannot hold raw line breaks, so only
// insignificant white space goes).
func normalizeBody(body []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("want a JSON object")
	}
	if !json.Valid(trimmed) {
		return nil, errors.New("invalid JSON")
	}
	if bytes.IndexAny(trimmed, "\r\n") < 0 {
		return trimmed, nil
	}
	var buf bytes.Buffer
	buf.Grow(len(trimmed))
	if err := json.Compact(&buf, trimmed); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// serveHealth answers 200 when the output directory takes a new file and
// the writer is running, 503 otherwise.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if err := s.writable(); err != nil {
		s.logger.Warn("health check failed", "err", err)
		http.Error(w, "not writable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok\n")
}

func (s *Server) writable() error {
	select {
	case <-s.store.done:
		return ErrClosed
	default:
	}
	f, err := os.CreateTemp(s.cfg.Dir, ".healthz-*")
	if err != nil {
		return err
	}
	name := f.Name()
	_, err = f.Write([]byte("ok\n"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return err
}

// Run serves the receiver on cfg.Addr (HTTPS when cfg has a certificate
// and key) until ctx is cancelled, then shuts down gracefully: it stops
// accepting connections, lets in-flight requests finish (for at most
// cfg.ShutdownTimeout), writes and syncs every queued body, closes the
// files and gzips the last one. A nil error means nothing acknowledged
// was lost.
func Run(ctx context.Context, cfg Config, secrets Secrets, logger *slog.Logger) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TLSCertFile != "" {
		// Fail at start, not at the first handshake.
		if _, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile); err != nil {
			return fmt.Errorf("collect: TLS: %w", err)
		}
	}
	srv, err := NewServer(cfg, secrets, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return errors.Join(fmt.Errorf("collect: listen: %w", err), srv.Close())
	}
	return srv.Serve(ctx, ln)
}

// Serve is Run on a listener of the caller's: it serves until ctx is
// cancelled, then shuts down gracefully and closes s.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: min(s.cfg.ReadTimeout, 10*time.Second),
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	tlsOn := s.cfg.TLSCertFile != ""
	s.logger.Info("collect listening", "addr", ln.Addr().String(), "path", s.cfg.WebhookPath, "tls", tlsOn,
		"dir", s.cfg.Dir, "fsync", string(s.cfg.Fsync), "max_file_bytes", s.cfg.MaxFileBytes, "gzip", !s.cfg.NoCompress)
	served := make(chan error, 1)
	go func() {
		if tlsOn {
			served <- hs.ServeTLS(ln, s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		} else {
			served <- hs.Serve(ln)
		}
	}()
	var serveErr error
	select {
	case err := <-served:
		serveErr = fmt.Errorf("collect: serve: %w", err)
	case <-ctx.Done():
		s.logger.Info("shutting down: finishing in-flight requests", "timeout", s.cfg.ShutdownTimeout.String())
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
		if err := hs.Shutdown(sctx); err != nil {
			// Requests still running now get 503 from the closed store
			// (never a 200 for a body that is not written).
			serveErr = fmt.Errorf("collect: shutdown: %w", err)
			hs.Close()
		}
		cancel()
		<-served
	}
	if err := s.Close(); err != nil {
		return errors.Join(serveErr, err)
	}
	s.logger.Info("collect stopped", "err", serveErr)
	return serveErr
}
