package cputime

import (
	"runtime"
	"testing"
)

// TestSecondsGrowsWithWork: busy work moves the figure forward, and it
// never goes back.
func TestSecondsGrowsWithWork(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("not measured on this platform")
	}
	before := Seconds()
	x := 0.0
	for i := range 50_000_000 {
		x += float64(i & 7)
	}
	after := Seconds()
	if !(after > before) || x == 0 {
		t.Fatalf("CPU seconds %v then %v around a busy loop", before, after)
	}
}
