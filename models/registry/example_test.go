package registry_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/failcast/failcast/models/registry"
)

// A training run takes the lock, writes a new version and promotes it.
func Example() {
	dir, _ := os.MkdirTemp("", "registry")
	defer os.RemoveAll(dir)

	reg := registry.Open(dir)
	lock, err := reg.Lock(context.Background(), "example", 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lock.Unlock()
	reg.CleanTemp() // leftovers of runs that died

	stage, _ := reg.Stage("v1")
	defer stage.Abort() // removes the staging directory unless committed
	os.WriteFile(filepath.Join(stage.Dir(), "model.bin"), []byte("weights"), 0o644)
	if _, err := stage.Commit(); err != nil {
		fmt.Println(err)
		return
	}
	if err := reg.Promote("v1"); err != nil {
		fmt.Println(err)
		return
	}
	version, _, _ := reg.Current()
	fmt.Println("champion:", version)
	// Output: champion: v1
}
