package gbdt

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/failcast/failcast/internal/boundedread"
)

// Issue 12 item 18: a model path that is a device (/dev/zero) was read
// without bound. ReadFile refuses non-regular files; Read stops at
// MaxModelBytes.
func TestFaultModelFromDevice(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	if _, err := ReadFile("/dev/zero"); !errors.Is(err, boundedread.ErrNotRegular) {
		t.Errorf("ReadFile(/dev/zero): %v", err)
	}
	if testing.Short() {
		return // reading 1 GiB of zeros takes a while
	}
	f, _ := os.Open("/dev/zero")
	defer f.Close()
	if _, err := Read(io.Reader(f)); !errors.Is(err, boundedread.ErrTooLarge) {
		t.Errorf("Read(/dev/zero): %v", err)
	}
}
