// Package registry keeps versions of a trained model in a directory and
// says which one is the champion, the version scoring uses.
//
// Layout of a registry directory:
//
//	DIR/versions/<version>/   one directory per training run (any files)
//	DIR/current               symlink to versions/<version>, the champion
//	DIR/lock                  present while a run holds the registry
//
// Every change is atomic. A version directory is written under a temporary
// name (versions/.tmp-...) and renamed into place when complete; the
// current symlink is replaced by renaming a temporary symlink over it. A
// run that dies at any point therefore leaves the previous champion in
// place; the temporary directories it leaves behind are removed by the next
// run that takes the lock (see CleanTemp).
//
// Only one run may change a registry at a time. Lock creates DIR/lock with
// O_EXCL and writes the holder's pid and start time into it; a lock whose
// pid is no longer alive is stale and is taken over. Operations that change
// the registry (Stage, Promote, Prune, CleanTemp) require the lock.
//
// The package knows nothing about what a version contains: deciding whether
// a challenger beats the champion is the caller's job.
package registry
