package simulate

// tierTracker counts the unique recipients a phone number reached in the
// trailing 24 hours, for its messaging-limit tier.
type tierTracker struct {
	last  map[int32]int64 // recipient -> last successful send
	queue []contact       // successful sends in time order, queue[head:] live
	head  int
}

type contact struct {
	at        int64
	recipient int32
}

func newTierTracker() tierTracker { return tierTracker{last: map[int32]int64{}} }

// expire forgets sends at or before t - 24 h.
func (c *tierTracker) expire(t int64) {
	cut := t - usDay
	for c.head < len(c.queue) && c.queue[c.head].at <= cut {
		q := c.queue[c.head]
		if c.last[q.recipient] == q.at {
			delete(c.last, q.recipient)
		}
		c.head++
	}
	if c.head > 4096 && c.head*2 > len(c.queue) {
		c.queue = append(c.queue[:0], c.queue[c.head:]...)
		c.head = 0
	}
}

// unique returns the recipients reached in the 24 h before t and whether
// recipient was among them.
func (c *tierTracker) unique(t int64, recipient int32) (n int, known bool) {
	c.expire(t)
	_, known = c.last[recipient]
	return len(c.last), known
}

// add records a successful send at t (t is non-decreasing).
func (c *tierTracker) add(t int64, recipient int32) {
	c.last[recipient] = t
	c.queue = append(c.queue, contact{t, recipient})
}

func (c *tierTracker) clone() tierTracker {
	last := make(map[int32]int64, len(c.last))
	for k, v := range c.last {
		last[k] = v
	}
	return tierTracker{last: last, queue: append([]contact(nil), c.queue[c.head:]...)}
}
