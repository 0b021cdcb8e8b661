package scoring

import (
	"os"
	"strings"
	"testing"

	"github.com/failcast/failcast/scoring/predictions"
)

// TestDocsListEveryColumn keeps docs/predictions.md in step with the CSVs:
// every column must appear there in backticks.
func TestDocsListEveryColumn(t *testing.T) {
	b, err := os.ReadFile("../docs/predictions.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var cols []string
	cols = append(cols, predictions.Columns()...)
	cols = append(cols, predictions.CampaignColumns()...)
	cols = append(cols, predictions.RejectedColumns()...)
	for _, c := range cols {
		switch {
		case strings.HasPrefix(c, "expected_") && c != "expected_failures":
			c = "expected_<family>"
		case strings.HasPrefix(c, "top_warning_") && strings.HasSuffix(c, "_sends"):
			c = "top_warning_N_sends"
		case strings.HasPrefix(c, "top_warning_"):
			if c != "top_warning_1" && c != "top_warning_3" {
				continue // documented as top_warning_1 .. top_warning_3
			}
		}
		if !strings.Contains(doc, "`"+c+"`") {
			t.Errorf("docs/predictions.md does not document column %q", c)
		}
	}
	for _, a := range predictions.Actions {
		if !strings.Contains(doc, "`"+string(a)+"`") {
			t.Errorf("docs/predictions.md does not document action %q", a)
		}
	}
	for k := range rules {
		if !strings.Contains(doc, "`"+rules[k].kind+"`") {
			t.Errorf("docs/predictions.md does not document warning kind %q", rules[k].kind)
		}
	}
}
