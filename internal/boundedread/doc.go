// Package boundedread opens and reads files that must be regular files of
// a bounded size (model files and their metadata), or regular files of any
// size (OpenRegular: plans, outcomes, token files). A path that is (or
// links to) a device, a FIFO or a directory is refused before anything is
// read, so /dev/zero cannot make a reader allocate without bound and a
// FIFO cannot block it forever; a file over its cap is refused by size,
// and a file that grows past it while being read fails at the cap.
package boundedread
