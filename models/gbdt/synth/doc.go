// Package synth makes reproducible synthetic tabular data shaped like
// failcast's send-failure features, for gbdt's tests, benchmarks and the
// comparison against XGBoost. It knows only matrices and labels.
package synth
