package training

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
)

func TestMetricsFile(t *testing.T) {
	finished := time.Date(2026, 11, 1, 2, 30, 0, 0, time.UTC)
	tests := []struct {
		name      string
		previous  string // "" for no previous file
		m         RunMetrics
		want      []string
		wantNot   []string
		wantError bool
	}{
		{"success sets the time", "", RunMetrics{Duration: 90 * time.Second, Rows: 1000, ValidPRAUC: 0.5, Promoted: true, Finished: finished},
			[]string{"failcast_train_last_success_timestamp_seconds 1.7935002e+09", "failcast_train_rows 1000", "failcast_train_promoted 1",
				"failcast_train_exit_code 0", "failcast_train_duration_seconds 90", "failcast_train_valid_pr_auc 0.5", "# TYPE failcast_train_rows gauge"}, nil, false},
		{"failure keeps the previous success", "failcast_train_last_success_timestamp_seconds 1.5e+09\n",
			RunMetrics{ExitCode: exitcode.Input, ValidPRAUC: math.NaN(), Finished: finished},
			[]string{"failcast_train_last_success_timestamp_seconds 1.5e+09", "failcast_train_exit_code 3", "failcast_train_promoted 0"},
			[]string{"failcast_train_valid_pr_auc"}, false},
		{"failure without history leaves it absent", "", RunMetrics{ExitCode: exitcode.Internal, ValidPRAUC: math.NaN(), Finished: finished},
			[]string{"failcast_train_exit_code 1"}, []string{"last_success"}, false},
		{"corrupt previous file", "this is { not prometheus", RunMetrics{ExitCode: exitcode.Locked, ValidPRAUC: math.NaN(), Finished: finished},
			[]string{"failcast_train_exit_code 4"}, []string{"last_success"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "train.prom")
			if tc.previous != "" {
				os.MkdirAll(filepath.Dir(path), 0o755)
				os.WriteFile(path, []byte(tc.previous), 0o644)
			}
			err := WriteMetricsFile(path, tc.m)
			if (err != nil) != tc.wantError {
				t.Fatalf("err %v, want error %v", err, tc.wantError)
			}
			got, _ := os.ReadFile(path)
			for _, w := range tc.want {
				if !strings.Contains(string(got), w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(string(got), w) {
					t.Errorf("has %q:\n%s", w, got)
				}
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 1 {
				t.Fatalf("%d files in the metrics directory: temporary file left?", len(entries))
			}
		})
	}
}
