package boundedread

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("hello"), 0o644)
	tests := []struct {
		name string
		path string
		max  int64
		want error
	}{
		{"within the cap", small, 10, nil},
		{"exactly the cap", small, 5, nil},
		{"over the cap", small, 4, ErrTooLarge},
		{"a directory", dir, 10, ErrNotRegular},
		{"missing", filepath.Join(dir, "none"), 10, os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ReadFile(tt.path, tt.max)
			if !errors.Is(err, tt.want) || err == nil && string(b) != "hello" {
				t.Errorf("ReadFile = %q, %v; want %v", b, err, tt.want)
			}
		})
	}
}

func TestLimit(t *testing.T) {
	for _, tt := range []struct {
		in   string
		max  int64
		want error
	}{{"abc", 3, nil}, {"abcd", 3, ErrTooLarge}, {"", 0, nil}} {
		got, err := io.ReadAll(Limit(strings.NewReader(tt.in), tt.max, "x"))
		if !errors.Is(err, tt.want) || err == nil && string(got) != tt.in {
			t.Errorf("Limit(%q, %d) = %q, %v; want %v", tt.in, tt.max, got, err, tt.want)
		}
	}
}
