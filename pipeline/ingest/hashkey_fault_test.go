package ingest

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/pipeline"
)

// Issue 12 item 11 (export side): a history did not say which key its
// recipients were hashed with, so nothing could notice a mismatch. Every
// file export writes records the key's fingerprint (never the key), or
// "unhashed" with --no-hash; an export into a history of another key is
// refused (exit 3) instead of mixing recipients that cannot be joined.
func TestFaultExportRecordsHashKeyFingerprint(t *testing.T) {
	dir := t.TempDir()
	sl, wh := writeBatch(t, dir, "a", 0, 20)
	sl2, wh2 := writeBatch(t, dir, "b", 1, 20)
	for _, tt := range []struct {
		name        string
		partitioned bool
		key         string
		noHash      bool
		want        string
	}{
		{"keyed, single file", false, "k", false, pipeline.HashKeyFingerprint([]byte("k"))},
		{"keyed, partitioned", true, "k", false, pipeline.HashKeyFingerprint([]byte("k"))},
		{"--no-hash", true, "", true, pipeline.UnhashedFingerprint},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "history")
			if !tt.partitioned {
				out += ".parquet"
			}
			cfg := testConfig(out, tt.partitioned, []string{sl}, []string{wh})
			cfg.HashKey, cfg.NoHash = []byte(tt.key), tt.noHash
			if _, err := Export(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
			ds, err := pipeline.OpenDataset(out)
			if err != nil {
				t.Fatal(err)
			}
			fp, file, err := ds.HashKeyFingerprint()
			if err != nil || fp != tt.want || file == "" {
				t.Fatalf("fingerprint %q in %q (%v), want %q", fp, file, err, tt.want)
			}
			if tt.key != "" && strings.Contains(fp, tt.key) {
				t.Fatal("the fingerprint shows the key")
			}
			// The next batch with another key (or the other mode) is refused.
			next := testConfig(out, tt.partitioned, []string{sl2}, []string{wh2})
			next.HashKey, next.NoHash = []byte("other"), false
			if tt.noHash {
				next.HashKey = []byte("k")
			}
			_, err = Export(context.Background(), next)
			if exitcode.Of(err) != exitcode.Input || !strings.Contains(err.Error(), "was exported with hash key fingerprint "+tt.want) {
				t.Fatalf("export with another key: %v, want an input error naming %s", err, tt.want)
			}
			if got := len(readAll(t, out)); got != 40 { // 20 sends and their statuses
				t.Fatalf("the refused export changed the history: %d events, want 40", got)
			}
			// score and train's check: the same key passes, another fails.
			if err := pipeline.CheckHashKey(ds, []byte(tt.key), "$K"); tt.key != "" && err != nil {
				t.Errorf("CheckHashKey(the key) = %v", err)
			}
			var me *pipeline.HashKeyMismatchError
			if err := pipeline.CheckHashKey(ds, []byte("other"), "$K"); !errors.As(err, &me) || exitcode.Of(err) != exitcode.Input || !strings.Contains(err.Error(), "$K") {
				t.Errorf("CheckHashKey(another key) = %v, want a HashKeyMismatchError naming $K", err)
			}
		})
	}
}
