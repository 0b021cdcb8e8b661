package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Issue 12 item 12: a plan given as a FIFO hung forever (the open blocks
// until a writer comes, and a plan is read twice). Files that are not
// regular (FIFO, directory, device) are refused at once, naming the file
// and what it is.
func TestFaultPlanNotRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "plan.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	subdir := filepath.Join(dir, "plans.csv")
	os.Mkdir(subdir, 0o755)
	for _, tt := range []struct {
		name, path string
		want       error
	}{
		{"fifo", fifo, ErrNotRegularFile},
		{"directory", subdir, ErrNotRegularFile},
		{"missing", filepath.Join(dir, "none.csv"), os.ErrNotExist},
	} {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				done <- ReadPlan(context.Background(), tt.path, nil, func([]PlannedSend) error { return nil })
			}()
			select {
			case err := <-done:
				if !errors.Is(err, tt.want) {
					t.Fatalf("error %v, want %v", err, tt.want)
				}
				t.Log(err)
			case <-time.After(5 * time.Second):
				// Unblock the reader so the test ends.
				if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
					w.Close()
				}
				<-done
				t.Fatal("ReadPlan blocked on a non-regular file")
			}
		})
	}
}
