package plans

import (
	"unsafe"

	"github.com/failcast/failcast/pipeline"
)

// keptRows holds the valid rows of a file that Survey keeps for Stream,
// compactly and without pointers per row (about 100 bytes a send instead
// of a PlannedSend's 184 plus its strings, and nothing for the collector
// to scan): the fixed fields in pages, the recipient in byte chunks
// (arena), the send id where the survey's send-id table stored it (ids:
// its chunks outlive the table), the other strings, which repeat, as
// indexes into names. Chunks are only appended to within their capacity,
// so the strings Stream hands over point into them without a copy and
// stay valid after the set lets go of them.
type keptRows struct {
	pages   [][]keptRow // keptPage rows each (the last one fills up): never copied to grow
	n       int
	arena   [][]byte
	ids     [][]byte // the send-id chunks (sendIDs.arena), set when the survey ends
	names   []string
	index   map[string]uint32
	last    [numNamed]string // the previous row's named strings and their indexes:
	lastIx  [numNamed]uint32 // consecutive rows mostly repeat them
	hasLast [numNamed]bool   // whether last holds a row's string (an empty one too)
}

// The named (repeating) string fields of a kept row.
const (
	namedCampaign = iota
	namedWABA
	namedPhone
	namedCountry
	namedTemplate
	namedLanguage
	namedCategory
	namedType
	numNamed
)

type keptRow struct {
	id, recipient arenaRef
	named         [numNamed]uint32
	media, at     int64
	rate          float64
}

type arenaRef struct{ chunk, off, n uint32 }

// keptChunk is the size of an arena chunk; a longer string gets a chunk
// of its own. keptPage is the number of rows of a page.
const (
	keptChunk = 1 << 20
	keptPage  = 8192
)

// keptRowBytes is the memory a kept row takes beyond its send id (which
// the survey keeps anyway), roughly.
func keptRowBytes(s *pipeline.PlannedSend) int {
	return int(unsafe.Sizeof(keptRow{})) + len(s.Recipient)
}

// add keeps s, whose send id is at id in the survey's send-id chunks.
func (k *keptRows) add(s *pipeline.PlannedSend, id arenaRef) {
	r := keptRow{id: id, recipient: k.store(s.Recipient), media: s.MediaBytes, at: s.ScheduledAt, rate: s.CampaignRateMPS}
	for f, v := range [numNamed]string{s.CampaignID, s.WABAID, s.PhoneNumberID, s.Country, s.Template, s.Language, s.Category, s.MessageType} {
		r.named[f] = k.name(f, v)
	}
	if k.n%keptPage == 0 {
		k.pages = append(k.pages, make([]keptRow, 0, keptPage))
	}
	last := len(k.pages) - 1
	k.pages[last] = append(k.pages[last], r)
	k.n++
}

// name returns the index of v in names, adding it when new.
func (k *keptRows) name(field int, v string) uint32 {
	if k.hasLast[field] && v == k.last[field] {
		return k.lastIx[field]
	}
	if k.index == nil {
		k.index = make(map[string]uint32)
	}
	i, ok := k.index[v]
	if !ok {
		i = uint32(len(k.names))
		k.names = append(k.names, v)
		k.index[v] = i
	}
	k.last[field], k.lastIx[field], k.hasLast[field] = v, i, true
	return i
}

func (k *keptRows) store(s string) arenaRef {
	last := len(k.arena) - 1
	if last < 0 || len(k.arena[last])+len(s) > cap(k.arena[last]) {
		k.arena = append(k.arena, make([]byte, 0, max(keptChunk, len(s))))
		last++
	}
	off := len(k.arena[last])
	k.arena[last] = append(k.arena[last], s...)
	return arenaRef{chunk: uint32(last), off: uint32(off), n: uint32(len(s))}
}

// str returns the string at r in chunks, without a copy.
func str(chunks [][]byte, r arenaRef) string {
	if r.n == 0 {
		return ""
	}
	return unsafe.String(&chunks[r.chunk][r.off], int(r.n))
}

// batches calls fn with the kept rows in batches of size sends (the
// batch is reused after fn returns); with release, every page of rows is
// let go of once handed over, and the strings when all are.
func (k *keptRows) batches(size int, release bool, fn func([]pipeline.PlannedSend) error) error {
	buf := make([]pipeline.PlannedSend, 0, min(size, k.n))
	for pi := range k.pages {
		for i := range k.pages[pi] {
			r := &k.pages[pi][i]
			n := &r.named
			buf = append(buf, pipeline.PlannedSend{
				SendID: str(k.ids, r.id), CampaignID: k.names[n[namedCampaign]], WABAID: k.names[n[namedWABA]],
				PhoneNumberID: k.names[n[namedPhone]], Recipient: str(k.arena, r.recipient), Country: k.names[n[namedCountry]],
				Template: k.names[n[namedTemplate]], Language: k.names[n[namedLanguage]], Category: k.names[n[namedCategory]],
				MessageType: k.names[n[namedType]], MediaBytes: r.media, ScheduledAt: r.at, CampaignRateMPS: r.rate,
			})
			if len(buf) == size {
				if err := fn(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
		if release {
			k.pages[pi] = nil
		}
	}
	if len(buf) > 0 {
		if err := fn(buf); err != nil {
			return err
		}
	}
	if release {
		*k = keptRows{}
	}
	return nil
}
