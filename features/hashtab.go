package features

// This file holds the open-addressing hash tables of the hot path. Keys
// are 64-bit hashes or values; a slot holds its key and value together,
// so a lookup usually costs one cache miss (a Go map touches a control
// word and a slot in different lines, and holds values it cannot shrink).

// slotIndex spreads a key over a table of 1<<bits slots (Fibonacci
// hashing: keys such as FNV hashes or hex values need mixing).
func slotIndex(key uint64, shift uint8) uint64 {
	return (key * 0x9e3779b97f4a7c15) >> shift
}

// keyed is a slot of an open-addressing table; key 0 marks an empty slot.
type keyed interface {
	idSlot | msgSlot
	slotKey() uint64
}

func (s idSlot) slotKey() uint64  { return s.key }
func (s msgSlot) slotKey() uint64 { return s.key }

// rehash moves the occupied slots of old into a new table of 1<<bits
// slots (linear probing) and returns it with its shift and load limit.
func rehash[S keyed](old []S, bits uint8) (slots []S, shift uint8, maxLoad int) {
	slots = make([]S, 1<<bits)
	shift = 64 - bits
	mask := uint64(len(slots) - 1)
	for _, s := range old {
		k := s.slotKey()
		if k == 0 {
			continue
		}
		i := slotIndex(k, shift)
		for slots[i].slotKey() != 0 {
			i = (i + 1) & mask
		}
		slots[i] = s
	}
	return slots, shift, len(slots) * 3 / 4
}

// idTable maps uint64 keys to int32 ids.
type idTable struct {
	slots   []idSlot
	n       int
	shift   uint8
	zeroID  int32 // id of key 0, which marks empty slots; -1 if none
	maxLoad int
}

type idSlot struct {
	key uint64
	id  int32
}

func newIDTable() *idTable {
	t := &idTable{zeroID: -1}
	t.resize(10)
	return t
}

func (t *idTable) resize(bits uint8) {
	t.slots, t.shift, t.maxLoad = rehash(t.slots, bits)
}

// get returns the id of key, or -1.
func (t *idTable) get(key uint64) int32 {
	if key == 0 {
		return t.zeroID
	}
	mask := uint64(len(t.slots) - 1)
	for i := slotIndex(key, t.shift); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == key {
			return s.id
		}
		if s.key == 0 {
			return -1
		}
	}
}

// put sets the id of key, which must not be in the table.
func (t *idTable) put(key uint64, id int32) {
	if key == 0 {
		t.zeroID = id
		return
	}
	if t.n >= t.maxLoad {
		t.resize(64 - t.shift + 1)
	}
	mask := uint64(len(t.slots) - 1)
	i := slotIndex(key, t.shift)
	for t.slots[i].key != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = idSlot{key: key, id: id}
	t.n++
}

// msgTable maps message-id hashes to what the classifier remembers of
// the message. Key 0 is stored as 1 (the FNV hash of a message id is
// 0 about once in 2^64 ids).
type msgTable struct {
	slots   []msgSlot
	n       int
	shift   uint8
	maxLoad int
}

type msgSlot struct {
	key uint64
	m   message
}

func newMsgTable() *msgTable {
	t := &msgTable{}
	t.resize(10)
	return t
}

func msgKey(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

func (t *msgTable) resize(bits uint8) {
	t.slots, t.shift, t.maxLoad = rehash(t.slots, bits)
}

// get returns the message with id hash h, or nil. The pointer is valid
// until the next put.
func (t *msgTable) get(h uint64) *message {
	key := msgKey(h)
	mask := uint64(len(t.slots) - 1)
	for i := slotIndex(key, t.shift); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == key {
			return &s.m
		}
		if s.key == 0 {
			return nil
		}
	}
}

// put adds or replaces the message with id hash h.
func (t *msgTable) put(h uint64, m message) {
	if t.n >= t.maxLoad {
		t.resize(64 - t.shift + 1)
	}
	key := msgKey(h)
	mask := uint64(len(t.slots) - 1)
	i := slotIndex(key, t.shift)
	for ; t.slots[i].key != 0; i = (i + 1) & mask {
		if t.slots[i].key == key {
			t.slots[i].m = m
			return
		}
	}
	t.slots[i] = msgSlot{key: key, m: m}
	t.n++
}

// prune keeps the messages sent at or after since. It works in place,
// in two sequential passes over the table (a copy into a new table
// would allocate and fault in a table's worth of memory every
// LabelWindow, and scatter its writes); it halves the table only when
// few messages remain.
func (t *msgTable) prune(since int64) {
	keep := 0
	for i := range t.slots {
		s := &t.slots[i]
		if s.key == 0 {
			continue
		}
		if s.m.ts < since {
			*s = msgSlot{}
			continue
		}
		keep++
	}
	t.n = keep
	if bits := 64 - t.shift; bits > 10 && keep < len(t.slots)/4 {
		t.slots, t.shift, t.maxLoad = rehash(t.slots, bits-1)
		return
	}
	t.reseat()
}

// reseat moves each message whose probe run was cut by the slots prune
// emptied back to the first free slot from its home. Starting after an
// empty slot and going round once, every slot passed is where lookups
// will find it, so a moved message lands at or before its old slot.
func (t *msgTable) reseat() {
	mask := uint64(len(t.slots) - 1)
	start := uint64(0)
	for t.slots[start].key != 0 {
		start++ // a table at most 3/4 full has an empty slot
	}
	for n, i := uint64(0), (start+1)&mask; n < mask; n, i = n+1, (i+1)&mask {
		s := t.slots[i]
		if s.key == 0 {
			continue
		}
		j := slotIndex(s.key, t.shift)
		for j != i && t.slots[j].key != 0 {
			j = (j + 1) & mask
		}
		if j != i {
			t.slots[j] = s
			t.slots[i] = msgSlot{}
		}
	}
}
