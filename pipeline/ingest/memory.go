package ingest

import "github.com/failcast/failcast/internal/memlimit"

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
	if auto := memlimit.Auto(); auto > 0 {
		budget = min(budget, auto)
	}
	return budget
}
