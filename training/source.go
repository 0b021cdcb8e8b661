package training

import (
	"context"
	"sync/atomic"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/pipeline"
)

// asOfSource is the history as of a run: the label-leakage guard. Every
// scan stops before asOf, so nothing at or after it (not even the labels
// of earlier sends) reaches the features or the models. It counts the
// events scanned, for the log and the progress bar.
type asOfSource struct {
	src     features.Source
	asOf    int64 // Unix µs
	scanned atomic.Int64
	onBatch func(n int)
}

func (s *asOfSource) Scan(ctx context.Context, opts pipeline.ScanOptions, fn func([]pipeline.Event) error) error {
	if opts.To == 0 || opts.To > s.asOf {
		opts.To = s.asOf
	}
	return s.src.Scan(ctx, opts, func(batch []pipeline.Event) error {
		s.scanned.Add(int64(len(batch)))
		if s.onBatch != nil {
			s.onBatch(len(batch))
		}
		return fn(batch)
	})
}

// timeRanger is a history that knows its time range without a scan, as
// a pipeline.Dataset does from its Parquet statistics.
type timeRanger interface {
	TimeRange(ctx context.Context) (min, max int64, rows int64, err error)
}
