package plans

import (
	"slices"
	"testing"
)

func TestRowNumbers(t *testing.T) {
	tests := []struct {
		name   string
		first  int
		events []int // >0: bad row reported with that number; 0: a valid row
		want   []int // numbers of the valid rows
	}{
		{"all valid", 2, []int{0, 0, 0}, []int{2, 3, 4}},
		{"bad in between", 2, []int{0, 3, 0, 0}, []int{2, 4, 5}},
		{"bad first", 1, []int{1, 2, 0, 0}, []int{3, 4}},
		{"bad reported before a batch of valid rows", 2, []int{5, 7, 0, 0, 0, 0, 0}, []int{2, 3, 4, 6, 8}},
		{"bad at the end", 1, []int{0, 0, 3}, []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rowNumbers{next: tt.first}
			var got []int
			for _, e := range tt.events {
				if e > 0 {
					r.badRow(e)
				} else {
					got = append(got, r.validRow())
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("valid rows %v, want %v", got, tt.want)
			}
		})
	}
}
