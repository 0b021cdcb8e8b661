package colmatch

import (
	"fmt"
	"slices"
	"testing"
)

func TestClosest(t *testing.T) {
	fields := [][]string{{"template_name", "template"}, {"category"}, {"recipient", "to", "phone"}, {"scheduled_at"}}
	for _, tt := range []struct {
		col  string
		want int
	}{
		{"tpl", 0}, {"Template-Name", 0}, {"cat", 1}, {"categry", 1}, {"recipients", 2},
		{"schedule", 3}, {"sched_at", 3}, {"zzz", -1}, {"", -1}, {"notes", -1},
	} {
		if got := Closest(tt.col, fields); got != tt.want {
			t.Errorf("Closest(%q) = %d, want %d", tt.col, got, tt.want)
		}
	}
}

func TestParsePairs(t *testing.T) {
	for _, tt := range []struct {
		spec string
		want []Pair
		ok   bool
	}{
		{"", nil, true},
		{" recipient = phone , template=tpl", []Pair{{"recipient", "phone"}, {"template", "tpl"}}, true},
		{"recipient", nil, false},
		{"recipient=", nil, false},
		{"=phone", nil, false},
	} {
		got, err := ParsePairs(tt.spec, "column")
		if (err == nil) != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("ParsePairs(%q) = %v, %v", tt.spec, got, err)
		}
	}
}

func ExampleClosest() {
	fields := [][]string{{"template_name", "template"}, {"category"}}
	i := Closest("tpl", fields)
	fmt.Printf("column tpl is not used; did you mean --map %s=tpl?\n", fields[i][1])
	// Output: column tpl is not used; did you mean --map template=tpl?
}
