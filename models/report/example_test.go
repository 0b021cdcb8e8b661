package report_test

import (
	"fmt"
	"os"

	"github.com/failcast/failcast/models/report"
)

func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "report")
	defer os.RemoveAll(dir)
	files, err := report.Write(dir, &report.Report{
		Version:    "v1",
		Candidates: []report.Candidate{{Name: "gbdt", PRAUC: 0.62, ROCAUC: 0.91}},
		PR:         []report.Curve{{Name: "gbdt", Points: []report.Point{{X: 0, Y: 1}, {X: 1, Y: 0.2}}, AUC: 0.62}},
	})
	fmt.Println(files, err)
	// Output: [pr_curve.png report.md] <nil>
}
