package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 12 item 12: a plan given as a FIFO hung forever (the open blocks
// until a writer comes, and a plan is read twice). Files that are not
// regular (FIFO, directory, device) are refused at once, naming the file
// and what it is.
func TestFaultPlanNotRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "plan.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	subdir := filepath.Join(dir, "plans.csv")
	os.Mkdir(subdir, 0o755)
	for _, tt := range []struct {
		name, path string
		want       error
	}{
		{"fifo", fifo, ErrNotRegularFile},
		{"directory", subdir, ErrNotRegularFile},
		{"missing", filepath.Join(dir, "none.csv"), os.ErrNotExist},
	} {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				done <- ReadPlan(context.Background(), tt.path, nil, func([]PlannedSend) error { return nil })
			}()
			select {
			case err := <-done:
				if !errors.Is(err, tt.want) {
					t.Fatalf("error %v, want %v", err, tt.want)
				}
				t.Log(err)
			case <-time.After(5 * time.Second):
				// Unblock the reader so the test ends.
				if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
					w.Close()
				}
				<-done
				t.Fatal("ReadPlan blocked on a non-regular file")
			}
		})
	}
}

// Issue 12 item 9: a plan is read as the sender wrote it. Before, a plan
// had to use the contract's column names (no --map), a missing column was
// named one per run, unknown columns were ignored without a word, and
// "2026-11-01 09:00:00" (a space for the T, no zone) was rejected with no
// way to read it.
func TestFaultPlanAsWritten(t *testing.T) {
	dir := t.TempDir()
	const header = "id,phone,when,cat,type,tpl\n"
	plan := filepath.Join(dir, "plan.csv")
	os.WriteFile(plan, []byte(header+
		"s1,h:1,2026-11-01 09:00:00Z,marketing,image,promo\n"+ // space for the T, with a zone
		"s2,h:2,2026-11-01 09:00:00,marketing,image,promo\n"+ // no zone: --timezone
		"s3,h:3,1793523600,utility,text,\n"), 0o644)
	saoPaulo, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		t.Skip(err)
	}
	mapping, err := ParsePlanMapping("send_id=id, recipient=phone, scheduled_at=when, category=cat, type=type")
	if err != nil {
		t.Fatal(err)
	}
	read := func(opts PlanOptions) (rows []PlannedSend, bad []RowError, warnings []string, err error) {
		opts.OnWarning = func(w string) { warnings = append(warnings, w) }
		err = ReadPlanWith(context.Background(), plan, opts,
			func(e RowError) error { bad = append(bad, e); return nil },
			func(b []PlannedSend) error { rows = append(rows, b...); return nil })
		return
	}
	nineUTC := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).UnixMicro()

	t.Run("missing columns named at once", func(t *testing.T) {
		_, _, warnings, err := read(PlanOptions{})
		var ce *PlanColumnsError
		// phone and type are aliases of recipient and message_type.
		if !errors.As(err, &ce) || len(ce.Missing) != 3 {
			t.Fatalf("err %v, want the 3 missing required columns in one error", err)
		}
		for _, want := range []string{`send_id (want a column "send_id" or --map send_id=COLUMN)`,
			`category (want a column "category" or --map category=COLUMN; column "cat" looks like it)`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		if len(warnings) != 4 {
			t.Errorf("warnings %q, want one per unused column", warnings)
		}
	})
	t.Run("mapped, zone-less times rejected naming --timezone", func(t *testing.T) {
		rows, bad, warnings, err := read(PlanOptions{Mapping: mapping})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].ScheduledAt != nineUTC || rows[0].Template != "" || rows[0].Recipient != "h:1" {
			t.Errorf("rows %+v", rows)
		}
		if len(bad) != 1 || bad[0].Row != 3 || bad[0].Column != ColScheduledAt || !strings.Contains(bad[0].Error(), "--timezone") {
			t.Errorf("bad rows %v, want row 3 naming --timezone", bad)
		}
		want := "plan.csv: column `tpl` is not used; did you mean --map template_name=tpl?"
		if len(warnings) != 1 || !strings.HasSuffix(warnings[0], want) {
			t.Errorf("warnings %q, want %q", warnings, want)
		}
	})
	t.Run("--timezone", func(t *testing.T) {
		m := PlanMapping{}
		for k, v := range mapping {
			m[k] = v
		}
		m[ColTemplate] = "tpl"
		rows, bad, warnings, err := read(PlanOptions{Mapping: m, Location: saoPaulo})
		if err != nil || len(bad) != 0 || len(warnings) != 0 {
			t.Fatalf("err %v, bad %v, warnings %q", err, bad, warnings)
		}
		if len(rows) != 3 || rows[1].ScheduledAt != nineUTC+3*3600e6 || rows[0].Template != "promo" {
			t.Errorf("rows %+v", rows)
		}
	})
	t.Run("a mapped column the file lacks", func(t *testing.T) {
		m := PlanMapping{ColSendID: "id", ColRecipient: "phone", ColScheduledAt: "when", ColCategory: "cat", ColMessageType: "type", ColCountry: "land"}
		_, _, _, err := read(PlanOptions{Mapping: m})
		if err == nil || !strings.Contains(err.Error(), `no column "land" for country (from --map)`) {
			t.Fatalf("err %v", err)
		}
	})
}
