//go:build unix

package scoring

import "syscall"

// cpuSeconds is the process's user+system CPU time so far (0 where it
// cannot be read).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
