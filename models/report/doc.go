// Package report writes a model's human-readable report: report.md with
// PNG charts (precision-recall and ROC curves, a calibration plot, feature
// importance and per-class results) and tables comparing the candidates
// and the challenger with the champion.
//
// The package takes metric values, curve points and names only; it never
// sees events, history or what a class means. The caller fills a Report
// and calls Write with the model's directory.
package report
