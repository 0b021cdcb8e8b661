package ingest

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// OpenInput opens an input file for reading. A gzip file (one starting
// with gzip's magic bytes 1f 8b, whatever its name) is decompressed,
// concatenated gzip members included; anything else is read as it is.
func OpenInput(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 1<<20)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: gzip: %w", path, err)
		}
		return &gzipInput{zr: zr, f: f, path: path}, nil
	}
	return &plainInput{Reader: br, f: f}, nil
}

type plainInput struct {
	*bufio.Reader
	f *os.File
}

func (p *plainInput) Close() error { return p.f.Close() }

type gzipInput struct {
	zr   *gzip.Reader
	f    *os.File
	path string
}

func (g *gzipInput) Read(b []byte) (int, error) {
	n, err := g.zr.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%s: gzip: %w", g.path, err) // a truncated or corrupt file is named
	}
	return n, err
}

func (g *gzipInput) Close() error { return errors.Join(g.zr.Close(), g.f.Close()) }

// inputExts are the file names a directory input is read for.
var inputExts = []string{".ndjson", ".jsonl", ".json"}

// ExpandInputs turns input arguments into file paths, in order:
//   - a directory stands for its *.ndjson, *.jsonl and *.json files, each
//     possibly gzipped (.gz), sorted by name (the receiver's file names
//     sort in write order); hidden files and *.tmp are skipped, and so is a
//     plain file whose .gz is beside it (a receiver that stopped between
//     its gzip's rename and the plain file's removal);
//   - an argument with glob characters (* ? [) stands for its matches,
//     sorted;
//   - any other argument is a file path, kept as it is.
//
// A directory or pattern that yields no file is an error naming it, as is
// a bad pattern; a file named twice is read once.
func ExpandInputs(args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, arg := range args {
		if st, err := os.Stat(arg); err == nil && st.IsDir() {
			files, err := dirInputs(arg)
			if err != nil {
				return nil, err
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("%s: no %s files (optionally .gz) in this directory", arg, strings.Join(inputExts, ", "))
			}
			for _, f := range files {
				add(f)
			}
			continue
		}
		if strings.ContainsAny(arg, "*?[") {
			matches, err := filepath.Glob(arg)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", arg, err)
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("%s: no file matches", arg)
			}
			slices.Sort(matches)
			for _, m := range matches {
				add(m)
			}
			continue
		}
		add(arg)
	}
	return out, nil
}

func dirInputs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, e := range entries {
		if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
			names[e.Name()] = true
		}
	}
	var files []string
	for _, e := range entries { // ReadDir sorts by name
		name := e.Name()
		if !names[name] || strings.HasPrefix(name, ".") {
			continue
		}
		base := strings.TrimSuffix(name, ".gz")
		if !slices.ContainsFunc(inputExts, func(ext string) bool { return strings.HasSuffix(base, ext) }) {
			continue
		}
		if base == name && names[name+".gz"] {
			continue
		}
		files = append(files, filepath.Join(dir, name))
	}
	return files, nil
}
