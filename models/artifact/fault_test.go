package artifact

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/failcast/failcast/internal/boundedread"
)

// Issue 12 item 18: metadata.json or a model file that is a symlink to
// /dev/zero made Open allocate without bound (or hash forever, deaf to
// SIGTERM); a FIFO blocked it. Such paths are refused before reading, and
// files over their caps are refused by size.
func TestFaultNonRegularModelFiles(t *testing.T) {
	tests := []struct {
		name   string
		file   string // replaced in a valid model directory
		target func(t *testing.T, dir string) string
		want   error
	}{
		{"metadata -> /dev/zero", MetadataFile, func(*testing.T, string) string { return "/dev/zero" }, boundedread.ErrNotRegular},
		{"model file -> /dev/zero", "model.gbdt", func(*testing.T, string) string { return "/dev/zero" }, boundedread.ErrNotRegular},
		{"metadata a FIFO", MetadataFile, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip("no FIFOs:", err)
			}
			return p
		}, boundedread.ErrNotRegular},
		{"metadata over its cap", MetadataFile, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "big.json")
			f, _ := os.Create(p)
			f.Truncate(MaxMetadataBytes + 1) // sparse: no disk used
			f.Close()
			return p
		}, boundedread.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat("/dev/zero"); err != nil {
				t.Skip("no /dev/zero")
			}
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "model")
			if err := Write(dir, sampleMetadata(), map[string]func(io.Writer) error{"model.gbdt": writeString("trees")}); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, tt.file)
			os.Remove(p)
			if err := os.Symlink(tt.target(t, tmp), p); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := Open(dir, schema); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.file) {
					t.Errorf("Open: %v, want %v naming %s", err, tt.want, tt.file)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Open did not return")
			}
		})
	}
}
