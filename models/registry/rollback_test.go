package registry

import (
	"context"
	"errors"
	"testing"
)

func TestRollback(t *testing.T) {
	refuse := errors.New("trained on other features")
	tests := []struct {
		name     string
		version  string
		check    func(string) error
		locked   bool
		champion string // after the rollback
		previous string
		err      error
	}{
		{name: "to an older version", version: "v1", champion: "v1", previous: "v2"},
		{name: "to the champion", version: "v2", champion: "v2", previous: "v2"},
		{name: "checked and fit", version: "v1", check: func(string) error { return nil }, champion: "v1", previous: "v2"},
		{name: "refused by the check", version: "v1", check: func(string) error { return refuse }, champion: "v2", previous: "v2", err: refuse},
		{name: "unknown version", version: "v9", champion: "v2", err: ErrUnknownVersion},
		{name: "not a version name", version: "../v1", champion: "v2", err: ErrUnknownVersion},
		{name: "temporary directory", version: ".tmp-v3", champion: "v2", err: ErrUnknownVersion},
		{name: "locked by another run", version: "v1", locked: true, champion: "v2", err: ErrLocked},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			setup := Open(dir, quiet())
			l := lockT(t, setup)
			publish(t, setup, "v1", "v1")
			publish(t, setup, "v2", "v2")
			if err := setup.Promote("v2"); err != nil {
				t.Fatal(err)
			}
			if !tc.locked {
				l.Unlock()
			} else {
				defer l.Unlock()
			}
			r := Open(dir, quiet())
			prev, err := r.Rollback(context.Background(), tc.version, "failcast registry rollback", 0, tc.check)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
			} else if err != nil || prev != tc.previous {
				t.Fatalf("Rollback = %q, %v; want %q", prev, err, tc.previous)
			}
			if got := readCurrent(t, r); got != tc.champion {
				t.Errorf("champion %s, want %s", got, tc.champion)
			}
			// The lock is released: another change can follow.
			if !tc.locked {
				l2, err := r.Lock(context.Background(), "test", 0)
				if err != nil {
					t.Fatalf("lock after rollback: %v", err)
				}
				l2.Unlock()
			}
		})
	}
}
