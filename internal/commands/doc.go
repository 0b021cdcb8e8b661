// Package commands holds failcast's commands: each one binds its flags to
// a stage package's options and makes one call into it, on the framework
// of package cli. Root is the `failcast` binary; the standalone binaries
// of cmd/ run the same commands (cmd/inspect is cli.Main(NewInspect())).
//
// A command knows flags, defaults and how to print a result; what it runs
// lives in the stage packages (inspect, simulate, models/registry
// and models/artifact here; training, scoring and the exporter for the
// commands still to be wired). See docs/cli.md.
package commands
