package pipeline

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/failcast/failcast/exitcode"
)

// HashKeyMetaKey is the Parquet key-value metadata key under which a
// history file records the fingerprint of the key its recipients were
// hashed with (HashKeyFingerprint), or UnhashedFingerprint. Files written
// before fingerprints, or by other tools, have none.
const HashKeyMetaKey = "failcast.hash_key_fingerprint"

// UnhashedFingerprint is the fingerprint recorded by a history whose
// recipients are numbers, not hashes (export --no-hash).
const UnhashedFingerprint = "unhashed"

// fingerprintMessage is what HashKeyFingerprint authenticates: a fixed
// string, so the fingerprint identifies the key without revealing it or
// any hash of a phone number.
const fingerprintMessage = "failcast recipient hash key fingerprint v1"

// HashKeyFingerprint returns the fingerprint of a recipient hashing key:
// "hmac-sha256:" and the first 16 hex digits of HMAC-SHA256(key, a fixed
// string). It tells keys apart without storing or revealing them. An
// empty key has no fingerprint ("").
func HashKeyFingerprint(key []byte) string {
	if len(key) == 0 {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(fingerprintMessage))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil)[:8])
}

// HashKeyFingerprint returns the hash-key fingerprint the dataset's files
// record (HashKeyMetaKey) and one file recording it; "" when no file
// records one. Files that record different fingerprints are an input
// error naming two of them: their recipients cannot be joined.
func (d *Dataset) HashKeyFingerprint() (fingerprint, file string, err error) {
	for _, path := range d.files {
		m, err := d.meta(path)
		if err != nil {
			return "", "", exitcode.AsInput(err)
		}
		switch {
		case m.hashKey == "":
		case fingerprint == "":
			fingerprint, file = m.hashKey, path
		case m.hashKey != fingerprint:
			return "", "", exitcode.Inputf("history files were exported with different hash keys: %s records %s, %s records %s (%s); their recipients cannot be joined: re-export them with one key",
				file, fingerprint, path, m.hashKey, HashKeyMetaKey)
		}
	}
	return fingerprint, file, nil
}

// HashKeyMismatchError is a hashing key that does not match the one a
// history was exported with: recipients hashed with it match none of the
// history's.
type HashKeyMismatchError struct {
	File      string // a history file recording Stored
	Stored    string // the fingerprint the history records (or UnhashedFingerprint)
	Given     string // the given key's fingerprint
	GivenFrom string // where the given key comes from ("$FAILCAST_HASH_KEY")
}

func (e *HashKeyMismatchError) Error() string {
	if e.Stored == UnhashedFingerprint {
		return fmt.Sprintf("hash key mismatch: the history was exported with --no-hash (%s in %s: recipients are numbers), but a hashing key is set in %s (fingerprint %s): recipients hashed with it would match no history; unset %s, or re-export the history with the key",
			HashKeyMetaKey, e.File, e.GivenFrom, e.Given, e.GivenFrom)
	}
	return fmt.Sprintf("hash key mismatch: the history was exported with a key of fingerprint %s (%s in %s), but the key in %s has fingerprint %s: recipients hashed with it would match no history; set %s to the key the history was exported with, or re-export the history with this one",
		e.Stored, HashKeyMetaKey, e.File, e.GivenFrom, e.Given, e.GivenFrom)
}

// CheckHashKey checks that recipients hashed with key (which comes from
// keyFrom, such as "$FAILCAST_HASH_KEY", named in messages) are the
// dataset's: a dataset that records another key's fingerprint, or
// UnhashedFingerprint, fails with a *HashKeyMismatchError wrapped as an
// input error (exit 3). An empty key checks only that the files agree
// with each other. A dataset that records no fingerprint cannot be
// checked and passes. train and score call it before reading the history.
func CheckHashKey(d *Dataset, key []byte, keyFrom string) error {
	stored, file, err := d.HashKeyFingerprint()
	if err != nil || stored == "" || len(key) == 0 {
		return err
	}
	if given := HashKeyFingerprint(key); given != stored {
		return exitcode.AsInput(&HashKeyMismatchError{File: file, Stored: stored, Given: given, GivenFrom: keyFrom})
	}
	return nil
}
