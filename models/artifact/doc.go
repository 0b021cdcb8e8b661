// Package artifact writes and opens versioned model directories.
//
// A model directory holds the model files (opaque bytes written by
// callbacks, such as a GBDT's WriteTo or a baseline's JSON) and
// metadata.json, which describes how the model was trained and validated
// and records the SHA-256 of every file:
//
//	<dir>/metadata.json
//	<dir>/<file>...        the names given to Write, e.g. "model.gbdt", "logreg.json"
//
// Write builds the whole directory under a temporary name next to dir and
// renames it into place, so dir either does not exist or is complete; it
// refuses to replace an existing dir. Open refuses a directory written by
// a newer format version, a file whose checksum does not match, and a
// model trained on a different feature schema than the one this build
// computes. docs/artifacts.md describes the layout and every metadata
// field.
//
// The package knows models only as files and numbers: feature names and
// the schema hash come from the caller.
package artifact
