package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/pipeline"
)

// memorySource is an in-memory history in time order.
type memorySource []pipeline.Event

func (m memorySource) Scan(ctx context.Context, opts pipeline.ScanOptions, fn func([]pipeline.Event) error) error {
	var batch []pipeline.Event
	for _, e := range m {
		if opts.To != 0 && e.Timestamp >= opts.To {
			continue
		}
		batch = append(batch, e)
	}
	return fn(batch)
}

func TestCollectRecipients(t *testing.T) {
	src := memorySource{
		{Timestamp: 1, WABAID: "w1", Recipient: "h:a", Country: "BR"},
		{Timestamp: 2, WABAID: "w1", Recipient: "h:a", Country: "BR"},
		{Timestamp: 3, WABAID: "w2", Recipient: "h:b", Country: "IN"},
		{Timestamp: 4, WABAID: "w1", Recipient: "h:c", Country: "MX"},
		{Timestamp: 5, WABAID: "w1", Recipient: ""},
		{Timestamp: 9, WABAID: "w2", Recipient: "h:late", Country: "IN"}, // at as-of: not read
	}
	pools, err := collectRecipients(context.Background(), src, 9)
	if err != nil {
		t.Fatal(err)
	}
	want := recipientPools{
		"w1": {{"h:a", "BR"}, {"h:c", "MX"}},
		"w2": {{"h:b", "IN"}},
	}
	if len(pools) != len(want) {
		t.Fatalf("pools = %v, want %v", pools, want)
	}
	for w, p := range want {
		if !slices.Equal(pools[w], p) {
			t.Errorf("pool %s = %v, want %v", w, pools[w], p)
		}
	}
}

func testPlan() []pipeline.PlannedSend {
	return []pipeline.PlannedSend{
		{SendID: "c1-000000", CampaignID: "c1", WABAID: "w1", Recipient: "h:a", Country: "BR", ScheduledAt: 1_000_000},
		{SendID: "c1-000001", CampaignID: "c1", WABAID: "w1", Recipient: "h:c", Country: "MX", ScheduledAt: 1_000_500},
		{SendID: "c2-000000", CampaignID: "c2", WABAID: "w2", Recipient: "h:b", Country: "IN", ScheduledAt: 2_000_000},
	}
}

func TestReplicate(t *testing.T) {
	pools := recipientPools{
		"w1": {{"h:a", "BR"}, {"h:c", "MX"}, {"h:d", "BR"}},
		"w2": {{"h:b", "IN"}, {"h:e", "ID"}},
	}
	country := map[string]string{}
	waba := map[string]string{}
	for w, p := range pools {
		for _, r := range p {
			country[r.id], waba[r.id] = r.country, w
		}
	}
	tests := []struct {
		name     string
		n        int
		replicas int
	}{
		{"fewer than the plan", 2, 1},
		{"the plan itself", 3, 1},
		{"one send more", 4, 2},
		{"many replicas", 30, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := replicate(testPlan(), pools, tt.n, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != tt.n {
				t.Fatalf("%d sends, want %d", len(out), tt.n)
			}
			ids := map[string]bool{}
			orig := map[string]pipeline.PlannedSend{}
			for _, s := range testPlan() {
				orig[s.SendID] = s
			}
			for i, s := range out {
				if ids[s.SendID] {
					t.Errorf("send id %s twice", s.SendID)
				}
				ids[s.SendID] = true
				if i > 0 && (out[i-1].ScheduledAt > s.ScheduledAt ||
					out[i-1].ScheduledAt == s.ScheduledAt && out[i-1].SendID > s.SendID) {
					t.Errorf("row %d (%s) is out of (scheduled_at, send_id) order", i, s.SendID)
				}
				base, rep, replica := strings.Cut(s.SendID, "~r")
				o, ok := orig[base]
				if !ok {
					t.Fatalf("send %s does not come from a plan send", s.SendID)
				}
				if !replica {
					if s != o {
						t.Errorf("replica 0 send %s = %+v, want the plan row %+v", s.SendID, s, o)
					}
					continue
				}
				if s.CampaignID != o.CampaignID+"~r"+rep {
					t.Errorf("send %s has campaign %s", s.SendID, s.CampaignID)
				}
				if waba[s.Recipient] != s.WABAID || country[s.Recipient] != s.Country {
					t.Errorf("send %s: recipient %s (%s) is not one of WABA %s's", s.SendID, s.Recipient, s.Country, s.WABAID)
				}
				if d := s.ScheduledAt - o.ScheduledAt; d <= 0 || d%1000 != 0 || d/1000 >= int64(tt.replicas) {
					t.Errorf("send %s moved by %d µs", s.SendID, d)
				}
			}
		})
	}
}

func TestReplicateDeterministic(t *testing.T) {
	pools := recipientPools{"w1": {{"h:a", "BR"}, {"h:c", "MX"}, {"h:d", "BR"}}, "w2": {{"h:b", "IN"}, {"h:e", "ID"}}}
	a, err := replicate(testPlan(), pools, 50, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := replicate(testPlan(), pools, 50, 3)
	c, _ := replicate(testPlan(), pools, 50, 4)
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different plans")
	}
	if slices.Equal(a, c) {
		t.Error("seeds 3 and 4 gave the same plan")
	}
}

func TestReplicateErrors(t *testing.T) {
	tests := []struct {
		name  string
		plan  []pipeline.PlannedSend
		pools recipientPools
		n     int
		want  string
	}{
		{"empty plan", nil, recipientPools{"w1": {{"h:a", "BR"}}}, 5, "no sends"},
		{"no sends wanted", testPlan(), recipientPools{"w1": {{"h:a", "BR"}}}, 0, "at least 1"},
		{"WABA without recipients", testPlan(), recipientPools{"w1": {{"h:a", "BR"}}}, 6, `WABA "w2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := replicate(tt.plan, tt.pools, tt.n, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	ok := []string{"--history", "h", "--plan", "p.parquet", "--out", "o.parquet", "--as-of", "2026-11-01T00:00:00Z"}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"complete", ok, ""},
		{"missing out", []string{"--history", "h", "--plan", "p", "--as-of", "2026-11-01T00:00:00Z"}, "required"},
		{"bad as-of", append(slices.Clone(ok[:6]), "--as-of", "yesterday"), "RFC 3339"},
		{"no sends", append(slices.Clone(ok), "--sends", "0"), "at least 1"},
		{"stray argument", append(slices.Clone(ok), "extra"), "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sb strings.Builder
			o, err := parseFlags(tt.args, &sb)
			if tt.wantErr == "" {
				if err != nil || o.sends != 1_000_000 || o.asOf.IsZero() {
					t.Errorf("parseFlags = %+v, %v", o, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
