package pipeline

import (
	"fmt"
	"hash/fnv"
	"testing"
)

// An event id is the FNV-1a hash of "message id|status|timestamp" (the
// contract), whether the message id's part is hashed with it or apart
// (MessageIDHash, EventIDHashOf).
func TestEventIDHash(t *testing.T) {
	for _, c := range []struct {
		msg string
		st  Status
		ts  int64
	}{
		{"wamid.HBgLNTUxMTk4NzY1NDMyMRUCABEYEjI0QUE5QjRGRkY2NTkxMjM0AA==", StatusSent, 1790000000123456},
		{"wamid.1", StatusRead, -1},
		{"", StatusFailed, 0},
		{"r-00000001", StatusInbound, 1},
	} {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s|%s|%d", c.msg, c.st, c.ts)
		want := h.Sum64()
		if got := EventIDHash(c.msg, c.st, c.ts); got != want {
			t.Errorf("EventIDHash(%q, %s, %d) = %x, want %x", c.msg, c.st, c.ts, got, want)
		}
		if got := EventIDHashOf(MessageIDHash(c.msg), c.st, c.ts); got != want {
			t.Errorf("EventIDHashOf(MessageIDHash(%q), %s, %d) = %x, want %x", c.msg, c.st, c.ts, got, want)
		}
		if got := MakeEventID(c.msg, c.st, c.ts); got != fmt.Sprintf("%016x", want) {
			t.Errorf("MakeEventID(%q, %s, %d) = %s, want %016x", c.msg, c.st, c.ts, got, want)
		}
	}
}
