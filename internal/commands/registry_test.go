package commands

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/metrics"
	"github.com/failcast/failcast/models/registry"
)

// testRegistry returns a registry with v1 and v2 (the champion) trained on
// this build's features, v3 on other features and v4 with a damaged file.
func testRegistry(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	reg := registry.Open(dir)
	lock, err := reg.Lock(context.Background(), "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	sum := metrics.Compute([]float64{0.9, 0.2, 0.7, 0.1}, []bool{true, false, true, false})
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		st, err := reg.Stage(v)
		if err != nil {
			t.Fatal(err)
		}
		md := artifact.Metadata{ModelVersion: v, CreatedAt: time.Date(2026, 11, 1, 2, 15, 0, 0, time.UTC),
			FeatureSchemaHash: features.SchemaHash(), Rows: artifact.Rows{Train: 1000, Valid: 4}, Metrics: artifact.Metrics{Binary: &sum},
			Champion: &artifact.Champion{Promoted: true}}
		if v == "v3" {
			md.FeatureSchemaHash = "0123456789abcdef-other"
		}
		os.Remove(st.Dir())
		err = artifact.Write(st.Dir(), md, map[string]func(io.Writer) error{
			"model.json": func(w io.Writer) error { _, err := io.WriteString(w, `{"model":"`+v+`"}`); return err },
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(reg.VersionDir("v4"), "model.json"), []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := reg.Promote("v2"); err != nil {
		t.Fatal(err)
	}
	return dir
}

func champion(t *testing.T, dir string) string {
	t.Helper()
	v, _, err := registry.Open(dir).Current()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRegistryListAndShow(t *testing.T) {
	dir := testRegistry(t)
	code, stdout, stderr := execute(t, context.Background(), NewRegistry(), "list", "--registry", dir)
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[2], "*  v2") || !strings.Contains(lines[2], "1.0000") || !strings.Contains(lines[2], " ok") {
		t.Errorf("list table (champion v2 marked, its PR-AUC, status ok):\n%s", stdout)
	}
	if !strings.Contains(lines[3], "feature schema") || !strings.Contains(lines[4], "checksum") {
		t.Errorf("list does not flag the other-schema and the damaged versions:\n%s", stdout)
	}

	code, stdout, _ = execute(t, context.Background(), NewRegistry(), "list", "--registry", dir, "--json")
	var infos []VersionInfo
	if err := json.Unmarshal([]byte(stdout), &infos); err != nil || code != 0 || len(infos) != 4 {
		t.Fatalf("list --json: exit %d, %d versions, %v", code, len(infos), err)
	}
	if !infos[1].Champion || infos[0].Champion || infos[1].Metadata == nil || infos[1].Metadata.Metrics.Binary.PRAUC <= 0 {
		t.Errorf("list --json: %+v", infos[:2])
	}

	tests := []struct {
		args []string
		code int
		want string // in stdout, or stderr on failure
	}{
		{[]string{"show", "v1", "--registry", dir}, 0, `"model_version": "v1"`},
		{[]string{"show", "v9", "--registry", dir}, exitcode.Input, "no version v9"},
		{[]string{"show", "--registry", dir}, exitcode.Usage, "takes 1 argument(s) (VERSION), got 0"},
		{[]string{"list", "--registry", filepath.Join(dir, "none")}, 0, "holds no versions"},
		{[]string{"lists"}, exitcode.Usage, `unknown command "lists" for "registry"`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args[:1], " "), func(t *testing.T) {
			code, stdout, stderr := execute(t, context.Background(), NewRegistry(), tc.args...)
			out := stdout
			if code != 0 {
				out = stderr
			}
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("%v: exit %d, want %d with %q:\n%s%s", tc.args, code, tc.code, tc.want, stdout, stderr)
			}
		})
	}
}

func TestRegistryRollback(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		locked   bool
		code     int
		champion string
		msg      string
	}{
		{name: "older version", args: []string{"v1"}, champion: "v1", msg: "champion: v2 -> v1"},
		{name: "to the champion", args: []string{"v2"}, champion: "v2", msg: "champion: v2 -> v2"},
		{name: "other features", args: []string{"v3"}, code: exitcode.Input, champion: "v2", msg: "feature schema"},
		{name: "other features, forced", args: []string{"v3", "--force"}, champion: "v3", msg: "champion: v2 -> v3"},
		{name: "damaged", args: []string{"v4"}, code: exitcode.Input, champion: "v2", msg: "checksum"},
		{name: "unknown", args: []string{"v9"}, code: exitcode.Input, champion: "v2", msg: "no version v9"},
		{name: "locked", args: []string{"v1"}, locked: true, code: exitcode.Locked, champion: "v2", msg: "locked"},
		{name: "bad wait", args: []string{"v1", "--wait", "soon"}, code: exitcode.Usage, champion: "v2", msg: "want a duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := testRegistry(t)
			if tc.locked {
				l, err := registry.Open(dir).Lock(context.Background(), "failcast train", 0)
				if err != nil {
					t.Fatal(err)
				}
				defer l.Unlock()
			}
			args := append([]string{"rollback", "--registry", dir}, tc.args...)
			code, stdout, stderr := execute(t, context.Background(), NewRegistry(), args...)
			out := stdout
			if code != 0 {
				out = stderr
			}
			if code != tc.code || !strings.Contains(out, tc.msg) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, tc.code, tc.msg, stdout, stderr)
			}
			if got := champion(t, dir); got != tc.champion {
				t.Errorf("champion %s, want %s", got, tc.champion)
			}
		})
	}
}
