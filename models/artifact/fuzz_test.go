package artifact

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenMetadata feeds arbitrary metadata.json to Open, next to one
// model file: Open must return an error or a verified artifact, never
// panic or read outside the directory.
func FuzzOpenMetadata(f *testing.F) {
	const sum = "1e0b6f6e0e2f0f4f5d4a6c0a2e1b9a3b3c6e0b1f3e8c1a6d8b7a9c0d1e2f3a4b"
	f.Add([]byte(`{"format_version":1,"feature_schema_hash":"s","files":{"m.bin":"` + sum + `"}}`))
	f.Add([]byte(`{"format_version":2}`))
	f.Add([]byte(`{"format_version":1,"files":{"../m.bin":"00"}}`))
	f.Add([]byte(`{"format_version":1,"lead_time":"x","files":{}}`))
	f.Fuzz(func(t *testing.T, meta []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "m.bin"), []byte("model"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, MetadataFile), meta, 0o644); err != nil {
			t.Fatal(err)
		}
		a, err := Open(dir, "")
		if err != nil {
			return
		}
		for name := range a.Metadata.Files {
			if name != "m.bin" {
				t.Fatalf("verified a file %q that does not exist", name)
			}
		}
	})
}
