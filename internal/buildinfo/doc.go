// Package buildinfo says which build of failcast is running: the module
// version and VCS revision from the binary's own stamp
// (runtime/debug.ReadBuildInfo), or the revision the build passed with
// -ldflags "-X github.com/failcast/failcast/internal/buildinfo.revision=REV"
// when it carries no stamp (GOFLAGS=-buildvcs=false, a tree without .git,
// a container build).
//
// CodeVersion is the identity a trained model records and a training run
// compares: two different builds never share one, even without any
// revision (the executable's digest stands in for it), so that a new build
// retrains instead of reporting "unchanged".
package buildinfo
