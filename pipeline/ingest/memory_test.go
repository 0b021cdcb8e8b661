package ingest

import "testing"

func TestMemoryBudget(t *testing.T) {
	if got := MemoryBudget(1 << 30); got != 1<<30 {
		t.Errorf("MemoryBudget(1GiB) = %d: a given limit is kept", got)
	}
	if got := MemoryBudget(0); got <= 0 || got > DefaultMemoryLimit {
		t.Errorf("MemoryBudget(0) = %d, want in (0, %d]", got, DefaultMemoryLimit)
	}
}
