package features

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadParquetRoundTrip: a table written by WriteParquet reads back
// equal, column for column; a file that is not a feature table of this
// build is refused with its name.
func TestReadParquetRoundTrip(t *testing.T) {
	tab := buildAll(t, generateAll(smallGen(3)), DefaultConfig())
	dir := t.TempDir()
	path := filepath.Join(dir, "table.parquet")
	if err := WriteParquet(path, tab); err != nil {
		t.Fatal(err)
	}
	got, err := ReadParquet(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rows != tab.Rows || !slices.Equal(got.X, tab.X) || !slices.Equal(got.Time, tab.Time) || !slices.Equal(got.ID, tab.ID) ||
		!slices.Equal(got.CampaignID, tab.CampaignID) || !slices.Equal(got.PhoneNumberID, tab.PhoneNumberID) ||
		!slices.Equal(got.Recipient, tab.Recipient) || !slices.Equal(got.Failed, tab.Failed) || !slices.Equal(got.Family, tab.Family) ||
		!slices.Equal(got.Code, tab.Code) || !slices.Equal(got.Exploration, tab.Exploration) || !slices.Equal(got.Stale, tab.Stale) {
		t.Fatalf("table read back differs from the one written (%d rows, wrote %d)", got.Rows, tab.Rows)
	}

	other := filepath.Join(dir, "other.parquet")
	short := &Table{Names: tab.Names[:3], Rows: 0}
	if err := WriteParquet(other, short); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadParquet(other); err == nil || !strings.Contains(err.Error(), other) {
		t.Fatalf("a table with 3 features: err %v, want a refusal naming the file", err)
	}
	if _, err := ReadParquet(filepath.Join(dir, "missing.parquet")); !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("missing file: err %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}
