package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTokenExpiriesRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.csv")
	want := []TokenExpiry{{"waba-2", 1_790_000_000_123_456}, {"waba-1", TokenNeverExpires}}
	if err := WriteTokenExpiries(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTokenExpiries(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != want[1] || got[1] != want[0] {
		t.Fatalf("read %v, want %v sorted by WABA", got, want)
	}
}

func TestReadTokenExpiries(t *testing.T) {
	tests := []struct {
		name, file, content string
		want                []TokenExpiry
		err                 string // "" = no error
	}{
		{"forms of expiry", "t.csv", "\ufeffnote,waba_id,token_expires_at\nx,w1,2026-11-02T04:00:00Z\ny,w2,\nz,w3,never\nq,w4,1793592000\n",
			[]TokenExpiry{{"w1", 1793592000_000_000}, {"w2", 0}, {"w3", 0}, {"w4", 1793592000_000_000}}, ""},
		{"missing column", "t.csv", "waba_id\nw1\n", nil, "missing column token_expires_at"},
		{"bad time", "t.csv", "waba_id,token_expires_at\nw1,tomorrow\n", nil, "row 2: column token_expires_at"},
		{"epoch", "t.csv", "waba_id,token_expires_at\nw1,0\n", nil, "not an expiry"},
		{"repeated WABA", "t.csv", "waba_id,token_expires_at\nw1,\nw2,\nw1,never\n", nil, `row 4: column waba_id: WABA "w1" already has a token in row 2`},
		{"empty WABA", "t.csv", "waba_id,token_expires_at\n ,never\n", nil, "missing WABA id"},
		{"not CSV", "t.parquet", "", nil, "want a .csv token file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readTokenExpiries(tc.file, strings.NewReader(tc.content))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("row %d: got %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
	if _, err := ReadTokenExpiries(filepath.Join(t.TempDir(), "none.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v, want ErrNotExist", err)
	}
}

func FuzzReadTokenExpiries(f *testing.F) {
	f.Add("waba_id,token_expires_at\nw1,2026-11-02T04:00:00Z\nw2,\n")
	f.Add("waba_id,token_expires_at\nw1,1762056000000\n")
	f.Add("token_expires_at,waba_id\n\"never\",\"w\"\"1\"\n")
	f.Fuzz(func(t *testing.T, content string) {
		got, err := readTokenExpiries("f.csv", strings.NewReader(content))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, tok := range got {
			if tok.WABAID == "" || seen[tok.WABAID] {
				t.Fatalf("accepted an empty or repeated WABA id in %v", got)
			}
			seen[tok.WABAID] = true
		}
	})
}
