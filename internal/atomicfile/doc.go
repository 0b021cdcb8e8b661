// Package atomicfile writes files so that readers never see half of one:
// a File is written under a temporary name beside its final path and
// renamed into place on Commit, and a failed or killed write leaves the
// earlier file untouched (only a hidden ".NAME.tmp-*" file, which Abort
// removes).
//
// It is the one write-then-rename implementation of failcast: the history
// writer, plan and outcome files, predictions, feature tables, model files
// and reports all go through it, so they share one permission (Mode) and
// one durability rule (the data is synced before the rename).
package atomicfile
