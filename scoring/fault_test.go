package scoring

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/predictions"
)

// Issue 12 item 9, end to end: a plan written with the sender's own
// column names, zone-less local times and a repeated send id is scored as
// written with Config.PlanMapping (--map) and Config.Timezone
// (--timezone): every send once, the repeat in rejected_rows.csv, the
// unused column in the warnings. Before, the run failed on the first
// missing column, and a repeated send id got two predictions.
func TestFaultPlanAsWrittenScored(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.csv")
	saoPaulo, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		t.Skip(err)
	}
	var b strings.Builder
	b.WriteString("id,phone,send_time,cat,message_type,tpl,notes\n")
	sends := planSends("mkt-next", pipeline.CategoryMarketing, worldAsOf.Add(5*time.Hour), time.Second, 50, 10)
	for _, s := range sends {
		local := time.UnixMicro(s.ScheduledAt).In(saoPaulo).Format("2006-01-02 15:04:05")
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,x\n", s.SendID, s.Recipient, local, s.Category, s.MessageType, s.Template)
	}
	dup := sends[7]
	fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,x\n", dup.SendID, dup.Recipient,
		time.UnixMicro(dup.ScheduledAt).In(saoPaulo).Format("2006-01-02 15:04:05"), dup.Category, dup.MessageType, dup.Template)
	os.WriteFile(plan, []byte(b.String()), 0o644)

	cfg := scoreConfig(w, filepath.Join(dir, "out"), plan)
	cfg.PlanMapping = pipeline.PlanMapping{pipeline.ColSendID: "id", pipeline.ColScheduledAt: "send_time",
		pipeline.ColCategory: "cat", pipeline.ColTemplate: "tpl"}
	cfg.Timezone = "America/Sao_Paulo"
	res, _, log := mustRun(t, cfg)
	if res.Sends != len(sends) || res.Rejected != 1 {
		t.Errorf("scored %d sends, rejected %d; want %d and 1 (the repeated send id)\n%s", res.Sends, res.Rejected, len(sends), log)
	}
	_, preds := readCSV(t, filepath.Join(cfg.Out, PredictionsFile))
	seen := map[string]bool{}
	for _, p := range preds {
		if seen[p["send_id"]] {
			t.Errorf("send %s predicted twice", p["send_id"])
		}
		seen[p["send_id"]] = true
	}
	wantAt := time.UnixMicro(sends[0].ScheduledAt).UTC().Format(predictions.TimeLayout)
	if i := slices.IndexFunc(preds, func(p map[string]string) bool { return p["send_id"] == sends[0].SendID }); i < 0 || preds[i]["scheduled_at"] != wantAt {
		t.Errorf("first send's time: %v, want %s", preds[max(i, 0)]["scheduled_at"], wantAt)
	}
	_, camps := readCSV(t, filepath.Join(cfg.Out, CampaignsFile))
	if len(camps) != 1 || camps[0]["template_name"] != "promo" {
		t.Errorf("campaigns %v, want one with template promo (from column tpl)", camps)
	}
	_, rejected := readCSV(t, filepath.Join(cfg.Out, RejectedFile))
	if len(rejected) != 1 || rejected[0]["column"] != pipeline.ColSendID || !strings.Contains(rejected[0]["reason"], "repeats the send of row 9") {
		t.Errorf("rejected rows %v", rejected)
	}
	want := "column `notes` is not used (no plan column is close"
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], want) || !strings.Contains(log, "notes") {
		t.Errorf("warnings %q, want one containing %q", res.Warnings, want)
	}
}
