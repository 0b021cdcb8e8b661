package main

import (
	"context"
	"sync/atomic"

	"github.com/failcast/failcast/pipeline"
)

// historySource is the history as of the run: every scan stops before
// asOf, so nothing at or after it (not even labels) reaches the models.
// It counts the events scanned, for the progress bar.
type historySource struct {
	ds      *pipeline.Dataset
	asOf    int64 // Unix µs
	scanned atomic.Int64
	onBatch func(n int)
}

func (s *historySource) Scan(ctx context.Context, opts pipeline.ScanOptions, fn func([]pipeline.Event) error) error {
	if opts.To == 0 || opts.To > s.asOf {
		opts.To = s.asOf
	}
	return s.ds.Scan(ctx, opts, func(batch []pipeline.Event) error {
		s.scanned.Add(int64(len(batch)))
		if s.onBatch != nil {
			s.onBatch(len(batch))
		}
		return fn(batch)
	})
}
