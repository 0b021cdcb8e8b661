// Package exitcode is failcast's one table of exit codes and the error
// classes that map to them. Library packages (training, scoring, the
// exporter) mark an error with its class (Usage, Input, Locked); commands
// turn any error into its code with Of. Errors that carry no class are
// internal failures (1), and so is an interrupted run.
//
//	0  OK        the run finished and did what was asked
//	1  Internal  internal failure, or interrupted (SIGINT/SIGTERM)
//	2  Usage     bad usage: unknown flag, bad value, unreadable config file
//	3  Input     bad or missing input data (nothing was published or replaced)
//	4  Locked    another run holds the lock (the message names the holder)
package exitcode
