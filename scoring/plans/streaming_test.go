package plans_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/scoring/plans"
)

// TestSurveyStreaming: a plan read once hands fn the same sends in the
// same batches as a survey followed by StreamOnce, rejects the same rows
// (sends before as-of, repeated send ids) with the same reports, and
// counts the same; a file whose valid rows are out of order is an input
// error, not a stream out of order.
func TestSurveyStreaming(t *testing.T) {
	early := sends("early", -3600, 1, 3)
	a := sends("a", 0, 1, 40)
	a[17].SendID = a[3].SendID // a repeat: rejected
	a[30].Recipient = "5511999990000"
	tests := []struct {
		name  string
		plan  []pipeline.PlannedSend
		batch int
	}{
		{"one batch", a, 100},
		{"batches of 7", a, 7},
		{"exact batches", a[:35], 5},
		{"sends before as-of", append(slices.Clone(early), a...), 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, "plan.parquet", tt.plan)
			collect := func(rejects *[]string) func(pipeline.RowError) error {
				return func(e pipeline.RowError) error {
					*rejects = append(*rejects, e.Error())
					return nil
				}
			}
			var wantRejects, gotRejects []string
			var want, got [][]pipeline.PlannedSend
			set, err := plans.SurveyWith(context.Background(), []string{path}, pipeline.PlanOptions{}, asOf.UnixMicro(), tt.batch, collect(&wantRejects))
			if err != nil {
				t.Fatal(err)
			}
			if err := set.StreamOnce(context.Background(), func(b []pipeline.PlannedSend) error {
				want = append(want, slices.Clone(b))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			once, err := plans.SurveyStreaming(context.Background(), path, pipeline.PlanOptions{}, asOf.UnixMicro(), tt.batch, collect(&gotRejects),
				func(b []pipeline.PlannedSend) error {
					got = append(got, slices.Clone(b))
					return nil
				})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d batches, want %d", len(got), len(want))
			}
			for i := range want {
				if !slices.Equal(got[i], want[i]) {
					t.Fatalf("batch %d differs:\n got %v\nwant %v", i, got[i], want[i])
				}
			}
			if !slices.Equal(gotRejects, wantRejects) || len(wantRejects) == 0 {
				t.Errorf("rejects %q, want %q", gotRejects, wantRejects)
			}
			gv, gr, gu := once.Counts()
			wv, wr, wu := set.Counts()
			if gv != wv || gr != wr || gu != wu || gu != 1 || !once.Sorted() {
				t.Errorf("counts %d/%d/%d sorted %v, want %d/%d/%d sorted", gv, gr, gu, once.Sorted(), wv, wr, wu)
			}
		})
	}

	t.Run("out of order", func(t *testing.T) {
		s := sends("a", 0, 1, 20)
		s[12].ScheduledAt = s[2].ScheduledAt
		path := write(t, "plan.parquet", s)
		streamed := 0
		_, err := plans.SurveyStreaming(context.Background(), path, pipeline.PlanOptions{}, asOf.UnixMicro(), 5, nil,
			func(b []pipeline.PlannedSend) error {
				for i := range b {
					if i > 0 && b[i].ScheduledAt < b[i-1].ScheduledAt {
						t.Errorf("send %s handed over out of order", b[i].SendID)
					}
				}
				streamed += len(b)
				return nil
			})
		if exitcode.Of(err) != exitcode.Input || streamed > 10 {
			t.Errorf("err %v (exit %d) after %d sends, want an input error before row 13", err, exitcode.Of(err), streamed)
		}
	})

	t.Run("fn error", func(t *testing.T) {
		path := write(t, "plan.parquet", sends("a", 0, 1, 20))
		stop := errors.New("stop")
		calls := 0
		_, err := plans.SurveyStreaming(context.Background(), path, pipeline.PlanOptions{}, asOf.UnixMicro(), 5, nil,
			func([]pipeline.PlannedSend) error {
				calls++
				if calls == 2 {
					return stop
				}
				return nil
			})
		if !errors.Is(err, stop) || calls != 2 {
			t.Errorf("err %v after %d calls, want the callback's after 2", err, calls)
		}
	})
	if _, err := plans.SurveyStreaming(context.Background(), "x.parquet", pipeline.PlanOptions{}, 0, 0, nil, nil); err == nil {
		t.Error("batch size 0 accepted")
	}
}
