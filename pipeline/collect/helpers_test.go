package collect

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/failcast/failcast/pipeline/ingest"
)

var testSecrets = Secrets{AppSecrets: [][]byte{[]byte("test-app-secret")}, VerifyToken: "test-verify-token"}

// testLogger logs to the test's output when -v is given.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// exampleBodies are the real webhook bodies of testdata, one per line.
func exampleBodies(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, name := range []string{"webhook-statuses.ndjson", "webhook-account-events.ndjson"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(data)) {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
	}
	return out
}

// statusBody returns a real status body made unique by its message id.
func statusBody(t testing.TB, i int) string {
	t.Helper()
	statusTemplateOnce.Do(func() {
		data, err := os.ReadFile(filepath.Join("testdata", "webhook-statuses.ndjson"))
		if err != nil {
			panic(err)
		}
		first, _, _ := strings.Cut(string(data), "\n")
		statusTemplate = strings.Replace(first, "wamid.HBgLNTUxMTk4NzY1NDMyFQIAERgSQjA3RDFBMjM0NTY3ODlBQkMA", "wamid.LOAD%09d", 1)
	})
	if !strings.Contains(statusTemplate, "wamid.LOAD") {
		t.Fatal("testdata/webhook-statuses.ndjson: the first status body no longer has the expected message id")
	}
	return fmt.Sprintf(statusTemplate, i)
}

var (
	statusTemplateOnce sync.Once
	statusTemplate     string
)

// postSigned posts body signed with the test app secret.
func postSigned(client *http.Client, url, body string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", Sign(testSecrets.AppSecrets[0], []byte(body)))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// storedLines reads every line of the receiver's files in dir, in name
// order, through ingest's readers (gzip told by content).
func storedLines(t testing.TB, dir string) []string {
	t.Helper()
	files, err := ingest.ExpandInputs([]string{dir})
	if err != nil {
		if strings.Contains(err.Error(), "no .ndjson") {
			return nil
		}
		t.Fatal(err)
	}
	var lines []string
	for _, path := range files {
		r, err := ingest.OpenInput(path)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			t.Errorf("%s: does not end in a line break", path)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
	}
	return lines
}

// filesIn lists dir's entries by name.
func filesIn(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// exportDir runs the receiver's files through pipeline/ingest as export
// does and returns the summary.
func exportDir(t testing.TB, dir string) ingest.Summary {
	t.Helper()
	x, err := ingest.New(ingest.Options{NoHash: true})
	if err != nil {
		t.Fatal(err)
	}
	files, err := ingest.ExpandInputs([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		r, err := ingest.OpenInput(path)
		if err != nil {
			t.Fatal(err)
		}
		err = x.AddWebhooks(context.Background(), path, r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, sum := x.Events()
	return sum
}
