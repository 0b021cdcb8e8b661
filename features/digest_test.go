package features

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"testing"
)

// tableDigest is an FNV-1a digest of a training table's rows: their
// times, labels, families, codes and every feature value, bit for bit.
func tableDigest(tab *Table) uint64 {
	h := fnv.New64a()
	var b [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	put(uint64(tab.Rows))
	for i := range tab.Rows {
		put(uint64(tab.Time[i]))
		l := uint64(0)
		if tab.Failed[i] {
			l = 1
		}
		put(l<<40 | uint64(tab.Family[i])<<32 | uint64(uint32(tab.Code[i])))
	}
	for _, v := range tab.X {
		put(uint64(math.Float32bits(v)))
	}
	return h.Sum64()
}

// TestBuildTrainingDigest pins the feature values of a generated history
// (about 200k events, 30k recipients: the message and recipient tables
// grow, rotate and prune several times) to the digest the engine gave
// before its lookups were reordered for speed, with every worker count.
// A change of the features themselves changes the digest on purpose:
// then FeatureVersion moves and the digest is recorded again.
func TestBuildTrainingDigest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 200k-event history")
	}
	g := smallGen(7)
	g.Messages, g.MeanGapUS, g.Recipients = 60000, 10e6, 30000
	events := generateAll(g)
	const want = uint64(0xb2eebed483504b21)
	for _, workers := range []int{1, 4} {
		cfg := DefaultConfig()
		cfg.Workers = workers
		tab := buildAll(t, events, cfg)
		if got := tableDigest(tab); got != want {
			t.Errorf("workers %d: %d rows, %d events: digest %#x, want %#x", workers, tab.Rows, len(events), got, want)
		}
	}
}
