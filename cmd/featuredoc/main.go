// Command featuredoc writes docs/features.md, the feature reference,
// from the registry in package features:
//
//	go run ./cmd/featuredoc            # writes docs/features.md
//	go run ./cmd/featuredoc -o -       # prints it
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/failcast/failcast/features"
)

func main() {
	out := flag.String("o", "docs/features.md", "output file, or - for standard output")
	flag.Parse()
	if err := run(*out); err != nil {
		slog.Error("featuredoc failed", "err", err)
		os.Exit(1)
	}
}

func run(out string) error {
	var b bytes.Buffer
	if err := features.WriteMarkdown(&b); err != nil {
		return err
	}
	if out == "-" {
		_, err := os.Stdout.Write(b.Bytes())
		return err
	}
	return writeAtomic(out, b.Bytes())
}

// writeAtomic writes data to a temporary file beside path and renames it.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
