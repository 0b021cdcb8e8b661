package plans_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/plans"
)

// Issue 12 item 9: a send id repeated in a plan (or across plans) was
// scored twice: two predictions, counted twice in its campaign, acted on
// twice. A repeat is a rejected row naming the first occurrence, in every
// stream order (one file, sequential, merged, sorted in memory).
func TestFaultDuplicateSendIDs(t *testing.T) {
	a := sends("a", 0, 2, 20)
	b := sends("b", 1, 2, 20)
	late := sends("c", 5000, 1, 5)
	dupA := slices.Clone(a)
	dupA = append(dupA[:10:10], append([]pipeline.PlannedSend{a[3]}, dupA[10:]...)...) // a-003 (row 4) again, row 11
	bWithA := slices.Clone(b)
	bWithA[5].SendID = "a-007" // the id of a send in the other file
	reversed := slices.Clone(dupA)
	slices.Reverse(reversed)
	lateDup := slices.Clone(late)
	lateDup[2].SendID = "a-001"
	tests := []struct {
		name      string
		files     [][]pipeline.PlannedSend
		want      int    // sends streamed
		rejectRow int    // the repeat's row
		firstAt   string // where the first occurrence is named
	}{
		{"within one file", [][]pipeline.PlannedSend{dupA}, 20, 11, "row 4"},                       // Parquet rows count from 1
		{"across merged files", [][]pipeline.PlannedSend{a, bWithA}, 39, 7, "plan0.parquet row 8"}, // CSV rows from 2 (the header is 1)
		{"across sequential files", [][]pipeline.PlannedSend{a, lateDup}, 24, 4, "plan0.parquet row 2"},
		{"unsorted file", [][]pipeline.PlannedSend{reversed}, 20, 18, "row 11"},
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
			if len(rejects) != 1 || rejects[0].Row != tt.rejectRow || rejects[0].Column != pipeline.ColSendID ||
				!strings.Contains(rejects[0].Error(), "repeats the send of ") || !strings.Contains(rejects[0].Error(), tt.firstAt+": a send is scored once") {
				t.Fatalf("rejects %v, want one at row %d naming %s", rejects, tt.rejectRow, tt.firstAt)
			}
			if valid, rejected, _ := set.Counts(); valid != tt.want || rejected != 1 {
				t.Errorf("counts %d valid, %d rejected; want %d, 1", valid, rejected, tt.want)
			}
			ids := map[string]int{}
			n := 0
			err = set.Stream(context.Background(), func(batch []pipeline.PlannedSend) error {
				for _, s := range batch {
					ids[s.SendID]++
					n++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for id, c := range ids {
				if c > 1 {
					t.Errorf("send %s streamed %d times", id, c)
				}
			}
			if n != tt.want {
				t.Errorf("streamed %d sends, want %d", n, tt.want)
			}
		})
	}
}
