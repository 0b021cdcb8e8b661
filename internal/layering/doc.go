// Package layering holds no code: its test checks the import rules of
// ARCHITECTURE.md on the whole module, so that a package importing one
// above it (models importing pipeline, pipeline importing features, a
// stage importing a command) fails `make test`.
package layering
