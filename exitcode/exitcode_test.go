package exitcode_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/failcast/failcast/exitcode"
)

func TestOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitcode.OK},
		{"plain", errors.New("boom"), exitcode.Internal},
		{"usage", exitcode.Usagef("--x is %d", 3), exitcode.Usage},
		{"input wrapped further", fmt.Errorf("score: %w", exitcode.Inputf("plan.csv row 3: bad time")), exitcode.Input},
		{"locked", exitcode.Wrap(exitcode.Locked, errors.New("held by pid 1")), exitcode.Locked},
		{"cancelled", context.Canceled, exitcode.Internal},
		{"outermost wins", exitcode.Wrap(exitcode.Internal, exitcode.Inputf("x")), exitcode.Internal},
		{"wrap nil", exitcode.Wrap(exitcode.Input, nil), exitcode.OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitcode.Of(tc.err); got != tc.want {
				t.Fatalf("Of(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

func ExampleOf() {
	err := fmt.Errorf("export: %w", exitcode.Inputf("send-log.csv line 4: timestamp has no zone"))
	fmt.Println(exitcode.Of(err), exitcode.Name(exitcode.Of(err)))
	// Output: 3 input
}
