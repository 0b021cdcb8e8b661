package scoring

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestOutputDirCommit(t *testing.T) {
	dir := t.TempDir()
	o, err := NewOutputDir(filepath.Join(dir, "score"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"predictions.csv", "campaigns.csv"} {
		w, err := o.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, name+" v1\n")
		if _, err := os.Stat(o.Path(name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s visible before commit (stat: %v)", name, err)
		}
	}
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, filepath.Join(dir, "score")); !slices.Equal(got, []string{"campaigns.csv", "predictions.csv"}) {
		t.Errorf("after commit: %v", got)
	}
	if b, _ := os.ReadFile(o.Path("predictions.csv")); string(b) != "predictions.csv v1\n" {
		t.Errorf("predictions.csv = %q", b)
	}
	if _, err := o.Create("late.csv"); err == nil {
		t.Error("Create after Commit succeeded")
	}
}

func TestOutputDirAbortKeepsEarlierRun(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "predictions.csv"), []byte("earlier run\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := NewOutputDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := o.Create("predictions.csv")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "half a run")
	if _, err := o.Create("campaigns.csv"); err != nil {
		t.Fatal(err)
	}
	o.Abort() // the run failed
	if got := listDir(t, dir); !slices.Equal(got, []string{"predictions.csv"}) {
		t.Errorf("after abort: %v, want only the earlier predictions.csv", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "predictions.csv")); string(b) != "earlier run\n" {
		t.Errorf("earlier predictions.csv changed to %q", b)
	}
	if err := o.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
}

func TestOutputDirRejectsPaths(t *testing.T) {
	o, err := NewOutputDir(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Abort()
	for _, name := range []string{"../x.csv", "sub/x.csv", ".."} {
		if _, err := o.Create(name); err == nil {
			t.Errorf("Create(%q) succeeded", name)
		}
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}
