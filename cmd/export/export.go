package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/failcast/failcast/internal/atomicfile"
	"github.com/failcast/failcast/pipeline"
	"github.com/failcast/failcast/pipeline/ingest"
)

// historyWriter is what export needs of the pipeline's history writers.
type historyWriter interface {
	Write([]pipeline.Event) error
	Close() error
	Abort() error
}

// errTooManyRejects fails a run whose reject rate is above the limit.
var errTooManyRejects = errors.New("too many rejects")

// export reads all inputs, then writes the history and the reject file.
// The reject file is written even when the reject rate is exceeded (it
// says why); the history is then left as it was.
func export(ctx context.Context, o options, logger *slog.Logger, stdout io.Writer) error {
	start := time.Now()
	rejects, err := atomicfile.Create(o.Rejects)
	if err != nil {
		return err
	}
	defer rejects.Abort() // no-op after commit
	rw := ingest.NewRejectWriter(rejects)
	x, err := ingest.New(ingest.Options{HashKey: o.HashKey, NoHash: o.NoHash, Mapping: o.Mapping, OnReject: rw.Write})
	if err != nil {
		return &usageError{err}
	}
	for _, path := range o.SendLogs {
		format, err := sendLogFormat(path, o.SendLogFormat)
		if err != nil {
			return err
		}
		add := x.AddSendLogNDJSON
		if format == "csv" {
			add = x.AddSendLogCSV
		}
		if err := addFile(ctx, path, add, x, logger); err != nil {
			return err
		}
	}
	// Directories and globs of webhook files (the receiver's output).
	if o.Webhooks, err = ingest.ExpandInputs(o.Webhooks); err != nil {
		return fmt.Errorf("--webhooks: %w", err)
	}
	for _, path := range o.Webhooks {
		if err := addFile(ctx, path, x.AddWebhooks, x, logger); err != nil {
			return err
		}
	}
	readTime := time.Since(start)
	if err := rw.Flush(); err != nil {
		return err
	}
	if sum := x.Summary(); sum.RejectRate() > o.MaxRejectRate {
		if err := rejects.Commit(); err != nil {
			return err
		}
		printSummary(stdout, o, sum, readTime, time.Since(start), false)
		return fmt.Errorf("%w: %d of %d lines (%.2f%%) rejected, --max-reject-rate is %.2f%%; no history written, see %s",
			errTooManyRejects, sum.Rejects, sum.Lines(), 100*sum.RejectRate(), 100*o.MaxRejectRate, o.Rejects)
	}

	w, target, err := openHistory(o)
	if err != nil {
		return err
	}
	days := map[int64]bool{}
	sum, err := x.WriteEvents(ctx, 1<<16, func(batch []pipeline.Event) error {
		for i := range batch {
			days[batch[i].Timestamp/(86400*1_000_000)] = true
		}
		return w.Write(batch)
	})
	if err != nil {
		w.Abort()
		return fmt.Errorf("write %s: %w", target, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	if err := rejects.Commit(); err != nil {
		return err
	}
	if o.Partitioned {
		warnStalePartitions(o.Out, days, logger)
	}
	total := time.Since(start)
	printSummary(stdout, o, sum, readTime, total, true)
	logger.Info("export done", "events", sum.Events, "rejects", sum.Rejects, "orphan_statuses", sum.OrphanStatuses,
		"duplicates", sum.Duplicates, "bytes", sum.Bytes, "seconds", total.Seconds(), "out", target)
	return nil
}

// sendLogFormat decides how to read a send log: the flag, else the
// extension (under a .gz).
func sendLogFormat(path, flagFormat string) (string, error) {
	if flagFormat != "auto" {
		return flagFormat, nil
	}
	switch strings.ToLower(filepath.Ext(strings.TrimSuffix(path, ".gz"))) {
	case ".ndjson", ".jsonl", ".json":
		return "ndjson", nil
	case ".csv":
		return "csv", nil
	}
	return "", usagef("send log %s: cannot tell its format from the extension; give --send-log-format ndjson or csv", path)
}

// addFile reads one input file (decompressed when it is gzip, told by
// its first bytes).
func addFile(ctx context.Context, path string, add func(context.Context, string, io.Reader) error, x *ingest.Exporter, logger *slog.Logger) error {
	r, err := ingest.OpenInput(path)
	if err != nil {
		return err
	}
	defer r.Close()
	before := x.Summary()
	start := time.Now()
	if err := add(ctx, path, r); err != nil {
		return err
	}
	after := x.Summary()
	logger.Info("read input", "file", path, "lines", after.Lines()-before.Lines(),
		"rejects", after.Rejects-before.Rejects, "bytes", after.Bytes-before.Bytes, "seconds", time.Since(start).Seconds())
	return nil
}

// openHistory opens the writer of --out.
func openHistory(o options) (historyWriter, string, error) {
	switch {
	case isParquetFile(o.Out):
		w, err := pipeline.NewHistoryWriter(o.Out, pipeline.WriteOptions{})
		return w, o.Out, err
	case o.Partitioned:
		w, err := pipeline.NewPartitionedHistoryWriter(o.Out, pipeline.WriteOptions{})
		return w, o.Out, err
	default:
		path := filepath.Join(o.Out, "history.parquet")
		w, err := pipeline.NewHistoryWriter(path, pipeline.WriteOptions{})
		return w, path, err
	}
}

// warnStalePartitions logs day partitions under dir that this export did
// not write (left from an earlier run: they are not removed).
func warnStalePartitions(dir string, written map[int64]bool, logger *slog.Logger) {
	matches, _ := filepath.Glob(filepath.Join(dir, "dt=*"))
	var stale []string
	for _, m := range matches {
		day, err := time.Parse(time.DateOnly, strings.TrimPrefix(filepath.Base(m), "dt="))
		if err == nil && !written[day.Unix()/86400] {
			stale = append(stale, filepath.Base(m))
		}
	}
	if len(stale) > 0 {
		logger.Warn("partitions from an earlier run were left in place", "dir", dir, "count", len(stale), "first", stale[0])
	}
}

// printSummary prints what the export read and wrote.
func printSummary(w io.Writer, o options, s ingest.Summary, read, total time.Duration, wrote bool) {
	mb := float64(s.Bytes) / 1e6
	fmt.Fprintf(w, "read         %d files, %.1f MB in %.2fs (%.0f MB/s)\n", len(o.SendLogs)+len(o.Webhooks), mb, read.Seconds(), mb/max(read.Seconds(), 1e-9))
	fmt.Fprintf(w, "lines        %d send log, %d webhook, %d blank\n", s.SendLogLines, s.WebhookLines, s.BlankLines)
	fmt.Fprintf(w, "send log     %d accepted, %d refused by the API\n", s.Accepted, s.Refused)
	fmt.Fprintf(w, "webhooks     %d statuses, %d inbound messages, %d other changes skipped\n", s.Statuses, s.Inbound, s.SkippedChanges)
	fmt.Fprintf(w, "rejects      %d (%.3f%% of lines) -> %s\n", s.Rejects, 100*s.RejectRate(), o.Rejects)
	for _, k := range slices.Sorted(maps.Keys(s.RejectsByKind)) {
		fmt.Fprintf(w, "  %-14s %d\n", k, s.RejectsByKind[k])
	}
	if !wrote {
		fmt.Fprintf(w, "history      not written (reject rate above --max-reject-rate)\n")
		return
	}
	fmt.Fprintf(w, "orphans      %d statuses without a send-log record\n", s.OrphanStatuses)
	fmt.Fprintf(w, "duplicates   %d events dropped\n", s.Duplicates)
	fmt.Fprintf(w, "events       %d written to %s in %.2fs total (%.0f MB/s)\n", s.Events, o.Out, total.Seconds(), mb/max(total.Seconds(), 1e-9))
}
