package collect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The receiver runs as a child process (this test binary re-executed with
// helperEnv set) so that it can be killed with SIGKILL or stopped with
// SIGTERM like the real one.
const (
	helperEnv    = "FAILCAST_COLLECT_TEST_HELPER"
	helperDirEnv = "FAILCAST_COLLECT_TEST_DIR"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(helperMain())
	}
	os.Exit(m.Run())
}

// helperMain is what a command wiring collect does: secrets from the
// environment, Run until SIGTERM or SIGINT.
func helperMain() int {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	secrets, err := SecretsFromEnv()
	if err != nil {
		logger.Error("secrets", "err", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg := Config{Addr: "127.0.0.1:0", Dir: os.Getenv(helperDirEnv), MaxFileBytes: 256 << 10}
	if err := Run(ctx, cfg, secrets, logger); err != nil {
		logger.Error("collect failed", "err", err)
		return 1
	}
	return 0
}

type child struct {
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex
	stderr bytes.Buffer
	exited chan struct{}
	err    error
}

// startChild starts a receiver on dir and waits until it listens.
func startChild(t *testing.T, dir string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperDirEnv+"="+dir,
		EnvAppSecret+"="+string(testSecrets.AppSecrets[0]), EnvVerifyToken+"="+testSecrets.VerifyToken)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			c.mu.Lock()
			c.stderr.Write(sc.Bytes())
			c.stderr.WriteByte('\n')
			c.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "collect listening" {
				addr <- rec.Addr
			}
		}
		io.Copy(io.Discard, pipe)
		c.err = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.exited
		if t.Failed() {
			t.Logf("receiver log:\n%s", c.log())
		}
	})
	select {
	case a := <-addr:
		c.url = "http://" + a + "/webhook"
	case <-c.exited:
		t.Fatalf("receiver exited before listening: %v\n%s", c.err, c.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("receiver not listening after 30 s:\n%s", c.log())
	}
	return c
}

func (c *child) log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

func (c *child) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-c.exited:
		return c.err
	case <-time.After(60 * time.Second):
		t.Fatalf("receiver still running 60 s after the signal:\n%s", c.log())
		return nil
	}
}

// loader posts unique status bodies and records those that got a 200.
type loader struct {
	next  *atomic.Int64
	mu    sync.Mutex
	acked []int
}

// run posts from clients goroutines until posting fails (the receiver is
// gone or shutting down), calling signal once when atAcks bodies in all
// got a 200.
func (l *loader) run(t *testing.T, url string, clients, atAcks int, signal func()) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	var once sync.Once
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := int(l.next.Add(1))
				code, err := postSigned(client, url, statusBody(t, i))
				if err != nil || code == http.StatusServiceUnavailable {
					return // killed or shutting down
				}
				if code != http.StatusOK {
					t.Errorf("body %d: status %d", i, code)
					return
				}
				l.mu.Lock()
				l.acked = append(l.acked, i)
				n := len(l.acked)
				l.mu.Unlock()
				if n >= atAcks {
					once.Do(signal)
				}
			}
		})
	}
	wg.Wait()
}

// checkStored asserts every acked body is stored exactly once, every line
// is a whole JSON object, and no line is stored twice.
func checkStored(t *testing.T, dir string, acked []int) {
	t.Helper()
	seen := map[string]int{}
	for _, line := range storedLines(t, dir) {
		if !json.Valid([]byte(line)) {
			t.Errorf("stored line is not JSON: %.80q", line)
		}
		seen[line]++
	}
	for line, n := range seen {
		if n != 1 {
			t.Errorf("line stored %d times: %.80q", n, line)
		}
	}
	lost := 0
	for _, i := range acked {
		if seen[statusBody(t, i)] != 1 {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d bodies that got a 200 are not in the files", lost, len(acked))
	}
	t.Logf("%d bodies acknowledged, %d lines stored (%d in flight when stopped, stored without a 200)", len(acked), len(seen), len(seen)-len(acked))
}

func onlyGzipped(t *testing.T, dir string) {
	t.Helper()
	for _, name := range filesIn(t, dir) {
		if !strings.HasSuffix(name, gzipExt) {
			t.Errorf("%s left after a graceful stop; want only %s files", name, gzipExt)
		}
	}
}

func TestKill9DuringLoadThenRestart(t *testing.T) {
	atAcks := 3000
	if testing.Short() {
		atAcks = 500
	}
	dir := t.TempDir()
	l := &loader{next: new(atomic.Int64)}
	c := startChild(t, dir)
	l.run(t, c.url, 20, atAcks, func() { c.cmd.Process.Signal(syscall.SIGKILL) })
	if err := c.wait(t); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("first receiver: %v, want killed", err)
	}
	firstRun := len(l.acked)

	// The restart recovers the directory and takes bodies again.
	c2 := startChild(t, dir)
	l.run(t, c2.url, 20, firstRun+200, func() { c2.cmd.Process.Signal(syscall.SIGTERM) })
	if err := c2.wait(t); err != nil {
		t.Fatalf("second receiver: %v\n%s", err, c2.log())
	}
	if len(l.acked) <= firstRun {
		t.Fatalf("no body acknowledged after the restart")
	}
	checkStored(t, dir, l.acked)
	onlyGzipped(t, dir)
	if !strings.Contains(c2.log(), "recovered file from an earlier run") {
		t.Errorf("the restart did not log a recovered file:\n%s", c2.log())
	}
}

func TestSIGTERMDuringLoadLosesNothing(t *testing.T) {
	atAcks := 3000
	if testing.Short() {
		atAcks = 500
	}
	dir := t.TempDir()
	l := &loader{next: new(atomic.Int64)}
	c := startChild(t, dir)
	l.run(t, c.url, 20, atAcks, func() { c.cmd.Process.Signal(syscall.SIGTERM) })
	if err := c.wait(t); err != nil {
		t.Fatalf("receiver after SIGTERM: %v, want exit 0", err)
	}
	checkStored(t, dir, l.acked)
	onlyGzipped(t, dir)
	if !strings.Contains(c.log(), `"msg":"collect stopped"`) {
		t.Errorf("no clean stop logged:\n%s", c.log())
	}
}
