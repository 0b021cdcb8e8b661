//go:build !unix

package cputime

// Seconds returns 0: the process's CPU time is not read on this platform.
func Seconds() float64 { return 0 }
