package features

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/failcast/failcast/pipeline"
)

// genConfig describes a synthetic history for tests and benchmarks.
type genConfig struct {
	Seed        uint64
	Start       int64   // µs of the first send
	Messages    int     // number of sends
	MeanGapUS   float64 // mean time between sends, µs
	Recipients  int
	Phones      int
	Campaigns   int
	Templates   int
	WebhookOnly bool // no accepted events (sends start with sent)
	Uniform     bool // recipients drawn uniformly (else a few get many messages)
	// Throughput bursts of 20 s start after one send in BurstEvery (400
	// if 0) and send BurstRate messages a second (200 times the mean
	// rate if 0).
	BurstEvery int
	BurstRate  float64
}

func smallGen(seed uint64) genConfig {
	return genConfig{
		Seed: seed, Start: day0, Messages: 3000, MeanGapUS: 4 * 60e6, // ~8 days
		Recipients: 300, Phones: 3, Campaigns: 20, Templates: 6,
	}
}

// day0 is 2025-03-03 00:00 UTC in µs.
const day0 = int64(1740960000) * 1_000_000

// genEvent is a pending event in the generator's heap: its time and the
// slot holding it (pointer-free, so the heap is cheap to reorder).
type genEvent struct {
	ts, seq int64
	slot    int32
}

// eventHeap is a binary min-heap of pending events by (ts, seq), typed
// so that the generator's cost stays small next to the engine's.
type eventHeap []genEvent

func (h eventHeap) less(i, j int) bool {
	if h[i].ts != h[j].ts {
		return h[i].ts < h[j].ts
	}
	return h[i].seq < h[j].seq
}

func (h *eventHeap) push(e genEvent) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *eventHeap) pop() genEvent {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && s.less(c+1, c) {
			c++
		}
		if !s.less(c, i) {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
	return top
}

// generate streams a synthetic history in time order to fn. Failures
// follow simple mechanisms (invalid numbers, opt-outs, the per-user
// marketing limit, template parameter errors, oversize media, throughput
// bursts, transient outages), so features have something to find.
func generate(cfg genConfig, fn func(e *pipeline.Event) error) error {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	recips := make([]string, cfg.Recipients)
	for i := range recips {
		recips[i] = fmt.Sprintf("h:%016x", uint64(i)*0x9e3779b97f4a7c15+cfg.Seed)
	}
	countries := []string{"BR", "IN", "MX", "ID", "NG"}
	names := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = prefix + strconv.Itoa(i)
		}
		return out
	}
	phones, camps, tpls, wabas := names("ph", cfg.Phones), names("c", cfg.Campaigns), names("tpl", cfg.Templates), names("waba", 2)
	lastMkt := make([]int64, cfg.Recipients)
	var (
		h     eventHeap
		seq   int64
		slots []pipeline.Event
		free  []int32
	)
	push := func(e pipeline.Event) {
		seq++
		var slot int32
		if n := len(free); n > 0 {
			slot, free = free[n-1], free[:n-1]
			slots[slot] = e
		} else {
			slot = int32(len(slots))
			slots = append(slots, e)
		}
		h.push(genEvent{ts: e.Timestamp, seq: seq, slot: slot})
	}
	pop := func() error {
		x := h.pop()
		err := fn(&slots[x.slot])
		free = append(free, x.slot)
		return err
	}
	t := cfg.Start
	burstUntil := int64(0)
	burstEvery, burstFactor := 400, 1.0/200
	if cfg.BurstEvery > 0 {
		burstEvery = cfg.BurstEvery
	}
	if cfg.BurstRate > 0 {
		burstFactor = 1e6 / cfg.BurstRate / cfg.MeanGapUS
	}
	for m := 0; m < cfg.Messages; m++ {
		gap := rng.ExpFloat64() * cfg.MeanGapUS
		if t < burstUntil {
			gap *= burstFactor
		} else if rng.IntN(burstEvery) == 0 {
			burstUntil = t + 20_000_000
		}
		t += int64(gap) + 1
		for len(h) > 0 && h[0].ts <= t {
			if err := pop(); err != nil {
				return err
			}
		}
		// Skewed recipient choice: a few recipients get many messages.
		ri := int(float64(cfg.Recipients) * rng.Float64() * rng.Float64())
		if cfg.Uniform {
			ri = rng.IntN(cfg.Recipients)
		}
		camp := (m * cfg.Campaigns / cfg.Messages)
		tpl := camp % cfg.Templates
		cat := pipeline.Categories[tpl%3]
		mtype := "template"
		media := pipeline.NoMediaBytes
		if tpl%4 == 1 {
			mtype = "image"
			media = int64(rng.IntN(6 << 20))
		}
		base := pipeline.Event{
			MessageID: "wamid." + strconv.Itoa(m), WABAID: wabas[ri%2],
			PhoneNumberID: phones[camp%cfg.Phones], Recipient: recips[ri],
			Country: countries[ri%len(countries)], CampaignID: camps[min(camp, cfg.Campaigns-1)],
			Template: tpls[tpl], Language: "pt_BR", Category: cat,
			MessageType: mtype, MediaBytes: media, ErrorCode: pipeline.NoErrorCode,
			Exploration: rng.IntN(50) == 0,
		}
		code := pipeline.NoErrorCode
		switch {
		case ri%29 == 3:
			code = 131026
		case cat == pipeline.CategoryMarketing && ri%37 == 5:
			code = 131050
		case cat == pipeline.CategoryMarketing && t-lastMkt[ri] < 24*3600e6 && rng.IntN(2) == 0:
			code = 131049
		case media > 5<<20:
			code = 131053
		case t < burstUntil && rng.IntN(3) == 0:
			code = 130429
		case tpl == 4 && rng.IntN(5) == 0:
			code = 132000
		case rng.IntN(200) == 0:
			code = 131000
		}
		if cat == pipeline.CategoryMarketing {
			lastMkt[ri] = t
		}
		sync := code == 132000 || code == 130429
		if sync { // refused by the API: a lone failed event
			e := base
			e.Timestamp, e.Status, e.ErrorCode = t, pipeline.StatusFailed, code
			push(e)
			continue
		}
		first := pipeline.StatusAccepted
		if cfg.WebhookOnly {
			first = pipeline.StatusSent
		}
		e := base
		e.Timestamp, e.Status = t, first
		push(e)
		if !cfg.WebhookOnly {
			e.Timestamp, e.Status = t+1_000_000+int64(rng.IntN(1e6)), pipeline.StatusSent
			push(e)
		}
		if code != pipeline.NoErrorCode {
			e.Timestamp, e.Status, e.ErrorCode = t+2_000_000+int64(rng.IntN(10e6)), pipeline.StatusFailed, code
			push(e)
			continue
		}
		d := t + 3_000_000 + int64(rng.ExpFloat64()*30e6)
		e.Timestamp, e.Status = d, pipeline.StatusDelivered
		push(e)
		if rng.IntN(10) < 6 {
			e.Timestamp, e.Status = d+int64(rng.ExpFloat64()*3600e6), pipeline.StatusRead
			push(e)
		}
		if rng.IntN(20) == 0 {
			in := base
			in.MessageID = "wamid.in" + strconv.Itoa(m)
			in.Timestamp, in.Status = d+int64(rng.ExpFloat64()*12*3600e6), pipeline.StatusInbound
			in.Template, in.Language, in.Category, in.MessageType, in.MediaBytes = "", "", "", "text", pipeline.NoMediaBytes
			push(in)
		}
	}
	for len(h) > 0 {
		if err := pop(); err != nil {
			return err
		}
	}
	return nil
}

func generateAll(cfg genConfig) []pipeline.Event {
	var out []pipeline.Event
	generate(cfg, func(e *pipeline.Event) error { out = append(out, *e); return nil })
	return out
}

// memSource is an in-memory Source over events in time order. Like a
// dataset it honours From/To and reuses its batch slice.
type memSource struct {
	events    []pipeline.Event
	batchSize int
}

func (s *memSource) Scan(ctx context.Context, opts pipeline.ScanOptions, fn func([]pipeline.Event) error) error {
	bs := s.batchSize
	if bs == 0 {
		bs = 97
	}
	batch := make([]pipeline.Event, 0, bs)
	for i := range s.events {
		e := &s.events[i]
		if (opts.From != 0 && e.Timestamp < opts.From) || (opts.To != 0 && e.Timestamp >= opts.To) {
			continue
		}
		batch = append(batch, *e)
		if len(batch) == bs {
			if err := fn(batch); err != nil {
				return err
			}
			clear(batch)
			batch = batch[:0]
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}

// genSource generates its events while scanning (for benchmarks too big
// to hold in memory).
type genSource struct{ cfg genConfig }

func (s *genSource) Scan(ctx context.Context, opts pipeline.ScanOptions, fn func([]pipeline.Event) error) error {
	batch := make([]pipeline.Event, 0, 8192)
	err := generate(s.cfg, func(e *pipeline.Event) error {
		if opts.To != 0 && e.Timestamp >= opts.To {
			return nil
		}
		batch = append(batch, *e)
		if len(batch) == cap(batch) {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
			return ctx.Err()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}
