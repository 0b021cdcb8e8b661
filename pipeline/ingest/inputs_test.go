package ingest

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestOpenInput(t *testing.T) {
	dir := t.TempDir()
	a, b := gzipBytes(t, "{\"a\":1}\n"), gzipBytes(t, "{\"b\":2}\n")
	tests := []struct {
		name    string
		content []byte
		want    string
		wantErr string
	}{
		{"plain.ndjson", []byte("{\"a\":1}\n"), "{\"a\":1}\n", ""},
		{"empty.ndjson", nil, "", ""},
		{"one-byte.ndjson", []byte{0x1f}, "\x1f", ""},
		{"gzip-without-suffix.ndjson", a, "{\"a\":1}\n", ""},
		{"gzip.ndjson.gz", a, "{\"a\":1}\n", ""},
		{"two-members.ndjson.gz", append(slices.Clone(a), b...), "{\"a\":1}\n{\"b\":2}\n", ""},
		{"truncated.ndjson.gz", a[:len(a)-6], "", "truncated.ndjson.gz: gzip: unexpected EOF"},
		{"bad-header.ndjson.gz", []byte{0x1f, 0x8b, 0, 0}, "", "bad-header.ndjson.gz: gzip:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := OpenInput(path)
			var got []byte
			if err == nil {
				got, err = io.ReadAll(r)
				r.Close()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("read %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := OpenInput(filepath.Join(dir, "missing.ndjson")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v, want not-exist", err)
	}
}

func TestExpandInputs(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		"webhooks-20260921T13-000001.ndjson.gz",
		"webhooks-20260921T13-000002.ndjson.gz",
		"webhooks-20260921T13-000002.ndjson", // gzip finished, plain not yet removed
		"webhooks-20260921T14-000003.ndjson", // being written
		"webhooks-20260921T14-000004.ndjson.gz.tmp",
		".healthz-123",
		"notes.txt",
		"other.jsonl",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dir, "sub.ndjson"), 0o755)
	empty := t.TempDir()
	j := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, filepath.Join(dir, n))
		}
		return out
	}
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{"directory", []string{dir}, j("other.jsonl", "webhooks-20260921T13-000001.ndjson.gz",
			"webhooks-20260921T13-000002.ndjson.gz", "webhooks-20260921T14-000003.ndjson"), ""},
		{"glob", []string{filepath.Join(dir, "webhooks-*T13-*.gz")}, j("webhooks-20260921T13-000001.ndjson.gz", "webhooks-20260921T13-000002.ndjson.gz"), ""},
		{"file kept as is, missing or not", []string{"a.ndjson", "missing.ndjson"}, []string{"a.ndjson", "missing.ndjson"}, ""},
		{"file named twice", []string{filepath.Join(dir, "other.jsonl"), dir}, j("other.jsonl", "webhooks-20260921T13-000001.ndjson.gz",
			"webhooks-20260921T13-000002.ndjson.gz", "webhooks-20260921T14-000003.ndjson"), ""},
		{"empty directory", []string{empty}, nil, "no .ndjson, .jsonl, .json files"},
		{"glob without match", []string{filepath.Join(dir, "*.parquet")}, nil, "no file matches"},
		{"bad glob", []string{"[x"}, nil, "syntax error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExpandInputs(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}
