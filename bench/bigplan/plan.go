package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/failcast/failcast/pipeline"
)

// recipient is a hashed recipient and its country, as in the history.
type recipient struct {
	id, country string
}

// recipientPools holds, per WABA id, the distinct recipients of its events
// in first-seen order.
type recipientPools map[string][]recipient

// historySource is the part of pipeline.Dataset that collectRecipients uses.
type historySource interface {
	Scan(ctx context.Context, opts pipeline.ScanOptions, fn func(batch []pipeline.Event) error) error
}

// collectRecipients reads the recipient, country and WABA columns of the
// history before asOf (Unix µs) and returns each WABA's distinct recipients.
func collectRecipients(ctx context.Context, src historySource, asOf int64) (recipientPools, error) {
	pools := recipientPools{}
	seen := map[string]struct{}{}
	opts := pipeline.ScanOptions{
		Columns: []string{pipeline.ColTimestamp, pipeline.ColWABAID, pipeline.ColRecipient, pipeline.ColCountry},
		To:      asOf,
	}
	err := src.Scan(ctx, opts, func(batch []pipeline.Event) error {
		for i := range batch {
			e := &batch[i]
			if e.Recipient == "" {
				continue
			}
			key := e.WABAID + "\x00" + e.Recipient
			if _, ok := seen[key]; ok {
				continue
			}
			// The batch is reused after the callback: keep copies.
			seen[strings.Clone(key)] = struct{}{}
			waba := strings.Clone(e.WABAID)
			pools[waba] = append(pools[waba], recipient{id: strings.Clone(e.Recipient), country: strings.Clone(e.Country)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("collect recipients: %w", err)
	}
	return pools, nil
}

// replicate returns n sends: the plan's rows, then further replicas of
// them over recipients drawn from pools (see the package documentation),
// sorted by (ScheduledAt, SendID). A WABA of the plan with no recipients
// in the pools is an error, as is an empty plan.
func replicate(plan []pipeline.PlannedSend, pools recipientPools, n int, seed uint64) ([]pipeline.PlannedSend, error) {
	if len(plan) == 0 {
		return nil, errors.New("replicate: the plan has no sends")
	}
	if n < 1 {
		return nil, fmt.Errorf("replicate: want at least 1 send, got %d", n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x626967706c616e)) // "bigplan"
	out := make([]pipeline.PlannedSend, 0, n)
	for r := 0; len(out) < n; r++ {
		suffix := "~r" + strconv.Itoa(r)
		for _, s := range plan {
			if len(out) == n {
				break
			}
			if r > 0 {
				pool := pools[s.WABAID]
				if len(pool) == 0 {
					return nil, fmt.Errorf("replicate: plan send %s: WABA %q has no recipients in the history", s.SendID, s.WABAID)
				}
				p := pool[rng.IntN(len(pool))]
				s.SendID += suffix
				s.CampaignID += suffix
				s.Recipient, s.Country = p.id, p.country
				s.ScheduledAt += int64(r) * 1000
			}
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b pipeline.PlannedSend) int {
		return cmp.Or(cmp.Compare(a.ScheduledAt, b.ScheduledAt), strings.Compare(a.SendID, b.SendID))
	})
	return out, nil
}
