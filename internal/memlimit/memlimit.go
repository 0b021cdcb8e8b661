// Package memlimit reads memory sizes and the limits a process runs
// under: the Go runtime's soft limit (GOMEMLIMIT) and the cgroup limit of
// a container, which kills the process when it is crossed.
package memlimit

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
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

// Physical returns the machine's memory (MemTotal of /proc/meminfo), or 0
// where it cannot be read.
func Physical() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return memTotal(b)
}

// memTotal reads MemTotal (in kB) from the text of /proc/meminfo.
func memTotal(meminfo []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "MemTotal:" && f[2] == "kB" {
			if n, err := strconv.ParseInt(f[1], 10, 64); err == nil && n > 0 {
				return n << 10
			}
		}
	}
	return 0
}

// GCTime returns the CPU seconds the process has spent on garbage
// collection and in all (the time its GOMAXPROCS threads were not idle),
// as the runtime estimates them at each collection (runtime/metrics);
// the share between two readings tells a run whose soft limit is below
// its live heap, where the collector runs nearly all the time.
func GCTime() (gc, used float64) {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"}, {Name: "/cpu/classes/idle:cpu-seconds"}}
	metrics.Read(s)
	for _, v := range s {
		if v.Value.Kind() != metrics.KindFloat64 {
			return 0, 0
		}
	}
	return s[0].Value.Float64(), s[1].Value.Float64() - s[2].Value.Float64()
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
