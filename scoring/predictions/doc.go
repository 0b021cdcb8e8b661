// Package predictions is the contract of the files a scoring run writes
// and other programs read: the columns of predictions.csv, campaigns.csv
// and rejected_rows.csv, the action words, the risk band words and the
// time layout. It has one definition of each; package scoring writes
// through it and readers (the simulator's replay, a sender's own tools in
// Go) read through it, so the two cannot drift apart.
//
// It imports only the standard library and package pipeline (for the
// error families that name the p_<family> and expected_<family> columns).
// docs/predictions.md documents every column and word.
package predictions
