package commands

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/internal/cli"
	"github.com/failcast/failcast/scoring"
)

func TestExplainFlags(t *testing.T) {
	var got scoring.Config
	var gotID string
	var gotJSON bool
	cmd := newExplain(func(_ context.Context, _ cli.Env, c scoring.Config, id string, asJSON bool) error {
		got, gotID, gotJSON = c, id, asJSON
		return nil
	})
	cmd.SetArgs([]string{"--send-id", "s-42", "--plan", "p.parquet", "--history", "h", "--as-of", "2026-11-01", "--model", "m", "--json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if gotID != "s-42" || !gotJSON || got.Model != "m" || got.History != "h" || !got.AsOf.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("send %q json %v config %+v", gotID, gotJSON, got)
	}

	cmd = newExplain(func(context.Context, cli.Env, scoring.Config, string, bool) error { return nil })
	cmd.SetArgs([]string{"--plan", "p.parquet", "--history", "h"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "send-id") {
		t.Errorf("without --send-id: %v (exit %d), want a usage error naming it", err, exitcode.Of(err))
	}
}
