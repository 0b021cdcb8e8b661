// Command featuredoc writes docs/features.md, the feature reference,
// from the registry in package features:
//
//	go run ./cmd/featuredoc            # writes docs/features.md
//	go run ./cmd/featuredoc -o -       # prints it
package main

import (
	"bytes"
	"flag"
	"log/slog"
	"os"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/internal/atomicfile"
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
	return atomicfile.WriteFile(out, func(f *atomicfile.File) error {
		_, err := f.Write(b.Bytes())
		return err
	})
}
