package collect

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func startServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	s, err := NewServer(cfg, testSecrets, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

func TestHandshake(t *testing.T) {
	s, ts := startServer(t, Config{})
	tests := []struct {
		name   string
		query  url.Values
		status int
		reason string
	}{
		{"ok", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"test-verify-token"}, "hub.challenge": {"1158201444"}}, 200, ""},
		{"wrong token", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"test-verify-tokeN"}, "hub.challenge": {"1"}}, 403, reasonBadVerifyToken},
		{"token prefix", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"test-verify"}, "hub.challenge": {"1"}}, 403, reasonBadVerifyToken},
		{"no token", url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"1"}}, 403, reasonBadVerifyToken},
		{"wrong mode", url.Values{"hub.mode": {"unsubscribe"}, "hub.verify_token": {"test-verify-token"}, "hub.challenge": {"1"}}, 403, reasonBadHandshake},
		{"no challenge", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"test-verify-token"}}, 403, reasonBadHandshake},
		{"nothing", nil, 403, reasonBadHandshake},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := value(s.m.rejections.WithLabelValues(cmpOrStr(tt.reason)))
			resp, err := http.Get(ts.URL + "/webhook?" + tt.query.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 200 && string(body) != tt.query.Get("hub.challenge") {
				t.Errorf("body %q, want the challenge %q", body, tt.query.Get("hub.challenge"))
			}
			if tt.reason != "" {
				if got := value(s.m.rejections.WithLabelValues(tt.reason)) - before; got != 1 {
					t.Errorf("rejections{reason=%s} grew by %v, want 1", tt.reason, got)
				}
			}
		})
	}
	if got := value(s.m.requests.WithLabelValues(outcomeHandshake)); got != 1 {
		t.Errorf("handshakes counted %v, want 1", got)
	}
}

func cmpOrStr(s string) string {
	if s == "" {
		return reasonBadHandshake
	}
	return s
}

func TestPost(t *testing.T) {
	secrets := Secrets{AppSecrets: [][]byte{[]byte("old-secret"), testSecrets.AppSecrets[0]}, VerifyToken: "v"}
	dir := t.TempDir()
	s, err := NewServer(Config{Dir: dir, MaxBodyBytes: 4096}, secrets, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	bodies := exampleBodies(t)
	body := bodies[0]
	sig := Sign(testSecrets.AppSecrets[0], []byte(body))
	multiline := "{\n  \"object\": \"whatsapp_business_account\",\r\n  \"entry\": [ {\"id\": \"1\", \"text\": \"a b\"} ]\n}\n"
	big := `{"object":"whatsapp_business_account","pad":"` + strings.Repeat("x", 5000) + `"}`
	tests := []struct {
		name    string
		method  string
		body    string
		sig     string // "" = no header
		chunked bool   // no Content-Length
		status  int
		reason  string
		stored  string // the line expected in the files ("" = none)
	}{
		{"signed", "POST", body, sig, false, 200, "", body},
		{"signed by the second secret", "POST", bodies[5], Sign([]byte("old-secret"), []byte(bodies[5])), false, 200, "", bodies[5]},
		{"unsigned", "POST", bodies[1], "", false, 401, reasonMissingSignature, ""},
		{"wrong secret", "POST", bodies[1], Sign([]byte("nope"), []byte(bodies[1])), false, 401, reasonBadSignature, ""},
		{"signature of another body", "POST", bodies[1], sig, false, 401, reasonBadSignature, ""},
		{"no sha256= prefix", "POST", body, strings.TrimPrefix(sig, "sha256="), false, 401, reasonBadSignature, ""},
		{"sha1 header form", "POST", body, "sha1=" + strings.TrimPrefix(sig, "sha256="), false, 401, reasonBadSignature, ""},
		{"not hex", "POST", body, "sha256=" + strings.Repeat("zz", 32), false, 401, reasonBadSignature, ""},
		{"short", "POST", body, sig[:len(sig)-2], false, 401, reasonBadSignature, ""},
		{"uppercase hex", "POST", bodies[2], strings.ToUpper(Sign(testSecrets.AppSecrets[0], []byte(bodies[2])))[:0] + "sha256=" + strings.ToUpper(strings.TrimPrefix(Sign(testSecrets.AppSecrets[0], []byte(bodies[2])), "sha256=")), false, 200, "", bodies[2]},
		{"too large", "POST", big, Sign(testSecrets.AppSecrets[0], []byte(big)), false, 413, reasonTooLarge, ""},
		{"too large, chunked", "POST", big, Sign(testSecrets.AppSecrets[0], []byte(big)), true, 413, reasonTooLarge, ""},
		{"unsigned and too large", "POST", big, "", false, 413, reasonTooLarge, ""},
		{"signed, not JSON", "POST", "hello", Sign(testSecrets.AppSecrets[0], []byte("hello")), false, 400, reasonNotJSON, ""},
		{"signed, truncated JSON", "POST", body[:40], Sign(testSecrets.AppSecrets[0], []byte(body[:40])), false, 400, reasonNotJSON, ""},
		{"signed, JSON array", "POST", "[" + body + "]", Sign(testSecrets.AppSecrets[0], []byte("["+body+"]")), false, 400, reasonNotJSON, ""},
		{"signed, empty", "POST", "", Sign(testSecrets.AppSecrets[0], nil), false, 400, reasonNotJSON, ""},
		{"signed, two lines", "POST", multiline, Sign(testSecrets.AppSecrets[0], []byte(multiline)), false, 200, "",
			`{"object":"whatsapp_business_account","entry":[{"id":"1","text":"a b"}]}`},
		{"PUT", "PUT", body, sig, false, 405, reasonMethod, ""},
	}
	var want []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := value(s.m.rejections.WithLabelValues(cmpOrStr(tt.reason)))
			var r io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				r = io.MultiReader(r) // hides the length from net/http
			}
			req, _ := http.NewRequest(tt.method, ts.URL+"/webhook", r)
			if tt.sig != "" {
				req.Header.Set("X-Hub-Signature-256", tt.sig)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.reason != "" {
				if got := value(s.m.rejections.WithLabelValues(tt.reason)) - before; got != 1 {
					t.Errorf("rejections{reason=%s} grew by %v, want 1", tt.reason, got)
				}
			}
		})
		if tt.stored != "" {
			want = append(want, tt.stored)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := storedLines(t, dir); !slices.Equal(got, want) {
		t.Errorf("stored lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := value(s.m.requests.WithLabelValues(outcomeAccepted)); got != float64(len(want)) {
		t.Errorf("accepted %v, want %d", got, len(want))
	}
	// After Close, bodies get 503 (Meta retries), not a 200.
	if code, err := postSigned(http.DefaultClient, ts.URL+"/webhook", body); err != nil || code != 503 {
		t.Errorf("post after Close: %d %v, want 503", code, err)
	}
}

func TestNormalizeBody(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`{"a":1}`, `{"a":1}`, true},
		{"  {\"a\": 1}\t", `{"a": 1}`, true}, // kept byte for byte, only trimmed
		{"{\n\"a\": [1,\r\n 2]\n}", `{"a":[1,2]}`, true},
		{`{"s":"x\ny"}`, `{"s":"x\ny"}`, true}, // escaped, not a line break
		{"{\"s\":\"x\ny\"}", "", false},        // raw line break in a string: not JSON
		{`[1]`, "", false},
		{`"x"`, "", false},
		{``, "", false},
		{`{"a":1} {"b":2}`, "", false},
	}
	for _, tt := range tests {
		got, err := normalizeBody([]byte(tt.in))
		if (err == nil) != tt.ok || string(got) != tt.want {
			t.Errorf("normalizeBody(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzNormalizeBody: an accepted body becomes one line of valid JSON equal
// to the body up to white space between tokens.
func FuzzNormalizeBody(f *testing.F) {
	for _, b := range exampleBodies(f) {
		f.Add([]byte(b))
	}
	f.Add([]byte("{\n\"a\":\r\n[1, 2]}\n"))
	f.Add([]byte("{\"a\":\"\u2028\"}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		line, err := normalizeBody(body)
		if err != nil {
			return
		}
		if bytes.ContainsAny(line, "\r\n") || !json.Valid(line) || line[0] != '{' {
			t.Fatalf("normalizeBody(%q) = %q: not one JSON object line", body, line)
		}
		var a, b bytes.Buffer
		if json.Compact(&a, body) != nil || json.Compact(&b, line) != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("normalizeBody(%q) = %q changed the JSON", body, line)
		}
	})
}

// Files rotate when the next write would pass the size cap; closed files
// are gzipped and nothing else is left; the lines come back in order.
func TestRotationBySizeAndGzip(t *testing.T) {
	const maxBytes = 2048
	dir := t.TempDir()
	s, ts := startServer(t, Config{Dir: dir, MaxFileBytes: maxBytes})
	var want []string
	for round := range 3 {
		for i, b := range exampleBodies(t) {
			if round > 0 {
				b = statusBody(t, round*100+i)
			}
			if code, err := postSigned(ts.Client(), ts.URL+"/webhook", b); err != nil || code != 200 {
				t.Fatalf("post: %d %v", code, err)
			}
			want = append(want, b)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	names := filesIn(t, dir)
	if len(names) < 5 {
		t.Fatalf("%d files (%v), want several at %d bytes each", len(names), names, maxBytes)
	}
	for _, name := range names {
		if !fileNameRE.MatchString(name) || !strings.HasSuffix(name, gzipExt) {
			t.Errorf("%s: want only closed, gzipped files", name)
			continue
		}
		f, _ := os.Open(filepath.Join(dir, name))
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		data, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(data) > maxBytes && bytes.Count(data, []byte("\n")) > 1 {
			t.Errorf("%s holds %d bytes in several lines, more than the %d cap", name, len(data), maxBytes)
		}
	}
	if got := storedLines(t, dir); !slices.Equal(got, want) {
		t.Errorf("stored %d lines, want the %d posted, in order", len(got), len(want))
	}
	if got := value(s.m.filesCompressed); got != float64(len(names)) {
		t.Errorf("files_compressed_total %v, want %d", got, len(names))
	}
}

// A new UTC hour starts a new file named by that hour.
func TestRotationByHour(t *testing.T) {
	dir := t.TempDir()
	var clock atomic.Int64
	clock.Store(time.Date(2026, 9, 21, 13, 59, 59, 0, time.UTC).UnixNano())
	s, err := newServer(Config{Dir: dir, NoCompress: true}, testSecrets, testLogger(t), func() time.Time { return time.Unix(0, clock.Load()) })
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for i := range 4 {
		if i == 2 {
			clock.Add(int64(2 * time.Second))
		}
		if code, err := postSigned(ts.Client(), ts.URL+"/webhook", statusBody(t, i)); err != nil || code != 200 {
			t.Fatalf("post: %d %v", code, err)
		}
	}
	s.Close()
	want := []string{"webhooks-20260921T13-000001.ndjson", "webhooks-20260921T14-000002.ndjson"}
	if got := filesIn(t, dir); !slices.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	if got := storedLines(t, dir); len(got) != 4 || got[2] != statusBody(t, 2) {
		t.Errorf("stored %d lines, want 4 in order", len(got))
	}
}

// A restart keeps what an earlier run left, minus a torn last line,
// removes leftovers, finishes the gzips and writes to a new file.
func TestRecovery(t *testing.T) {
	dir := t.TempDir()
	b := exampleBodies(t)
	gz := func(s string) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(s))
		zw.Close()
		return buf.Bytes()
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	write("webhooks-20260921T12-000003.ndjson.gz", gz(b[0]+"\n"))
	write("webhooks-20260921T12-000003.ndjson", []byte(b[0]+"\n")) // gzip done, removal not
	write("webhooks-20260921T12-000004.ndjson.gz.tmp", gz(b[1]))   // gzip cut short
	write("webhooks-20260921T13-000007.ndjson", []byte(b[1]+"\n"+b[2]+"\n"+b[3][:50]))
	write("webhooks-20260921T13-000008.ndjson", nil)
	write("webhooks-20260921T13-000009.ndjson", []byte(b[4][:30])) // nothing whole
	write("notes.txt", []byte("not ours\n"))

	s, ts := startServer(t, Config{Dir: dir})
	if code, err := postSigned(ts.Client(), ts.URL+"/webhook", b[5]); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	names := filesIn(t, dir)
	if len(names) != 4 || names[0] != "notes.txt" || names[1] != "webhooks-20260921T12-000003.ndjson.gz" ||
		names[2] != "webhooks-20260921T13-000007.ndjson.gz" || !strings.HasSuffix(names[3], "-000010.ndjson.gz") {
		t.Errorf("files after recovery: %v", names)
	}
	want := []string{b[0], b[1], b[2], b[5]}
	if got := storedLines(t, dir); !slices.Equal(got, want) {
		t.Errorf("stored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Many clients at once: every 200 is in the files exactly once, batches
// share fsyncs, and export reads every body back as an event.
func TestLoad(t *testing.T) {
	n, clients := 20000, 50
	if testing.Short() {
		n = 2000
	}
	dir := t.TempDir()
	s, ts := startServer(t, Config{Dir: dir, MaxFileBytes: 1 << 20})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if code, err := postSigned(client, ts.URL+"/webhook", statusBody(t, i)); err != nil || code != 200 {
					errs <- fmt.Errorf("body %d: %d %v", i, code, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, l := range storedLines(t, dir) {
		seen[l]++
	}
	for i := range n {
		if c := seen[statusBody(t, i)]; c != 1 {
			t.Fatalf("body %d stored %d times, want 1", i, c)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct lines stored, want %d", len(seen), n)
	}
	batchCount := histogramCount(s.m.batchLines)
	if batchCount == 0 || batchCount >= uint64(n) {
		t.Errorf("%d batches for %d bodies: want fewer (group commit)", batchCount, n)
	}
	t.Logf("%d bodies in %d batches (%.1f per fsync), %d files", n, batchCount, float64(n)/float64(batchCount), len(filesIn(t, dir)))
	sum := exportDir(t, dir)
	if sum.Statuses != int64(n) || sum.Rejects != 0 || sum.Events != int64(n) || sum.WebhookLines != int64(n) {
		t.Errorf("export: %d lines, %d statuses, %d events, %d rejects; want %d, %d, %d, 0",
			sum.WebhookLines, sum.Statuses, sum.Events, sum.Rejects, n, n, n)
	}
}

// value reads a counter or gauge.
func value(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

func histogramCount(h prometheus.Histogram) uint64 {
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		panic(err)
	}
	return m.Histogram.GetSampleCount()
}

func TestHealthAndMetrics(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	s, ts := startServer(t, Config{Dir: dir})
	get := func(path string) (int, string) {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz %d, want 200", code)
	}
	postSigned(ts.Client(), ts.URL+"/webhook", statusBody(t, 1))
	if resp, err := http.Post(ts.URL+"/webhook", "application/json", strings.NewReader(statusBody(t, 2))); err != nil || resp.StatusCode != 401 {
		t.Fatalf("unsigned post: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	code, body := get("/metrics")
	for _, want := range []string{
		`failcast_collect_requests_total{outcome="accepted"} 1`,
		`failcast_collect_rejections_total{reason="missing_signature"} 1`,
		`failcast_collect_written_bytes_total ` + fmt.Sprint(len(statusBody(t, 1))+1),
		`failcast_collect_current_file_bytes ` + fmt.Sprint(len(statusBody(t, 1))+1),
		`failcast_collect_write_latency_seconds_count 1`,
		`failcast_collect_fsync_seconds_count 1`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
	if entries := filesIn(t, dir); len(entries) != 1 {
		t.Errorf("healthz left files behind: %v", entries)
	}
	os.RemoveAll(dir) // the volume went away
	if code, _ := get("/healthz"); code != 503 {
		t.Errorf("healthz without its directory: %d, want 503", code)
	}
	os.MkdirAll(dir, 0o750)
	s.Close()
	if code, _ := get("/healthz"); code != 503 {
		t.Errorf("healthz after Close: %d, want 503", code)
	}
}

func TestConfigAndSecrets(t *testing.T) {
	bad := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no dir", Config{}, "output directory is required"},
		{"fsync", Config{Dir: "d", Fsync: "always"}, `fsync policy "always"`},
		{"cert without key", Config{Dir: "d", TLSCertFile: "c"}, "both a certificate"},
		{"path", Config{Dir: "d", WebhookPath: "hook"}, "must start with /"},
		{"path taken", Config{Dir: "d", WebhookPath: "/metrics"}, "taken"},
		{"negative size", Config{Dir: "d", MaxFileBytes: -1}, "must be positive"},
	}
	for _, tt := range bad {
		if _, err := tt.cfg.withDefaults(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.want)
		}
	}
	c, err := Config{Dir: "d"}.withDefaults()
	if err != nil || c.Fsync != FsyncGroup || c.MaxBodyBytes != DefaultMaxBodyBytes || c.Addr != DefaultAddr || c.WebhookPath != "/webhook" {
		t.Errorf("defaults: %+v %v", c, err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	secretTests := []struct {
		name    string
		env     map[string]string
		secrets int
		wantErr string
	}{
		{"both", map[string]string{EnvAppSecret: "s", EnvVerifyToken: "v"}, 1, ""},
		{"rotation", map[string]string{EnvAppSecret: "new, old", EnvVerifyToken: "v"}, 2, ""},
		{"no secret", map[string]string{EnvVerifyToken: "v"}, 0, "$FAILCAST_APP_SECRET"},
		{"blank secret", map[string]string{EnvAppSecret: " , ", EnvVerifyToken: "v"}, 0, "$FAILCAST_APP_SECRET"},
		{"no token", map[string]string{EnvAppSecret: "s"}, 0, "$FAILCAST_VERIFY_TOKEN"},
	}
	for _, tt := range secretTests {
		s, err := secretsFrom(env(tt.env))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: %v, want an error naming %s", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(s.AppSecrets) != tt.secrets {
			t.Errorf("%s: %d secrets, %v", tt.name, len(s.AppSecrets), err)
		}
	}
	if _, err := NewServer(Config{Dir: t.TempDir()}, Secrets{}, nil); err == nil {
		t.Error("NewServer without secrets: no error")
	}
}

// A body that cannot be written gets 500 (Meta retries it), never a 200;
// the receiver takes bodies again once the disk is back.
func TestWriteFailureIsNot200(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	s, ts := startServer(t, Config{Dir: dir})
	os.RemoveAll(dir) // the volume went away before the first file
	if code, err := postSigned(ts.Client(), ts.URL+"/webhook", statusBody(t, 1)); err != nil || code != 500 {
		t.Fatalf("post without a directory: %d %v, want 500", code, err)
	}
	if got := value(s.m.writeErrors); got != 1 {
		t.Errorf("write_errors_total %v, want 1", got)
	}
	if got := value(s.m.requests.WithLabelValues(outcomeFailed)); got != 1 {
		t.Errorf("requests{outcome=failed} %v, want 1", got)
	}
	os.MkdirAll(dir, 0o750)
	if code, err := postSigned(ts.Client(), ts.URL+"/webhook", statusBody(t, 2)); err != nil || code != 200 {
		t.Fatalf("post after the directory is back: %d %v, want 200", code, err)
	}
	s.Close()
	if got := storedLines(t, dir); len(got) != 1 || got[0] != statusBody(t, 2) {
		t.Errorf("stored %d lines, want only the body that got a 200", len(got))
	}
}
