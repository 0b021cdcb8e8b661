// Command gbdtbench is the Go side of bench/gbdt_vs_xgboost.sh: it writes
// the synthetic binary dataset as CSV (label first, no header, the layout
// XGBoost's CLI reads with label_column=0), fits failcast's gbdt on it,
// and scores prediction files against the validation labels.
//
// Usage:
//
//	gbdtbench gen     -dir DIR [-rows N] [-cols C] [-valid-frac F] [-seed S]
//	gbdtbench fit     -dir DIR [-rounds R] [-depth D] [-eta E] [-bins B] [-workers W] [-seed S] [-bin-sample N] [-cpuprofile FILE]
//	gbdtbench compare -dir DIR -ours-fit S -ours-fit-cpu S -ours-rate R [-pred FILE] [-xgb-fit S -xgb-fit-cpu S -xgb-rate R]
//
// gen writes DIR/train.csv and DIR/valid.csv (the last valid-frac of the
// rows in time order) and prints the training positive rate.
//
// fit trains on train.csv, writes DIR/ours.model, predicts valid.csv into
// DIR/ours.pred (one probability per line) and prints fit_seconds,
// fit_cpu_seconds and predict_rows_per_s as key=value lines.
//
// compare reads the validation labels, DIR/ours.pred (or DIR/FILE) and, when present,
// DIR/xgb.pred, computes PR-AUC (average precision), ROC-AUC and log-loss
// for each, and prints the comparison table.
package main
