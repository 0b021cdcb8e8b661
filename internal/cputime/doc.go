// Package cputime reads the CPU time the process has used: the figure
// beside wall time that the load of a shared machine moves least (user
// plus system seconds, from getrusage).
package cputime
