package gbdt_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"math"

	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/gbdt"
)

// A send fails when the recipient's recent failure rate (column 0) is high
// and the template is new (column 1 is 1).
func Example() {
	X := models.NewMatrix(2000, 2)
	y := make([]float32, X.Rows)
	for i := 0; i < X.Rows; i++ {
		rate, isNew := float32(i%100)/100, float32(i%3%2)
		X.Data[i*2], X.Data[i*2+1] = rate, isNew
		if rate > 0.7 && isNew == 1 {
			y[i] = 1
		}
	}
	p := gbdt.DefaultParams()
	p.NumRounds, p.MaxDepth, p.Seed = 50, 3, 1
	m, err := gbdt.Fit(context.Background(), p, gbdt.Dataset{X: X, Y: y}, nil)
	if err != nil {
		log.Fatal(err)
	}

	var file bytes.Buffer
	if _, err := m.WriteTo(&file); err != nil {
		log.Fatal(err)
	}
	loaded, err := gbdt.Read(&file)
	if err != nil {
		log.Fatal(err)
	}
	queries := models.Matrix{Rows: 3, Cols: 2, Data: []float32{
		0.9, 1, // risky recipient, new template
		0.9, 0, // risky recipient, known template
		0.1, 1, // healthy recipient, new template
	}}
	for _, p := range loaded.PredictProba(queries) {
		fmt.Printf("P(fail) > 0.5: %v\n", p > 0.5)
	}
	imp := loaded.FeatureImportance()
	fmt.Printf("both features matter: %v\n", imp[0] > 0.2 && imp[1] > 0.2)
	// Output:
	// P(fail) > 0.5: true
	// P(fail) > 0.5: false
	// P(fail) > 0.5: false
	// both features matter: true
}

// The error family of a failed send, from one feature: softmax over three
// classes.
func ExampleModel_PredictProbaMulti() {
	X := models.NewMatrix(900, 1)
	y := make([]float32, X.Rows)
	for i := range y {
		X.Data[i] = float32(i % 300) // 0..99 class 0, 100..199 class 1, 200..299 class 2
		y[i] = float32(i % 300 / 100)
	}
	p := gbdt.DefaultParams()
	p.Objective, p.NumClass, p.NumRounds, p.MaxDepth = gbdt.Softmax, 3, 30, 2
	m, err := gbdt.Fit(context.Background(), p, gbdt.Dataset{X: X, Y: y}, nil)
	if err != nil {
		log.Fatal(err)
	}
	probs := m.PredictProbaMulti(models.Matrix{Rows: 3, Cols: 1, Data: []float32{20, 150, 280}})
	for _, pr := range probs {
		best := 0
		for c := range pr {
			if pr[c] > pr[best] {
				best = c
			}
		}
		fmt.Printf("class %d, %d probabilities\n", best, len(pr))
	}
	// Output:
	// class 0, 3 probabilities
	// class 1, 3 probabilities
	// class 2, 3 probabilities
}

// Why a send is risky: the exact TreeSHAP contributions of each feature
// to the log-odds of P(fail), largest first.
func ExampleModel_Contributions() {
	X := models.NewMatrix(2000, 3)
	y := make([]float32, X.Rows)
	for i := 0; i < X.Rows; i++ {
		rate, isNew, noise := float32(i%100)/100, float32(i%3%2), float32(i%7)
		X.Data[i*3], X.Data[i*3+1], X.Data[i*3+2] = rate, isNew, noise
		if rate > 0.7 && isNew == 1 {
			y[i] = 1
		}
	}
	p := gbdt.DefaultParams()
	p.NumRounds, p.MaxDepth, p.Seed = 50, 3, 1
	m, err := gbdt.Fit(context.Background(), p, gbdt.Dataset{X: X, Y: y}, nil)
	if err != nil {
		log.Fatal(err)
	}
	// Cover: how many training rows reach each node (saved with the model).
	if err := m.SetCover(context.Background(), X); err != nil {
		log.Fatal(err)
	}

	send := models.Matrix{Rows: 1, Cols: 3, Data: []float32{0.9, 1, 3}}
	var c gbdt.Contributions
	if err := m.Contributions(context.Background(), send, &c); err != nil {
		log.Fatal(err)
	}
	names := []string{"recipient_failure_rate", "template_is_new", "noise"}
	for _, r := range gbdt.TopReasons(c.Of(0, 0), 2, nil) {
		fmt.Printf("%s raises the risk: %v\n", names[r.Feature], r.Contribution > 0)
	}
	sum := c.Bias[0]
	for _, v := range c.Of(0, 0) {
		sum += v
	}
	fmt.Printf("bias + contributions = raw score: %v\n", math.Abs(sum-m.PredictRaw(send)[0]) < 1e-9)
	// Output:
	// recipient_failure_rate raises the risk: true
	// template_is_new raises the risk: true
	// bias + contributions = raw score: true
}
