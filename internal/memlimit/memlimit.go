// Package memlimit reads memory sizes and the limits a process runs
// under: the Go runtime's soft limit (GOMEMLIMIT) and the cgroup limit of
// a container, which kills the process when it is crossed.
package memlimit

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Parse reads a memory size: a number of bytes, optionally with a unit as
// GOMEMLIMIT writes them (B, KiB, MiB, GiB, TiB) or decimal (KB, MB, GB,
// TB): "1536MiB", "1.5GiB", "2GB".
func Parse(s string) (int64, error) {
	in := s
	s = strings.TrimSpace(s)
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || f*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size (want bytes, or a number with B, KiB, MiB, GiB, KB, MB or GB)", in)
	}
	return int64(f * mult), nil
}

var units = []struct {
	suffix string
	mult   float64
}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}

// Format writes n in the largest binary unit that states it exactly with
// at most one decimal ("1.5GiB", "3500MiB", "100B"); Parse reads it back
// as n.
func Format(n int64) string {
	for _, u := range units[:4] {
		if v := float64(n) / u.mult; v >= 1 && v*10 == math.Trunc(v*10) {
			return strconv.FormatFloat(v, 'f', -1, 64) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// Soft returns the Go runtime's soft memory limit (GOMEMLIMIT or
// debug.SetMemoryLimit), or 0 when there is none.
func Soft() int64 {
	if l := debug.SetMemoryLimit(-1); l > 0 && l < math.MaxInt64 {
		return l
	}
	return 0
}

// Cgroup returns the memory limit of the process's cgroup (v2
// memory.max, else v1 memory.limit_in_bytes), or 0 when there is none.
func Cgroup() int64 {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<60 {
			return 0 // "max", or v1's "unlimited" (a huge number)
		}
		return n
	}
	return 0
}

// Auto is the soft limit a long run sets when its user gave none: the
// runtime's own (GOMEMLIMIT) when set, else three quarters of the cgroup
// limit, which leaves the collector room to work before the container is
// killed, else 0 (no limit).
func Auto() int64 {
	if l := Soft(); l > 0 {
		return l
	}
	return Cgroup() / 4 * 3
}

// Set makes limit (bytes; 0 or less: none) the runtime's soft memory
// limit and returns the function that restores the previous one.
func Set(limit int64) (restore func()) {
	if limit <= 0 {
		return func() {}
	}
	prev := debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(prev) }
}
