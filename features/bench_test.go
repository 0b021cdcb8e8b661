package features

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/failcast/failcast/internal/cputime"
	"github.com/failcast/failcast/pipeline"
)

// benchGen is a realistic mix: many recipients, a few phone numbers,
// campaigns of a few thousand sends, about 2.8 events per send, over
// about 30 days (bursts above the throughput limit, 100 sends a second
// for 20 s, take a tenth of the sends, whatever the size).
func benchGen(messages, recipients int) genConfig {
	return genConfig{
		Seed: 99, Start: day0, Messages: messages, MeanGapUS: 27 * 86400e6 / float64(messages),
		Recipients: recipients, Phones: 20, Campaigns: max(1, messages/5000), Templates: 40, Uniform: true,
		BurstEvery: 18000, BurstRate: 100,
	}
}

// compactSource is an in-memory history without pointers for the
// collector to follow: its strings live in one arena, as a decoder's
// would live in its pages. (A []pipeline.Event of a million events holds
// ten million pointers, which every collection would scan, a cost of
// the benchmark and not of the engine.)
type compactSource struct {
	arena  []byte
	events []compactEvent
}

type compactEvent struct {
	ts, media int64
	code      int32
	status    pipeline.Status
	expl      bool
	str       [10]uint32 // arena offsets: message, WABA, phone, recipient, country, campaign, template, language, category, type
}

func newCompactSource(events []pipeline.Event) *compactSource {
	c := &compactSource{events: make([]compactEvent, len(events))}
	offsets := map[string]uint32{}
	intern := func(s string) uint32 {
		if off, ok := offsets[s]; ok {
			return off
		}
		if len(s) > 255 {
			panic("compactSource: string longer than 255 bytes")
		}
		off := uint32(len(c.arena))
		c.arena = append(c.arena, byte(len(s)))
		c.arena = append(c.arena, s...)
		offsets[s] = off
		return off
	}
	for i, e := range events {
		c.events[i] = compactEvent{ts: e.Timestamp, media: e.MediaBytes, code: e.ErrorCode, status: e.Status, expl: e.Exploration,
			str: [10]uint32{intern(e.MessageID), intern(e.WABAID), intern(e.PhoneNumberID), intern(e.Recipient), intern(e.Country),
				intern(e.CampaignID), intern(e.Template), intern(e.Language), intern(e.Category), intern(e.MessageType)}}
	}
	return c
}

func (c *compactSource) str(off uint32) string {
	n := int(c.arena[off])
	if n == 0 {
		return ""
	}
	return unsafe.String(&c.arena[off+1], n)
}

func (c *compactSource) Scan(ctx context.Context, opts pipeline.ScanOptions, fn func([]pipeline.Event) error) error {
	batch := make([]pipeline.Event, 0, 8192)
	for i := range c.events {
		ce := &c.events[i]
		if opts.To != 0 && ce.ts >= opts.To {
			break
		}
		batch = append(batch, pipeline.Event{
			Timestamp: ce.ts, MediaBytes: ce.media, ErrorCode: ce.code, Status: ce.status, Exploration: ce.expl,
			MessageID: c.str(ce.str[0]), WABAID: c.str(ce.str[1]), PhoneNumberID: c.str(ce.str[2]), Recipient: c.str(ce.str[3]),
			Country: c.str(ce.str[4]), CampaignID: c.str(ce.str[5]), Template: c.str(ce.str[6]), Language: c.str(ce.str[7]),
			Category: c.str(ce.str[8]), MessageType: c.str(ce.str[9]),
		})
		if len(batch) == cap(batch) {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}

// BenchmarkBuildTraining featurizes a pre-generated in-memory history
// (the engine alone: events/s and examples/s).
func BenchmarkBuildTraining(b *testing.B) {
	msgs := 300_000
	if s := os.Getenv("FAILCAST_BENCH_MESSAGES"); s != "" {
		msgs, _ = strconv.Atoi(s)
	}
	events := generateAll(benchGen(msgs, msgs/3))
	src := newCompactSource(events)
	events = nil
	runtime.GC()
	for _, workers := range []int{1, 2, 3, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Workers = workers
			var rows int
			b.ResetTimer()
			cpu0 := cputime.Seconds()
			for range b.N {
				tab, err := BuildTraining(context.Background(), src, cfg, 0, 0)
				if err != nil {
					b.Fatal(err)
				}
				rows = tab.Rows
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(len(src.events))/sec, "events/s")
			b.ReportMetric(float64(rows)/sec, "examples/s")
			b.ReportMetric(float64(len(src.events))*float64(b.N)/(cputime.Seconds()-cpu0), "events/cpu-s")
		})
	}
}

// BenchmarkBuildTrainingStream generates the history while scanning (the
// generator runs on the scanning goroutine, like a Parquet decoder) so
// that big histories fit: FAILCAST_BENCH_MESSAGES=3500000 gives about
// 10M events with 1.26M recipients. Sub-benchmarks:
//
//   - chunks: BuildTrainingChunks, each chunk checked and dropped (the
//     memory of a build that streams its rows on);
//   - table: BuildTraining, the whole table in memory.
//
// Each reports the peak live heap and the peak resident set size of the
// process; the latter only means something with one sub-benchmark per
// process (-bench BuildTrainingStream/chunks). FAILCAST_BENCH_WORKERS
// sets Config.Workers; FAILCAST_BENCH_MEMLIMIT_MB
// sets a soft memory limit, as a command would with GOMEMLIMIT. The
// generator's CPU time, measured alone beforehand, is subtracted in
// engine-events/cpu-s.
func BenchmarkBuildTrainingStream(b *testing.B) {
	msgs := 300_000
	if s := os.Getenv("FAILCAST_BENCH_MESSAGES"); s != "" {
		msgs, _ = strconv.Atoi(s)
	}
	g := benchGen(msgs, max(msgs*36/100, 1))
	var events int
	cpu0 := cputime.Seconds()
	src := &genSource{cfg: g}
	src.Scan(context.Background(), pipeline.ScanOptions{}, func(batch []pipeline.Event) error { events += len(batch); return nil })
	genCPU := cputime.Seconds() - cpu0
	if s := os.Getenv("FAILCAST_BENCH_MEMLIMIT_MB"); s != "" {
		limitMB, _ := strconv.Atoi(s)
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(limitMB) << 20))
	}
	builds := map[string]func(cfg Config) (int, error){
		"chunks": func(cfg Config) (int, error) {
			rows := 0
			var last int64
			err := BuildTrainingChunks(context.Background(), &genSource{cfg: g}, cfg, 0, 0, func(t *Table) error {
				if t.Rows == 0 || len(t.X) != t.Rows*len(t.Names) || t.Time[0] < last {
					return fmt.Errorf("chunk of %d rows, %d values, first at %d after %d", t.Rows, len(t.X), t.Time[0], last)
				}
				last = t.Time[t.Rows-1]
				rows += t.Rows
				return nil
			})
			return rows, err
		},
		"table": func(cfg Config) (int, error) {
			tab, err := BuildTraining(context.Background(), &genSource{cfg: g}, cfg, 0, 0)
			if err != nil {
				return 0, err
			}
			runtime.KeepAlive(tab)
			return tab.Rows, nil
		},
	}
	for _, name := range []string{"chunks", "table"} {
		b.Run(name, func(b *testing.B) {
			cfg := DefaultConfig()
			if s := os.Getenv("FAILCAST_BENCH_WORKERS"); s != "" {
				cfg.Workers, _ = strconv.Atoi(s)
			}
			runtime.GC()
			stop := make(chan struct{})
			peakHeap := make(chan uint64)
			go func() { // sample the live heap while the build runs
				var peak uint64
				var ms runtime.MemStats
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						peakHeap <- peak
						return
					case <-tick.C:
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapInuse)
					}
				}
			}()
			b.ResetTimer()
			cpu0 := cputime.Seconds()
			var rows int
			for range b.N {
				n, err := builds[name](cfg)
				if err != nil {
					b.Fatal(err)
				}
				rows = n
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			cpu := (cputime.Seconds() - cpu0) / float64(b.N)
			b.ReportMetric(float64(events)/sec, "events/s")
			b.ReportMetric(float64(rows)/sec, "examples/s")
			b.ReportMetric(float64(events)/cpu, "events/cpu-s")
			b.ReportMetric(float64(events)/(cpu-genCPU), "engine-events/cpu-s")
			b.ReportMetric(genCPU, "generator-cpu-s")
			b.ReportMetric(float64(events), "events")
			b.ReportMetric(float64(rows), "examples")
			b.ReportMetric(float64(g.Recipients), "recipients")
			close(stop)
			b.ReportMetric(float64(<-peakHeap)/(1<<20), "peak-heap-inuse-MB")
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
				b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
			}
		})
	}
}

// BenchmarkBuildTrainingHistory builds the training rows of a Parquet
// history on disk (FAILCAST_BENCH_HISTORY, e.g. the history directory of
// `simulate --scale 6`, about 10M events), streamed as
// BuildTrainingChunks hands them on: the engine with the real decoder in
// front of it. Skipped when the variable is unset.
func BenchmarkBuildTrainingHistory(b *testing.B) {
	dir := os.Getenv("FAILCAST_BENCH_HISTORY")
	if dir == "" {
		b.Skip("set FAILCAST_BENCH_HISTORY to a history dataset")
	}
	ds, err := pipeline.OpenDataset(dir)
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	if s := os.Getenv("FAILCAST_BENCH_WORKERS"); s != "" {
		cfg.Workers, _ = strconv.Atoi(s)
	}
	b.ResetTimer()
	cpu0 := cputime.Seconds()
	var events, rows int
	for range b.N {
		src := &countingSource{src: ds}
		rows = 0
		err := BuildTrainingChunks(context.Background(), src, cfg, 0, 0, func(t *Table) error {
			rows += t.Rows
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		events = src.events
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(events)/sec, "events/s")
	b.ReportMetric(float64(events)/((cputime.Seconds()-cpu0)/float64(b.N)), "events/cpu-s")
	b.ReportMetric(float64(events), "events")
	b.ReportMetric(float64(rows), "examples")
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
	}
}

// countingSource counts the events a Source hands on.
type countingSource struct {
	src    Source
	events int
}

func (c *countingSource) Scan(ctx context.Context, opts pipeline.ScanOptions, fn func([]pipeline.Event) error) error {
	return c.src.Scan(ctx, opts, func(batch []pipeline.Event) error {
		c.events += len(batch)
		return fn(batch)
	})
}
