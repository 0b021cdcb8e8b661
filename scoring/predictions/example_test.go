package predictions_test

import (
	"fmt"
	"strings"

	"github.com/failcast/failcast/scoring/predictions"
)

// A program that acts on scoring's recommendations reads them through the
// contract: the same column names and action words scoring writes.
func ExampleReadActions() {
	csv := "send_id,risk,action\n" +
		"s1,high,suppress\n" +
		"s2,medium,defer 24h\n" +
		"s3,low,send as planned\n"
	actions, err := predictions.ReadActions("predictions.csv", strings.NewReader(csv))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, id := range []string{"s1", "s2", "s3"} {
		a := actions[id]
		fmt.Printf("%s: %s (counted in %s)\n", id, a, a.Column())
	}
	// Output:
	// s1: suppress (counted in sends_suppress)
	// s2: defer 24h (counted in sends_defer_24h)
	// s3: send as planned (counted in sends_send_as_planned)
}
