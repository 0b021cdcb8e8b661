package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func quiet() Option { return WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))) }

// publish stages a version holding one file and commits it.
func publish(t *testing.T, r *Registry, version, content string) string {
	t.Helper()
	s, err := r.Stage(version)
	if err != nil {
		t.Fatalf("Stage(%s): %v", version, err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "model.txt"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, err := s.Commit()
	if err != nil {
		t.Fatalf("Commit(%s): %v", version, err)
	}
	return dir
}

func lockT(t *testing.T, r *Registry) *Lock {
	t.Helper()
	l, err := r.Lock(context.Background(), "test", 0)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	t.Cleanup(func() { l.Unlock() })
	return l
}

func readCurrent(t *testing.T, r *Registry) string {
	t.Helper()
	_, dir, err := r.Current()
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPublishAndPromote(t *testing.T) {
	r := Open(t.TempDir(), quiet())
	if _, _, err := r.Current(); !errors.Is(err, ErrNoChampion) {
		t.Fatalf("Current on empty registry: got %v, want ErrNoChampion", err)
	}
	lockT(t, r)
	publish(t, r, "v1", "one")
	if _, _, err := r.Current(); !errors.Is(err, ErrNoChampion) {
		t.Fatalf("committed but not promoted: got %v, want ErrNoChampion", err)
	}
	if err := r.Promote("v1"); err != nil {
		t.Fatal(err)
	}
	if got := readCurrent(t, r); got != "one" {
		t.Fatalf("champion content %q, want one", got)
	}
	publish(t, r, "v2", "two")
	if err := r.Promote("v2"); err != nil {
		t.Fatal(err)
	}
	v, _, _ := r.Current()
	if v != "v2" || readCurrent(t, r) != "two" {
		t.Fatalf("after second promotion current=%s", v)
	}
	target, err := os.Readlink(filepath.Join(r.Dir(), CurrentLink))
	if err != nil || filepath.IsAbs(target) {
		t.Fatalf("current should be a relative symlink, got %q (%v)", target, err)
	}
	if err := r.Promote("nope"); err == nil {
		t.Fatal("promoting a missing version succeeded")
	}
	if v, _, _ := r.Current(); v != "v2" {
		t.Fatalf("failed promotion changed current to %s", v)
	}
	if _, err := r.Stage("v2"); err == nil {
		t.Fatal("staging an existing version succeeded")
	}
}

func TestChangesNeedLock(t *testing.T) {
	r := Open(t.TempDir(), quiet())
	ops := map[string]func() error{
		"Stage":     func() error { _, err := r.Stage("v1"); return err },
		"Promote":   func() error { return r.Promote("v1") },
		"Prune":     func() error { _, err := r.Prune(1); return err },
		"CleanTemp": func() error { _, err := r.CleanTemp(); return err },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, ErrNotLocked) {
			t.Errorf("%s without lock: got %v, want ErrNotLocked", name, err)
		}
	}
}

func TestBadVersionNames(t *testing.T) {
	r := Open(t.TempDir(), quiet())
	lockT(t, r)
	for _, name := range []string{"", ".hidden", "a/b", `a\b`} {
		if _, err := r.Stage(name); err == nil {
			t.Errorf("Stage(%q) succeeded", name)
		}
	}
}

func TestInterruptedRunLeavesChampion(t *testing.T) {
	dir := t.TempDir()
	r := Open(dir, quiet())
	l := lockT(t, r)
	publish(t, r, "v1", "one")
	if err := r.Promote("v1"); err != nil {
		t.Fatal(err)
	}

	// Crash while writing: a staged version that is never committed.
	s, err := r.Stage("v2")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(s.Dir(), "model.txt"), []byte("half"), 0o644)
	// Crash inside a writer that builds its own temporary directory.
	os.MkdirAll(filepath.Join(dir, VersionsDir, ".v2.tmp-123"), 0o755)
	// Crash between committing and promoting.
	publish(t, r, "v3", "three")
	// Crash while replacing the symlink: a temporary link left behind.
	os.Symlink("versions/v3", filepath.Join(dir, tempPrefix+"current-dead"))
	// Crash while recovering a stale lock.
	os.WriteFile(filepath.Join(dir, LockFile+".stale-123"), []byte("{}"), 0o644)
	l.Unlock()

	r2 := Open(dir, quiet())
	if got := readCurrent(t, r2); got != "one" {
		t.Fatalf("champion after interrupted runs: %q, want one", got)
	}
	vs, err := r2.Versions()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range vs {
		names = append(names, v.Name)
	}
	if strings.Join(names, ",") != "v1,v3" {
		t.Fatalf("versions %v, want v1,v3 (no staging dir)", names)
	}
	lockT(t, r2)
	removed, err := r2.CleanTemp()
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 4 {
		t.Fatalf("CleanTemp removed %v, want the staging dir, the writer's temp dir, the temp symlink and the stale lock", removed)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, VersionsDir))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Fatalf("leftover %s after CleanTemp", e.Name())
		}
	}
	if got := readCurrent(t, r2); got != "one" {
		t.Fatalf("champion after CleanTemp: %q", got)
	}
}

func TestPrune(t *testing.T) {
	tests := []struct {
		name    string
		current string
		keep    int
		want    string // remaining versions
		deleted int
	}{
		{"keeps newest", "v4", 2, "v3,v4", 2},
		{"never deletes current", "v1", 2, "v1,v4", 2},
		{"keep one keeps current", "v2", 1, "v2", 3},
		{"keep zero keeps all", "v1", 0, "v1,v2,v3,v4", 0},
		{"more than stored", "v1", 10, "v1,v2,v3,v4", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Open(t.TempDir(), quiet())
			lockT(t, r)
			for _, v := range []string{"v1", "v2", "v3", "v4"} {
				publish(t, r, v, v)
			}
			if err := r.Promote(tc.current); err != nil {
				t.Fatal(err)
			}
			deleted, err := r.Prune(tc.keep)
			if err != nil {
				t.Fatal(err)
			}
			vs, _ := r.Versions()
			var names []string
			for _, v := range vs {
				names = append(names, v.Name)
			}
			if got := strings.Join(names, ","); got != tc.want || len(deleted) != tc.deleted {
				t.Fatalf("remaining %s (deleted %v), want %s (%d deleted)", got, deleted, tc.want, tc.deleted)
			}
			if readCurrent(t, r) != tc.current {
				t.Fatal("champion changed by Prune")
			}
		})
	}
}

func TestNewVersionName(t *testing.T) {
	r := Open(t.TempDir(), quiet())
	lockT(t, r)
	at := time.Date(2026, 11, 24, 2, 15, 0, 0, time.UTC)
	first := r.NewVersionName(at)
	if first != "20261124T021500Z" {
		t.Fatalf("got %s", first)
	}
	publish(t, r, first, "x")
	if second := r.NewVersionName(at); second != first+"-2" {
		t.Fatalf("second name in same second: %s", second)
	}
}

func TestLockHeld(t *testing.T) {
	dir := t.TempDir()
	a := Open(dir, quiet())
	lockT(t, a)
	b := Open(dir, quiet())
	_, err := b.Lock(context.Background(), "second", 0)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Lock: got %v, want *LockedError", err)
	}
	if le.Holder.PID != os.Getpid() || le.Holder.Owner != "test" || le.Holder.StartedAt.IsZero() {
		t.Fatalf("holder %+v does not name this process", le.Holder)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("message %q does not name the pid", err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockFile)); err != nil {
		t.Fatalf("failed Lock removed the holder's lock: %v", err)
	}
}

func TestLockWaitsForHolder(t *testing.T) {
	old := pollInterval
	pollInterval = 10 * time.Millisecond
	t.Cleanup(func() { pollInterval = old })
	dir := t.TempDir()
	a := Open(dir, quiet())
	la, err := a.Lock(context.Background(), "first", 0)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		la.Unlock()
	}()
	b := Open(dir, quiet())
	lb, err := b.Lock(context.Background(), "second", 5*time.Second)
	if err != nil {
		t.Fatalf("waiting Lock: %v", err)
	}
	if lb.Info().Owner != "second" {
		t.Fatalf("lock info %+v", lb.Info())
	}
	lb.Unlock()

	// Waiting ends with the context.
	la, _ = a.Lock(context.Background(), "first", 0)
	defer la.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := Open(dir, quiet()).Lock(ctx, "third", time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock with cancelled context: %v", err)
	}
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run helper: %v", err)
	}
	return cmd.Process.Pid
}

// A lock file no process holds an OS lock on is taken over, whatever it
// says: a dead pid, a live pid (a reused one: the job is PID 1 of its
// container on every run), or nothing readable.
func TestStaleLock(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name    string
		content string
		age     time.Duration
	}{
		{"dead pid", fmt.Sprintf(`{"pid":%d,"started_at":"2026-01-01T00:00:00Z","owner":"x"}`, deadPID(t)), 0},
		{"live pid of another process", fmt.Sprintf(`{"pid":%d,"started_at":"2026-01-01T00:00:00Z","owner":"x"}`, os.Getpid()), time.Hour},
		{"unreadable fresh", "", 0},
		{"unreadable old", "garbage", time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, LockFile)
			os.WriteFile(path, []byte(tc.content), 0o644)
			os.Chtimes(path, now.Add(-tc.age), now.Add(-tc.age))
			r := Open(dir, quiet(), WithClock(func() time.Time { return now }))
			l, err := r.Lock(context.Background(), "new", 0)
			if err != nil {
				t.Fatalf("stale lock not recovered: %v", err)
			}
			if info, _ := readLockFile(path); info.PID != os.Getpid() || info.Owner != "new" {
				t.Fatalf("lock file after recovery: %+v", info)
			}
			l.Unlock()
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatal("Unlock left the lock file")
			}
		})
	}
}

// Issue 12 item 13: a holder killed with SIGKILL in a PID namespace (PID
// 1, as a job in a container) left a lock naming pid 1, and the next run,
// PID 1 of its own namespace, found "pid 1" alive and exited 4 forever.
// With the OS lock the kernel releases it when the holder dies.
func TestFaultStaleLockReusedPID(t *testing.T) {
	if os.Getenv("REGISTRY_HELPER_DIR") != "" {
		return // inside the helper
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare not available")
	}
	ns := []string{"--user", "--map-root-user", "--pid", "--fork", "--kill-child"}
	if out, err := exec.Command(unshare, append(ns, "sh", "-c", "echo $$")...).Output(); err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Skipf("no PID namespaces here: %v %q", err, out)
	}
	dir := t.TempDir()
	holder := exec.Command(unshare, append(ns, os.Args[0], "-test.run=^TestHelperHoldLock$")...)
	holder.Env = append(os.Environ(), "REGISTRY_HELPER_DIR="+dir)
	out, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := io.ReadAtLeast(out, buf, len("staged\n"))
	if !strings.Contains(string(buf[:n]), "staged") {
		holder.Process.Kill()
		holder.Wait()
		t.Fatalf("helper said %q", buf[:n])
	}
	if info, err := readLockFile(filepath.Join(dir, LockFile)); err != nil || info.PID != 1 {
		t.Fatalf("lock of the holder: %+v %v, want pid 1", info, err)
	}
	holder.Process.Signal(os.Kill) // unshare --kill-child SIGKILLs the holder
	holder.Wait()
	time.Sleep(100 * time.Millisecond)

	// The next run is PID 1 of a new namespace too.
	next := exec.Command(unshare, append(ns, os.Args[0], "-test.run=^TestHelperTakeLock$")...)
	next.Env = append(os.Environ(), "REGISTRY_HELPER_DIR="+dir)
	got, err := next.CombinedOutput()
	if err != nil || !strings.Contains(string(got), "took the lock as pid 1") {
		t.Fatalf("next run in a new PID namespace: %v\n%s", err, got)
	}
}

// TestHelperTakeLock is the second run of TestFaultStaleLockReusedPID.
func TestHelperTakeLock(t *testing.T) {
	dir := os.Getenv("REGISTRY_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	l, err := Open(dir, quiet()).Lock(context.Background(), "next", 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("took the lock as pid %d\n", l.Info().PID)
	l.Unlock()
}

// TestLockHolderKilled takes the lock in a child process, kills it with
// SIGKILL and checks that the next run recovers the lock and finds the
// champion intact.
func TestLockHolderKilled(t *testing.T) {
	if os.Getenv("REGISTRY_HELPER_DIR") != "" {
		return // inside the helper
	}
	dir := t.TempDir()
	r := Open(dir, quiet())
	l := lockT(t, r)
	publish(t, r, "v1", "one")
	r.Promote("v1")
	l.Unlock()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), "REGISTRY_HELPER_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := io.ReadAtLeast(out, buf, len("staged\n"))
	if !strings.Contains(string(buf[:n]), "staged") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q", buf[:n])
	}
	_, err = Open(dir, quiet()).Lock(context.Background(), "while-held", 0)
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.PID != cmd.Process.Pid {
		t.Fatalf("lock held by helper: got %v", err)
	}
	cmd.Process.Signal(os.Kill)
	cmd.Wait()

	r2 := Open(dir, quiet())
	lockT(t, r2)
	if got := readCurrent(t, r2); got != "one" {
		t.Fatalf("champion after SIGKILL: %q", got)
	}
	removed, err := r2.CleanTemp()
	if err != nil || len(removed) != 1 {
		t.Fatalf("CleanTemp after killed run: %v, %v", removed, err)
	}
}

// TestHelperHoldLock is the child of TestLockHolderKilled: it takes the
// lock, stages a version and waits to be killed.
func TestHelperHoldLock(t *testing.T) {
	dir := os.Getenv("REGISTRY_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	r := Open(dir, quiet())
	if _, err := r.Lock(context.Background(), "helper", 0); err != nil {
		t.Fatal(err)
	}
	s, err := r.Stage("v2")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(s.Dir(), "model.txt"), []byte("half"), 0o644)
	fmt.Println("staged")
	time.Sleep(time.Minute)
}

// FuzzLockFile feeds arbitrary lock file contents to Lock: it must never
// panic, and must take the lock: no process holds its OS lock, whatever
// the file says.
func FuzzLockFile(f *testing.F) {
	for _, seed := range []string{
		`{"pid":1,"started_at":"2026-11-01T02:00:00Z","owner":"failcast train"}`,
		`{"pid":-5}`, `{"pid":99999999}`, `{}`, ``, `null`, `{"pid":"12"}`, "\x00\xff", `{"pid":1e99}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, LockFile)
		os.WriteFile(path, data, 0o644)
		old := time.Now().Add(-time.Hour)
		os.Chtimes(path, old, old)
		r := Open(dir, quiet())
		l, err := r.Lock(context.Background(), "fuzz", 0)
		if err != nil {
			t.Fatalf("Lock refused with %v for content %q", err, data)
		}
		if info, err := readLockFile(path); err != nil || info.PID != os.Getpid() {
			t.Fatalf("lock file after taking it: %+v, %v", info, err)
		}
		l.Unlock()
	})
}
