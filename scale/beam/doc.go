// Package scalebeam runs failcast's training-table and scoring stages on
// Apache Beam (Go SDK), for histories too large for one machine: Flink,
// Spark or Dataflow through their Beam runners, Prism locally and in
// tests.
//
// TrainingTable reads the hive-partitioned Parquet history split by row
// group (pipeline.Dataset.Splits, pipeline.ScanSplit), keys the events by
// business account (waba_id; rows without one join their phone number's
// account), folds each account with the feature engine
// (features.BuildTrainingShardChunks, in training.Config.Windows) and
// writes one training table in single-node order (features.ParquetWriter,
// the schema of train --features-out); training.RunTable trains on it on
// one machine. Scoring keys the plans the same way, joins them with the
// accounts' histories and scores each account with scoring.Run and one
// model, into per-account prediction files and a merged campaigns.csv and
// summary.json.
//
// Features of entities that span accounts (recipients, countries,
// template names, and the "no campaign" and "no template" entities) are
// computed per account: docs/scale-out.md says what stays exact and what
// is approximated, and the parity tests check it against single-node runs.
package scalebeam
