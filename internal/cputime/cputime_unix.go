//go:build unix

package cputime

import "syscall"

// Seconds returns the process's user+system CPU time so far, in seconds,
// or 0 when it cannot be read.
func Seconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
