package gbdt

import (
	"errors"
	"os"
	"testing"

	"github.com/failcast/failcast/internal/boundedread"
)

// Issue 12 item 18: a model path that is a device (/dev/zero) was read
// without bound. ReadFile refuses non-regular files before reading (Read
// stops at MaxModelBytes, see boundedread's TestLimit).
func TestFaultModelFromDevice(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	if _, err := ReadFile("/dev/zero"); !errors.Is(err, boundedread.ErrNotRegular) {
		t.Errorf("ReadFile(/dev/zero): %v", err)
	}
}
