package ingest

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultMemoryLimit is the memory an export aims to stay under when
// neither --memory-limit, GOMEMLIMIT nor a cgroup limit says otherwise:
// 1.5 GiB, enough for 50 million events (the budget bounds the joined
// part, not the input size).
const DefaultMemoryLimit int64 = 3 << 29

// MemoryBudget returns the memory an export aims to stay under: limit
// when it is positive (--memory-limit), else the smallest of
// DefaultMemoryLimit, the Go runtime's soft limit (GOMEMLIMIT) and three
// quarters of the cgroup's memory limit (a container's). Half of it bounds
// the events joined at once (a group of spill buckets); the rest is for
// what an export keeps whole (one entry per distinct recipient, the
// Parquet writers of the days written in parallel).
func MemoryBudget(limit int64) int64 {
	if limit > 0 {
		return limit
	}
	budget := DefaultMemoryLimit
	if soft := debug.SetMemoryLimit(-1); soft > 0 && soft < math.MaxInt64 {
		budget = min(budget, soft)
	}
	if c := cgroupMemoryLimit(); c > 0 {
		budget = min(budget, c/4*3)
	}
	return budget
}

// cgroupMemoryLimit returns the memory limit of the process's cgroup (v2
// memory.max, else v1 memory.limit_in_bytes), or 0 when there is none.
func cgroupMemoryLimit() int64 {
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

// ParseSize reads a memory size (--memory-limit): a number of bytes,
// optionally with a unit as GOMEMLIMIT writes them (B, KiB, MiB, GiB,
// TiB) or decimal (KB, MB, GB, TB): "1536MiB", "1.5GiB", "2GB".
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || f*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size (want bytes, or a number with B, KiB, MiB, GiB, KB, MB or GB)", s)
	}
	return int64(f * mult), nil
}
