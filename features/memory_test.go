package features

import (
	"context"
	"math"
	"runtime"
	"testing"
)

// stateBytes builds the engine state (no rows) over a streamed synthetic
// history and returns the live heap it holds per recipient.
func stateBytes(t testing.TB, messages, recipients int) (perRecipient float64, seen int) {
	g := benchGen(messages, recipients)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	eng := newEngine(DefaultConfig().TrainingCutoff)
	en := newEntities()
	cfg := DefaultConfig()
	cfg.Workers = 1
	if _, err := run(context.Background(), &genSource{cfg: g}, cfg, eng, en, math.MaxInt64, math.MaxInt64, 0, nil); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	seen = len(en.recip.names)
	runtime.KeepAlive(eng)
	runtime.KeepAlive(en)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(seen), seen
}

// TestStateBytesPerRecipient measures the whole state (entity arrays,
// interned keys, message map, queues) per recipient seen, and checks it
// stays within the budget that lets 1M+ recipients fit comfortably.
func TestStateBytesPerRecipient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds state for 100k recipients")
	}
	per, seen := stateBytes(t, 300_000, 100_000)
	t.Logf("%.0f bytes of state per recipient (%d recipients seen)", per, seen)
	if per > 800 {
		t.Fatalf("%.0f bytes of state per recipient, want <= 800", per)
	}
}

func BenchmarkStateBytesPerRecipient(b *testing.B) {
	for range b.N {
		per, _ := stateBytes(b, 300_000, 100_000)
		b.ReportMetric(per, "bytes/recipient")
	}
}
