package memlimit

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestParse(t *testing.T) {
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
		got, err := Parse(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestFormatParses(t *testing.T) {
	for _, n := range []int64{0, 100, 1000, 64 << 10, 512 << 20, 3 << 29, 3500 << 20, 2 << 30, 5 << 40, 1_500_000_000} {
		s := Format(n)
		if got, err := Parse(s); err != nil || got != n {
			t.Errorf("Parse(Format(%d) = %q) = %d, %v", n, s, got, err)
		}
	}
}

func TestSetRestores(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	restore := Set(3 << 30)
	if got := Soft(); got != 3<<30 {
		t.Errorf("Soft() after Set(3GiB) = %d", got)
	}
	if got := Auto(); got != 3<<30 {
		t.Errorf("Auto() under a soft limit = %d, want that limit", got)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit after restore = %d, want %d", got, before)
	}
	Set(0)() // no limit: nothing set, nothing to restore
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("Set(0) changed the limit to %d", got)
	}
}

func TestMemTotal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"MemTotal:       24567520 kB\nMemFree:         1234 kB\n", 24567520 << 10},
		{"MemFree:         1234 kB\nMemTotal: 2048 kB\n", 2048 << 10},
		{"MemTotal: lots kB\n", 0},
		{"MemTotal: 2048 MB\n", 0}, // not the unit /proc/meminfo writes
		{"", 0},
	} {
		if got := memTotal([]byte(tc.in)); got != tc.want {
			t.Errorf("memTotal(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestGCTime(t *testing.T) {
	runtime.GC() // the runtime updates its CPU estimates at collections
	gc, total := GCTime()
	if gc < 0 || total <= 0 || gc > total {
		t.Errorf("GCTime() = %g, %g; want 0 <= gc <= total, total > 0", gc, total)
	}
}

func ExampleFormat() {
	fmt.Println(Format(3<<29), Format(3500<<20), Format(100))
	// Output: 1.5GiB 3500MiB 100B
}
