package simulate

import (
	"context"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

// BenchmarkSimulate simulates the demo world's history (about 1.5M events)
// and reports events per second.
func BenchmarkSimulate(b *testing.B) {
	cfg := DefaultConfig()
	events := 0
	sink := SinkFunc(func(batch []pipeline.Event) error { events += len(batch); return nil })
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Run(context.Background(), cfg, sink); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkPlanOutcomes plays the demo plan forward from as-of.
func BenchmarkPlanOutcomes(b *testing.B) {
	w, err := Run(context.Background(), DefaultConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	plan := w.Plan()
	b.ResetTimer()
	for b.Loop() {
		if _, err := w.Outcomes(context.Background(), plan); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(plan)*b.N)/b.Elapsed().Seconds(), "sends/s")
}

// BenchmarkRawWriter converts history to raw forms.
func BenchmarkRawWriter(b *testing.B) {
	cfg := smallConfig()
	var hist []pipeline.Event
	if _, err := Run(context.Background(), cfg, SinkFunc(func(batch []pipeline.Event) error {
		hist = append(hist, batch...)
		return nil
	})); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		var n countingWriter
		rw, err := NewRawWriter(cfg, &n, &n)
		if err != nil {
			b.Fatal(err)
		}
		if err := rw.History(hist); err != nil {
			b.Fatal(err)
		}
		if err := rw.Close(); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(n))
	}
	b.ReportMetric(float64(len(hist)*b.N)/b.Elapsed().Seconds(), "events/s")
}

type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
