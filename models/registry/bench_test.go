package registry

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkPublish measures staging, committing, promoting and pruning a
// version of one small file: the registry's own overhead per run.
func BenchmarkPublish(b *testing.B) {
	r := Open(b.TempDir(), quiet())
	l, err := r.Lock(context.Background(), "bench", 0)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Unlock()
	i := 0
	for b.Loop() {
		i++
		v := fmt.Sprintf("v%08d", i)
		s, err := r.Stage(v)
		if err != nil {
			b.Fatal(err)
		}
		os.WriteFile(filepath.Join(s.Dir(), "model.bin"), make([]byte, 4096), 0o644)
		if _, err := s.Commit(); err != nil {
			b.Fatal(err)
		}
		if err := r.Promote(v); err != nil {
			b.Fatal(err)
		}
		if _, err := r.Prune(3); err != nil {
			b.Fatal(err)
		}
	}
}
