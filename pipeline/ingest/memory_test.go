package ingest

import "testing"

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1048576", 1 << 20, true},
		{"2GiB", 2 << 30, true},
		{"1.5GiB", 3 << 29, true},
		{"512MiB", 512 << 20, true},
		{"1500MB", 1_500_000_000, true},
		{"64KiB", 64 << 10, true},
		{"100B", 100, true},
		{" 2 GiB ", 2 << 30, true},
		{"", 0, false},
		{"lots", 0, false},
		{"-1GiB", 0, false},
		{"2GiBs", 0, false},
		{"1e30GB", 0, false},
	} {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestMemoryBudget(t *testing.T) {
	if got := MemoryBudget(1 << 30); got != 1<<30 {
		t.Errorf("MemoryBudget(1GiB) = %d: a given limit is kept", got)
	}
	if got := MemoryBudget(0); got <= 0 || got > DefaultMemoryLimit {
		t.Errorf("MemoryBudget(0) = %d, want in (0, %d]", got, DefaultMemoryLimit)
	}
}
