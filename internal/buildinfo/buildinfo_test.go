package buildinfo

import (
	"errors"
	"strings"
	"testing"
)

func TestCodeVersionOf(t *testing.T) {
	digest := func(d string) func() (string, error) {
		return func() (string, error) { return d, nil }
	}
	unreadable := func() (string, error) { return "", errors.New("no executable") }
	tests := []struct {
		name   string
		info   Info
		digest func() (string, error)
		want   string
	}{
		{"stamped", Info{Revision: "0123456789abcdef"}, digest("ffff00000000ffff"), "0123456789abcdef"},
		{"stamped, local changes", Info{Revision: "0123456789abcdef", Modified: true}, digest("ffff00000000ffff"), "0123456789abcdef-dirty"},
		// Without a revision (GOFLAGS=-buildvcs=false and no -X), each
		// build's code is told apart by its executable.
		{"unstamped", Info{}, digest("3fa2c1d9e0ab77775555"), "devel-3fa2c1d9e0ab"},
		{"unstamped, another build", Info{}, digest("0000c1d9e0ab77775555"), "devel-0000c1d9e0ab"},
		{"nothing known", Info{}, unreadable, "devel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := codeVersionOf(tt.info, tt.digest); got != tt.want {
				t.Errorf("codeVersionOf = %q, want %q", got, tt.want)
			}
		})
	}
}

// A test binary carries no VCS stamp, so its code version must come from
// its executable, never the bare "devel" that every unstamped build shared.
func TestCodeVersionOfThisBinary(t *testing.T) {
	v := CodeVersion()
	if v == "devel" || v == "" {
		t.Fatalf("CodeVersion() = %q: an unstamped build must still be told apart", v)
	}
	if Read().Revision == "" && !strings.HasPrefix(v, "devel-") {
		t.Errorf("CodeVersion() = %q without a revision, want devel-<digest>", v)
	}
}

func TestInfoString(t *testing.T) {
	tests := []struct {
		b    Info
		want string
	}{
		{Info{Version: "devel"}, "devel (revision unknown)"},
		{Info{Version: "v1.2.0", Revision: "0123456789abcdef", Time: "2026-11-01T02:15:00Z"}, "v1.2.0 (revision 0123456789ab, 2026-11-01T02:15:00Z)"},
		{Info{Version: "devel", Revision: "abc", Modified: true}, "devel (revision abc, modified)"},
	}
	for _, tt := range tests {
		if got := tt.b.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.b, got, tt.want)
		}
	}
}
