package training

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/registry"
	"github.com/failcast/failcast/pipeline"
)

// TestRunTable: training on the feature table of the same history and
// windows gives the model Run gives (same model files); a table with a
// row at or after as-of is refused as input.
func TestRunTable(t *testing.T) {
	if testing.Short() {
		t.Skip("trains twice")
	}
	hist := history(t)
	root := t.TempDir()
	cfg := noBaselines(hist, filepath.Join(root, "run"))
	if code, log := runTrain(t, cfg); code != exitcode.OK {
		t.Fatalf("Run: exit %d\n%s", code, log)
	}
	ds, err := pipeline.OpenDataset(hist)
	if err != nil {
		t.Fatal(err)
	}
	tabs, err := BuildTables(context.Background(), ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "table.parquet")
	if err := features.WriteParquet(path, tabs.Table); err != nil {
		t.Fatal(err)
	}
	tab, err := features.ReadParquet(path)
	if err != nil {
		t.Fatal(err)
	}
	tcfg := cfg
	tcfg.Registry, tcfg.History = filepath.Join(root, "table"), path
	if _, err := RunTable(context.Background(), tcfg, tab); err != nil {
		t.Fatal(err)
	}
	a := readMetadata(t, filepath.Join(cfg.Registry, registry.VersionsDir, current(t, cfg.Registry)))
	b := readMetadata(t, filepath.Join(tcfg.Registry, registry.VersionsDir, current(t, tcfg.Registry)))
	for _, f := range []string{bundle.FailFile, bundle.FamilyFile} {
		if a.Files[f] == "" || a.Files[f] != b.Files[f] {
			t.Errorf("%s: Run %s, RunTable %s", f, a.Files[f], b.Files[f])
		}
	}

	late := *tab
	late.Time = append([]int64(nil), tab.Time...)
	late.Time[late.Rows-1] = cfg.Windows().AsOf.UnixMicro()
	tcfg.Registry = filepath.Join(root, "late")
	if _, err := RunTable(context.Background(), tcfg, &late); exitcode.Of(err) != exitcode.Input {
		t.Fatalf("a table with a row at as-of: err %v, want an input error", err)
	}
}
