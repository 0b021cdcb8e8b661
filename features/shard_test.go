package features

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

// TestBuildTrainingShardChunks: two accounts with disjoint entities, one
// ending a day before the other. Built shard by shard with the whole
// history's end, their rows equal the rows of one build over both; built
// with BuildTrainingChunks (the shard's own end) the early shard gets
// fewer rows: LabelDelay is then measured from its own last event.
func TestBuildTrainingShardChunks(t *testing.T) {
	prefix := func(events []pipeline.Event, p string) []pipeline.Event {
		for i := range events {
			e := &events[i]
			e.WABAID, e.PhoneNumberID, e.Recipient, e.CampaignID, e.MessageID = p+"waba", p+e.PhoneNumberID, p+e.Recipient, p+e.CampaignID, p+e.MessageID
			if e.Template != "" {
				e.Template = p + e.Template
			}
			e.Country = p + e.Country
		}
		return events
	}
	ga, gb := smallGen(11), smallGen(12)
	a, b := prefix(generateAll(ga), "a-"), prefix(generateAll(gb), "b-")
	b = b[:len(b)/2] // b's history stops mid-stream, days before a's
	all := append(slices.Clone(a), b...)
	slices.SortStableFunc(all, func(x, y pipeline.Event) int { return cmp.Compare(x.Timestamp, y.Timestamp) })
	dataEnd := all[len(all)-1].Timestamp
	if b[len(b)-1].Timestamp >= dataEnd-DefaultConfig().LabelDelay.Microseconds() {
		t.Fatalf("shard b ends at %d, want it well before the data end %d", b[len(b)-1].Timestamp, dataEnd)
	}
	cfg := DefaultConfig()
	whole := buildAll(t, all, cfg)

	build := func(events []pipeline.Event, end int64) *Table {
		var parts []*Table
		err := BuildTrainingShardChunks(context.Background(), &memSource{events: events}, cfg, 0, 0, end, func(t *Table) error {
			parts = append(parts, t)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ConcatTables(parts)
	}
	rows := func(tab *Table) map[string][]float32 {
		m := make(map[string][]float32, tab.Rows)
		for i := range tab.Rows {
			m[tab.ID[i]] = tab.Row(i)
		}
		return m
	}
	want := rows(whole)
	sharded := map[string][]float32{}
	for _, s := range [][]pipeline.Event{a, b} {
		for id, r := range rows(build(s, dataEnd)) {
			sharded[id] = r
		}
	}
	if len(sharded) != len(want) {
		t.Fatalf("shards built %d rows, the whole history %d", len(sharded), len(want))
	}
	for id, w := range want {
		if !slices.Equal(sharded[id], w) {
			t.Fatalf("row %s: shard %v, whole %v", id, sharded[id], w)
		}
	}
	// With its own end instead of the whole history's, shard b loses its
	// sends of the last LabelDelay before its last event, which the whole
	// build keeps.
	own := build(b, 0)
	wantB := 0
	for id := range want {
		if id[:2] == "b-" {
			wantB++
		}
	}
	if own.Rows >= wantB {
		t.Errorf("shard b built with its own end has %d rows, the whole build %d of its sends: the test shows nothing", own.Rows, wantB)
	}
}
