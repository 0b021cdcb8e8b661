package collect

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkCollect posts signed status bodies from 50 concurrent clients
// over loopback HTTP and reports requests/s and latency percentiles, with
// the default fsync policy (group commit) and, as its peer in the same
// run, fsync=none. bodies/write is the mean batch: bodies sharing one
// write (and, under group commit, one fsync).
//
//	go test -run '^$' -bench Collect -benchtime 20000x ./pipeline/collect
func BenchmarkCollect(b *testing.B) {
	for _, policy := range []FsyncPolicy{FsyncGroup, FsyncNone} {
		b.Run("fsync="+string(policy), func(b *testing.B) { benchCollect(b, policy, 50) })
	}
}

func benchCollect(b *testing.B, policy FsyncPolicy, clients int) {
	s, err := NewServer(Config{Dir: b.TempDir(), Fsync: policy}, testSecrets, nil)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	type signed struct{ body, sig string }
	pool := make([]signed, 1024)
	for i := range pool {
		body := statusBody(b, i)
		pool[i] = signed{body, Sign(testSecrets.AppSecrets[0], []byte(body))}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	var mu sync.Mutex
	var latencies []time.Duration
	url := ts.URL + "/webhook"
	b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
	b.SetBytes(int64(len(pool[0].body)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var own []time.Duration
		i := 0
		for pb.Next() {
			p := pool[i%len(pool)]
			i++
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(p.body))
			req.Header.Set("X-Hub-Signature-256", p.sig)
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			own = append(own, time.Since(t0))
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
		mu.Lock()
		latencies = append(latencies, own...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	if batches := histogramCount(s.m.batchLines); batches > 0 {
		b.ReportMetric(float64(len(latencies))/float64(batches), "bodies/write")
	}
}
