// Package colmatch matches the column names of a user's input files to the
// fields of a contract: how close a column name is to a field's names
// (Closeness, for "did you mean --map field=column?" hints) and the
// parsing of --map values (ParsePairs). The send-log exporter and the plan
// reader share it, so both give the same hints for the same names.
package colmatch
