package features

import "context"

// BuildTrainingShardChunks is BuildTrainingChunks over one shard of a
// history: the events of some business accounts, in the order a scan of
// the whole history gives them, as distributed builds (scale/beam) fold
// them. dataEnd is the latest event time (Unix µs) of the whole history
// before to + LabelWindow: sends within LabelDelay of it are left out, as
// a build over the whole history leaves them out, whatever the shard's own
// latest event. A shard's rows equal the whole build's rows of the same
// sends when no entity of the shard has events in other shards.
func BuildTrainingShardChunks(ctx context.Context, src Source, cfg Config, from, to, dataEnd int64, fn func(*Table) error) error {
	return buildTrainingChunks(ctx, src, cfg, from, to, dataEnd, fn)
}
