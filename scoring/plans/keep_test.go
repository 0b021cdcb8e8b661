package plans

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/failcast/failcast/pipeline"
)

// TestKeptRowsStreamAsReadAgain: whether Survey keeps every valid row,
// outgrows its budget part way through (in the first file or a later
// one) or keeps none, Stream hands over the same rows in the same
// batches; a later Stream, and one after StreamOnce, read the same
// again.
func TestKeptRowsStreamAsReadAgain(t *testing.T) {
	asOf := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	mk := func(c string, start, step, n int) []pipeline.PlannedSend {
		out := make([]pipeline.PlannedSend, n)
		for i := range out {
			out[i] = pipeline.PlannedSend{
				SendID: fmt.Sprintf("%s-%03d", c, i), CampaignID: c, WABAID: "waba-1", PhoneNumberID: "pn-1",
				Recipient: fmt.Sprintf("h:%016x", i), Country: "BR", Template: "promo", Language: "pt_BR",
				Category: pipeline.CategoryUtility, MessageType: "template", MediaBytes: pipeline.NoMediaBytes,
				ScheduledAt: asOf.Add(time.Duration(start+i*step) * time.Second).UnixMicro(), CampaignRateMPS: 1,
			}
			if i%3 == 0 {
				// A free-form send (the first row of a file among them):
				// its empty template must not read back as another
				// field's string.
				out[i].Template, out[i].Language, out[i].MessageType = "", "", "text"
			}
		}
		return out
	}
	a := append(mk("early", -60, 1, 3), mk("a", 0, 2, 40)...) // 3 before as-of
	a[20].SendID = a[10].SendID                               // a repeated send id
	b := mk("b", 1, 2, 30)                                    // overlaps a
	c := mk("c", 1000, 1, 25)                                 // after a and b
	shuffled := slices.Clone(b)
	slices.Reverse(shuffled)
	dir := t.TempDir()
	write := func(name string, s []pipeline.PlannedSend) string {
		p := filepath.Join(dir, name)
		if err := pipeline.WritePlan(p, s); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pa, pb, pc, ps := write("a.parquet", a), write("b.csv", b), write("c.parquet", c), write("s.parquet", shuffled)
	row := keptRowBytes(&a[5])
	plansOf := map[string][]string{
		"one file": {pa}, "sequential": {pa, pc}, "merged": {pa, pb, pc}, "sorted in memory": {ps, pc},
	}
	for name, paths := range plansOf {
		type result struct {
			batches [][]string
			rej     int
		}
		run := func(keepMax int, once bool) result {
			var r result
			set, err := surveyKeeping(context.Background(), paths, pipeline.PlanOptions{}, asOf.UnixMicro(), 7, keepMax,
				func(pipeline.RowError) error { r.rej++; return nil })
			if err != nil {
				t.Fatal(err)
			}
			stream := set.Stream
			if once {
				stream = set.StreamOnce
			}
			collect := func(stream func(context.Context, func([]pipeline.PlannedSend) error) error) [][]string {
				var out [][]string
				err := stream(context.Background(), func(batch []pipeline.PlannedSend) error {
					var ids []string
					for _, s := range batch {
						ids = append(ids, fmt.Sprintf("%+v", s))
					}
					out = append(out, ids)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			r.batches = collect(stream)
			if again := collect(set.Stream); !slices.EqualFunc(again, r.batches, slices.Equal) {
				t.Errorf("%s, keep %d, once %v: a second stream differs", name, keepMax, once)
			}
			return r
		}
		want := run(0, false)
		if len(want.batches) == 0 {
			t.Fatalf("%s: nothing streamed", name)
		}
		for _, keep := range []int{row * 10, row * 45, row * 60, KeepBytes} {
			for _, once := range []bool{false, true} {
				got := run(keep, once)
				if got.rej != want.rej || !slices.EqualFunc(got.batches, want.batches, slices.Equal) {
					t.Errorf("%s, keep %d rows, once %v: %d rejected (want %d); %s", name, keep/row, once, got.rej, want.rej, firstDiff(got.batches, want.batches))
				}
			}
		}
	}
}

// TestKeepBudget: Survey keeps the rows of a plan within its budget and
// none of a plan beyond it.
func TestKeepBudget(t *testing.T) {
	asOf := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	s := make([]pipeline.PlannedSend, 50)
	for i := range s {
		s[i] = pipeline.PlannedSend{SendID: fmt.Sprint("s", i), CampaignID: "c", WABAID: "w", PhoneNumberID: "p", Recipient: fmt.Sprintf("h:%016x", i),
			Country: "BR", Template: "t", Language: "en", Category: pipeline.CategoryUtility, MessageType: "template",
			MediaBytes: pipeline.NoMediaBytes, ScheduledAt: asOf + int64(i)}
	}
	path := filepath.Join(t.TempDir(), "p.parquet")
	if err := pipeline.WritePlan(path, s); err != nil {
		t.Fatal(err)
	}
	row := keptRowBytes(&s[10])
	for _, tt := range []struct {
		keep int
		kept bool
	}{{row * 60, true}, {row * 40, false}, {0, false}} {
		set, err := surveyKeeping(context.Background(), []string{path}, pipeline.PlanOptions{}, asOf, 8, tt.keep, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := set.files[0].kept.n
		if set.kept != tt.kept || (tt.kept && n != 50) || (!tt.kept && n != 0) {
			t.Errorf("budget of %d rows: kept %v, %d rows", tt.keep/row, set.kept, n)
		}
	}
}

// firstDiff names the first batch and row where got and want differ.
func firstDiff(got, want [][]string) string {
	for b := range min(len(got), len(want)) {
		for i := range min(len(got[b]), len(want[b])) {
			if got[b][i] != want[b][i] {
				return fmt.Sprintf("batch %d row %d is %s, want %s", b, i, got[b][i], want[b][i])
			}
		}
		if len(got[b]) != len(want[b]) {
			return fmt.Sprintf("batch %d has %d rows, want %d", b, len(got[b]), len(want[b]))
		}
	}
	return fmt.Sprintf("%d batches, want %d", len(got), len(want))
}
