package plans_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/plans"
)

var asOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// sends returns n valid planned sends of campaign c, the i-th at
// start + i*step seconds.
func sends(c string, start, step, n int) []pipeline.PlannedSend {
	out := make([]pipeline.PlannedSend, n)
	for i := range out {
		out[i] = pipeline.PlannedSend{
			SendID: fmt.Sprintf("%s-%03d", c, i), CampaignID: c, WABAID: "waba-1", PhoneNumberID: "pn-1",
			Recipient: fmt.Sprintf("h:%016x", i), Country: "BR", Template: "promo", Language: "pt_BR",
			Category: pipeline.CategoryUtility, MessageType: "template", MediaBytes: pipeline.NoMediaBytes,
			ScheduledAt: asOf.Add(time.Duration(start+i*step) * time.Second).UnixMicro(), CampaignRateMPS: 1,
		}
	}
	return out
}

func write(t *testing.T, name string, s []pipeline.PlannedSend) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := pipeline.WritePlan(path, s); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeAll writes plan files plan0.parquet, plan1.csv, plan2.parquet...
func writeAll(t *testing.T, files [][]pipeline.PlannedSend) []string {
	var paths []string
	for i, f := range files {
		ext := ".parquet"
		if i%2 == 1 {
			ext = ".csv"
		}
		paths = append(paths, write(t, fmt.Sprint("plan", i, ext), f))
	}
	return paths
}

// TestStreamOrder: whatever the files and their order, Stream hands every
// valid send over once, in scheduled_at order, in batches of at most the
// batch size; sends before as-of are rejected by Survey and never streamed.
func TestStreamOrder(t *testing.T) {
	early := sends("early", -3600, 1, 3) // before as-of
	a := sends("a", 0, 2, 25)            // even seconds
	b := sends("b", 1, 2, 25)            // odd seconds: overlaps a
	c := sends("c", 1000, 1, 10)         // after a and b
	shuffled := slices.Clone(a)
	slices.Reverse(shuffled)
	tests := []struct {
		name     string
		files    [][]pipeline.PlannedSend
		sorted   bool
		want     int
		rejected int
	}{
		{"one file", [][]pipeline.PlannedSend{a}, true, 25, 0},
		{"sequential files", [][]pipeline.PlannedSend{a, c}, true, 35, 0},
		{"overlapping files merged", [][]pipeline.PlannedSend{a, b, c}, true, 60, 0},
		{"unsorted file sorted in memory", [][]pipeline.PlannedSend{shuffled, b}, false, 50, 0},
		{"sends before as-of rejected", [][]pipeline.PlannedSend{append(slices.Clone(early), a...)}, true, 25, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			paths := writeAll(t, tt.files)
			var rejects []pipeline.RowError
			set, err := plans.Survey(context.Background(), paths, asOf.UnixMicro(), 7, func(e pipeline.RowError) error {
				rejects = append(rejects, e)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			valid, rejected, unhashed := set.Counts()
			if valid != tt.want || rejected != tt.rejected || len(rejects) != tt.rejected || unhashed != 0 || set.Sorted() != tt.sorted {
				t.Fatalf("counts %d valid, %d rejected (%d reported), %d unhashed, sorted %v", valid, rejected, len(rejects), unhashed, set.Sorted())
			}
			for _, r := range rejects {
				if r.Column != pipeline.ColScheduledAt || !strings.Contains(r.Err.Error(), "too late to score") {
					t.Errorf("reject %v", r)
				}
			}
			var got []pipeline.PlannedSend
			batches := 0
			err = set.Stream(context.Background(), func(batch []pipeline.PlannedSend) error {
				if len(batch) == 0 || len(batch) > set.BatchSize() {
					t.Errorf("batch of %d sends", len(batch))
				}
				batches++
				got = append(got, batch...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want || batches < (tt.want+6)/7 {
				t.Fatalf("streamed %d sends in %d batches, want %d", len(got), batches, tt.want)
			}
			seen := map[string]bool{}
			for i, s := range got {
				if i > 0 && s.ScheduledAt < got[i-1].ScheduledAt {
					t.Fatalf("send %s out of order", s.SendID)
				}
				if seen[s.SendID] || s.ScheduledAt < asOf.UnixMicro() {
					t.Fatalf("send %s streamed twice or before as-of", s.SendID)
				}
				seen[s.SendID] = true
			}
		})
	}
}

// TestSurveyErrors: an unreadable plan is an input error naming it; an
// error of the reject callback stops the survey and comes back as is.
func TestSurveyErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.csv")
	if _, err := plans.Survey(context.Background(), []string{missing}, asOf.UnixMicro(), 10, nil); exitcode.Of(err) != exitcode.Input || !strings.Contains(fmt.Sprint(err), "missing.csv") {
		t.Errorf("missing plan: %v (exit %d)", err, exitcode.Of(err))
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := pipeline.WritePlan(bad, sends("a", 0, 1, 3)); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(bad, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("x,a,waba-1,pn-1,h:01,BR,promo,pt_BR,utility,carrier-pigeon,,2026-11-01T07:00:00Z,1\n")
	f.Close()
	stop := errors.New("stop")
	_, err = plans.Survey(context.Background(), []string{bad}, asOf.UnixMicro(), 10, func(e pipeline.RowError) error {
		if e.Row != 5 || e.Column != "message_type" {
			t.Errorf("bad row reported as %v", e)
		}
		return stop
	})
	if !errors.Is(err, stop) {
		t.Errorf("survey error %v, want the callback's", err)
	}
	if _, err := plans.Survey(context.Background(), nil, 0, 0, nil); err == nil {
		t.Error("batch size 0 accepted")
	}
}

// TestSurveyStopsAtFirstFailingReject: the survey reads ahead of its
// bookkeeping, yet a reject callback that fails is called once, with the
// first bad row, however many bad rows follow, and the rows between are
// handled in order before it.
func TestSurveyStopsAtFirstFailingReject(t *testing.T) {
	s := sends("a", 0, 1, 30_000)
	for i := 10_000; i < len(s); i += 2 {
		s[i].SendID = s[i-2].SendID // repeats (Parquet row i+1): rejected by the survey itself
	}
	path := write(t, "plan.parquet", s)
	stop := errors.New("stop")
	var rows []int
	_, err := plans.Survey(context.Background(), []string{path}, asOf.UnixMicro(), 100, func(e pipeline.RowError) error {
		rows = append(rows, e.Row)
		if len(rows) == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("survey error %v, want the callback's", err)
	}
	if want := []int{10_001, 10_003, 10_005}; !slices.Equal(rows, want) {
		t.Errorf("reject called for rows %v, want %v", rows, want)
	}
}
