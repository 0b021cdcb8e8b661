package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/internal/atomicfile"
	"github.com/failcast/failcast/internal/memlimit"
	"github.com/failcast/failcast/pipeline"
	"golang.org/x/sync/errgroup"
)

// DefaultMaxRejectRate is the share of rejected input lines above which
// an export fails (exit 3) without writing the history: 5%. A run that
// rejects more is misreading its input (a wrong --map, a wrong format,
// zone-less times without --timezone), and its history would be quietly
// incomplete.
const DefaultMaxRejectRate = 0.05

// ExportConfig is one export run. Each field names the cmd/export flag it
// comes from; DefaultExportConfig gives the flags' defaults.
type ExportConfig struct {
	SendLogs      []string     // --send-log FILE: send logs (repeatable; commas separate files too)
	SendLogFormat string       // --send-log-format auto|ndjson|csv ("" = auto: by extension)
	Webhooks      []string     // --webhooks FILE: webhook NDJSON files (repeatable; commas too)
	Out           string       // --out DIR|FILE.parquet
	Partitioned   bool         // --partitioned: DIR/dt=YYYY-MM-DD/part-0.parquet
	Rejects       string       // --rejects PATH ("" = DIR/rejects.ndjson or FILE.rejects.ndjson)
	Mapping       Mapping      // --map field=path,...
	HashKey       []byte       // --hash-key, else $FAILCAST_HASH_KEY
	NoHash        bool         // --no-hash: keep numbers, and free text unmasked
	MaxRejectRate float64      // --max-reject-rate (DefaultMaxRejectRate)
	Timezone      string       // --timezone: IANA zone of zone-less send-log times ("" = reject them)
	MaxLineBytes  int          // --max-line-bytes (DefaultMaxLineBytes)
	MemoryLimit   int64        // --memory-limit: bytes the export aims to stay under (0 = auto, see MemoryBudget)
	Logger        *slog.Logger // progress and warnings; nil = slog.Default()
	Stdout        io.Writer    // the summary; nil = not printed
}

// DefaultExportConfig returns the flags' defaults.
func DefaultExportConfig() ExportConfig {
	return ExportConfig{SendLogFormat: "auto", MaxRejectRate: DefaultMaxRejectRate, MaxLineBytes: DefaultMaxLineBytes}
}

// ExportSummary is what an export read and wrote.
type ExportSummary struct {
	Summary
	Files          int           // input files read
	Existing       int64         // events already in the output that were read back and kept (merged days, or the single file)
	AlreadyPresent int64         // new events the output already held (same event id): not written twice
	Written        int64         // rows in the rewritten files (existing + new)
	Days           int           // day partitions rewritten (partitioned output)
	Out            string        // the history written
	RejectsFile    string        // the reject file written
	Warnings       []string      // unused input columns and keys (see Exporter.Warnings)
	Cleaned        []string      // leftovers of killed runs removed
	Groups         int           // groups of spill buckets joined one at a time (1: all events at once)
	LargestGroup   int           // most events joined at once: what the memory budget bounds
	ReadTime       time.Duration // reading and parsing the inputs
	TotalTime      time.Duration
}

// IsParquetFile reports whether an --out names one Parquet file.
func IsParquetFile(path string) bool { return strings.EqualFold(filepath.Ext(path), ".parquet") }

// DefaultRejectsPath puts the reject file next to the history.
func DefaultRejectsPath(out string) string {
	if IsParquetFile(out) {
		return strings.TrimSuffix(out, filepath.Ext(out)) + ".rejects.ndjson"
	}
	return filepath.Join(out, "rejects.ndjson")
}

// Validate checks the configuration; its errors are usage errors
// (exitcode.Usage) naming the flag.
func (c *ExportConfig) Validate() error {
	switch {
	case len(c.SendLogs)+len(c.Webhooks) == 0:
		return exitcode.Usagef("no input: give --send-log and/or --webhooks")
	case c.Out == "":
		return exitcode.Usagef("--out is required")
	case c.Partitioned && IsParquetFile(c.Out):
		return exitcode.Usagef("--partitioned needs a directory --out, not %s", c.Out)
	case c.NoHash && len(c.HashKey) > 0:
		return exitcode.Usagef("--no-hash and a hash key (--hash-key or $FAILCAST_HASH_KEY) exclude each other")
	case !c.NoHash && len(c.HashKey) == 0:
		return exitcode.Usagef("recipients must be hashed: give --hash-key or $FAILCAST_HASH_KEY (the key the plans are hashed with), or --no-hash")
	case c.MaxRejectRate < 0 || c.MaxRejectRate > 1:
		return exitcode.Usagef("--max-reject-rate %v: want a share between 0 and 1", c.MaxRejectRate)
	case c.MaxLineBytes < 0:
		return exitcode.Usagef("--max-line-bytes %d: want a positive size", c.MaxLineBytes)
	case c.MemoryLimit < 0:
		return exitcode.Usagef("--memory-limit %d: want a positive size", c.MemoryLimit)
	}
	switch c.SendLogFormat {
	case "", "auto", "ndjson", "csv":
	default:
		return exitcode.Usagef("--send-log-format %q: want auto, ndjson or csv", c.SendLogFormat)
	}
	if c.Timezone != "" {
		if _, err := time.LoadLocation(c.Timezone); err != nil {
			return exitcode.Usagef("--timezone %q: %v (want an IANA name such as UTC or America/Sao_Paulo)", c.Timezone, err)
		}
	}
	for _, p := range c.SendLogs {
		if _, err := sendLogFormat(p, c.SendLogFormat); err != nil {
			return err
		}
	}
	return nil
}

// sendLogFormat decides how to read a send log: the flag, else the
// extension (under a .gz).
func sendLogFormat(path, flagFormat string) (string, error) {
	if flagFormat != "auto" && flagFormat != "" {
		return flagFormat, nil
	}
	switch strings.ToLower(filepath.Ext(strings.TrimSuffix(path, ".gz"))) {
	case ".ndjson", ".jsonl", ".json":
		return "ndjson", nil
	case ".csv":
		return "csv", nil
	}
	return "", exitcode.Usagef("send log %s: cannot tell its format from the extension; give --send-log-format ndjson or csv", path)
}

// exportGCPercent is the collector's GOGC during an export, when the
// environment does not set one.
const exportGCPercent = 400

// ErrNoEvents is matched by the error of an export whose inputs yield no
// event at all.
var ErrNoEvents = errors.New("no events")

// ErrTooManyRejects is matched by the error of an export whose reject
// rate is above MaxRejectRate.
var ErrTooManyRejects = errors.New("too many rejects")

// Export reads the inputs of cfg and merges their events into the
// history at cfg.Out: events already there stay, new ones are added, an
// event already present (same event id) is kept once, so the same batch
// exported twice gives the same history. A partitioned output is
// rewritten only in the days the batch touches, and switched into place
// as a whole (atomicfile.SwitchDir): a killed export leaves the earlier
// dataset as it was, never a mix of days. A single-file output is
// replaced atomically.
//
// Errors are classed with exitcode: Usage for a bad configuration, Input
// for inputs that cannot give a trustworthy history (reject rate above
// MaxRejectRate, no events, missing columns, an output that is not a
// history of the expected layout), Locked when another export writes the
// same output; the history is then left as it was. The reject file is
// written whenever the inputs were read, to say why.
func Export(ctx context.Context, cfg ExportConfig) (*ExportSummary, error) {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Rejects == "" {
		cfg.Rejects = DefaultRejectsPath(cfg.Out)
	}
	var loc *time.Location
	if cfg.Timezone != "" {
		loc, _ = time.LoadLocation(cfg.Timezone)
	}
	unlock, err := lockOutput(cfg.Out)
	if err != nil {
		return nil, err
	}
	defer unlock()
	sum := &ExportSummary{Out: cfg.Out, RejectsFile: cfg.Rejects, Files: len(cfg.SendLogs) + len(cfg.Webhooks)}
	if restored, err := atomicfile.RecoverDir(cfg.Out); err != nil {
		return nil, err
	} else if restored {
		log.Warn("restored the output a killed export had moved aside", "out", cfg.Out)
	}
	if sum.Cleaned, err = atomicfile.CleanLeftovers(cfg.Out); err != nil {
		return nil, fmt.Errorf("clean leftovers of killed runs: %w", err)
	}
	if len(sum.Cleaned) > 0 {
		log.Warn("removed leftovers of killed runs", "count", len(sum.Cleaned), "first", sum.Cleaned[0])
	}
	if err := checkLayout(cfg); err != nil {
		return nil, err
	}

	rejects, err := atomicfile.CreateUmask(cfg.Rejects)
	if err != nil {
		return nil, err
	}
	defer rejects.Abort() // no-op after commit
	rw := NewRejectWriter(rejects)
	x, err := New(Options{HashKey: cfg.HashKey, NoHash: cfg.NoHash, Mapping: cfg.Mapping, OnReject: rw.Write,
		Location: loc, MaxLineBytes: cfg.MaxLineBytes})
	if err != nil {
		return nil, exitcode.Wrap(exitcode.Usage, err)
	}
	if err := x.checkFingerprint(cfg.Out); err != nil {
		return nil, err
	}
	limit := MemoryBudget(cfg.MemoryLimit)
	if memlimit.Soft() == 0 {
		// No GOMEMLIMIT: let the collector keep the heap under the budget.
		defer memlimit.Set(limit)()
	}
	if os.Getenv("GOGC") == "" {
		// Collect less often than by default: the soft limit above (or
		// GOMEMLIMIT) bounds the heap. 15% less CPU on the simulator's
		// world (export.md, Memory).
		defer debug.SetGCPercent(debug.SetGCPercent(exportGCPercent))
	}
	if x.spill, err = newSpill(cfg.Out, limit/2); err != nil {
		return nil, err
	}
	defer x.spill.Close()
	for _, path := range cfg.SendLogs {
		format, _ := sendLogFormat(path, cfg.SendLogFormat)
		add := x.AddSendLogNDJSON
		if format == "csv" {
			add = x.AddSendLogCSV
		}
		if err := addFile(ctx, path, add, x, log); err != nil {
			return nil, err
		}
	}
	// Directories and globs of webhook files (the receiver's output).
	webhooks, err := ExpandInputs(cfg.Webhooks)
	if err != nil {
		return nil, exitcode.AsInput(fmt.Errorf("--webhooks: %w", err))
	}
	for _, path := range webhooks {
		if err := addFile(ctx, path, x.AddWebhooks, x, log); err != nil {
			return nil, err
		}
	}
	sum.ReadTime = time.Since(start)
	x.finished = true
	if err := x.joinSpill(ctx); err != nil {
		return nil, err
	}
	sum.Groups, sum.LargestGroup = x.spill.groups, x.spill.maxGroup
	log.Info("joined", "groups", x.spill.groups, "buckets", len(x.spill.buckets), "largest_group_events", x.spill.maxGroup,
		"memory_limit", limit, "seconds", time.Since(start).Seconds())
	if err := rw.Flush(); err != nil {
		return nil, err
	}
	sum.Warnings = x.Warnings()
	for _, w := range sum.Warnings {
		log.Warn(w)
	}
	sum.Summary = x.Summary()
	var fail error
	switch {
	case sum.RejectRate() > cfg.MaxRejectRate:
		fail = exitcode.AsInput(fmt.Errorf("%w: %d of %d lines (%.2f%%) rejected, --max-reject-rate is %.2f%%; the history was not touched, see %s",
			ErrTooManyRejects, sum.RejectedLines, sum.Lines(), 100*sum.RejectRate(), 100*cfg.MaxRejectRate, cfg.Rejects))
	case sum.Events == 0:
		fail = exitcode.AsInput(fmt.Errorf("%w: the inputs (%d lines, %d rejected) yield no event; the history was not touched", ErrNoEvents, sum.Lines(), sum.RejectedLines))
	}
	if fail != nil {
		if err := rejects.Commit(); err != nil {
			return nil, err
		}
		sum.TotalTime = time.Since(start)
		printSummary(cfg.Stdout, sum, false)
		return sum, fail
	}

	if cfg.Partitioned {
		err = x.writePartitioned(ctx, cfg, rejects, sum)
	} else {
		err = x.writeFile(ctx, cfg, rejects, sum)
	}
	if err != nil {
		return nil, err
	}
	sum.TotalTime = time.Since(start)
	printSummary(cfg.Stdout, sum, true)
	log.Info("export done", "events", sum.Events, "new", sum.Events-sum.AlreadyPresent, "already_present", sum.AlreadyPresent,
		"existing_kept", sum.Existing, "rejects", sum.Rejects, "orphan_statuses", sum.OrphanStatuses,
		"duplicates", sum.Duplicates, "bytes", sum.Bytes, "seconds", sum.TotalTime.Seconds(), "out", sum.Out)
	return sum, nil
}

// lockOutput takes an OS file lock beside out, so two exports never write
// one history at once (and leftovers can be cleaned safely). The kernel
// releases it when the holder dies.
func lockOutput(out string) (func(), error) {
	release, ok, err := atomicfile.TryLock(out)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, exitcode.Wrap(exitcode.Locked, fmt.Errorf("another export is writing %s (lock %s); wait for it to finish", out, atomicfile.LockPath(out)))
	}
	return release, nil
}

// checkLayout refuses to mix the two directory layouts.
func checkLayout(cfg ExportConfig) error {
	if IsParquetFile(cfg.Out) {
		return nil
	}
	if st, err := os.Stat(cfg.Out); err == nil && !st.IsDir() {
		return exitcode.Inputf("--out %s is a file, not a directory (a single-file history needs a name ending in .parquet)", cfg.Out)
	}
	parts, _ := filepath.Glob(filepath.Join(cfg.Out, "dt=*"))
	_, single := os.Stat(filepath.Join(cfg.Out, "history.parquet"))
	switch {
	case cfg.Partitioned && single == nil:
		return exitcode.Inputf("--out %s holds history.parquet (a single-file history); export into it without --partitioned, or into a new directory", cfg.Out)
	case !cfg.Partitioned && len(parts) > 0:
		return exitcode.Inputf("--out %s holds day partitions (%s, ...); export into it with --partitioned", cfg.Out, filepath.Base(parts[0]))
	}
	return nil
}

// addFile reads one input file, decompressed when it is gzip (told by its
// first bytes, not its name).
func addFile(ctx context.Context, path string, add func(context.Context, string, io.Reader) error, x *Exporter, log *slog.Logger) error {
	if st, err := os.Stat(path); err != nil {
		return exitcode.AsInput(err)
	} else if !st.Mode().IsRegular() && st.Mode()&fs.ModeNamedPipe == 0 {
		return exitcode.Inputf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	r, err := OpenInput(path)
	if err != nil {
		return exitcode.AsInput(err)
	}
	defer r.Close()
	before := x.Summary()
	start := time.Now()
	if err := add(ctx, path, r); err != nil {
		if IsInputError(err) {
			return exitcode.AsInput(err)
		}
		return err
	}
	after := x.Summary()
	log.Info("read input", "file", path, "lines", after.Lines()-before.Lines(),
		"rejects", after.Rejects-before.Rejects, "bytes", after.Bytes-before.Bytes, "seconds", time.Since(start).Seconds())
	return nil
}

// historyWriter is what the export needs of the pipeline's writers.
type historyWriter interface {
	Write([]pipeline.Event) error
	Close() error
	Abort() error
}

// writeFile merges the events into one history file (FILE.parquet or
// DIR/history.parquet), replaced atomically, then commits the reject
// file.
func (x *Exporter) writeFile(ctx context.Context, cfg ExportConfig, rejects *atomicfile.File, sum *ExportSummary) error {
	target := cfg.Out
	if !IsParquetFile(target) {
		target = filepath.Join(cfg.Out, "history.parquet")
	}
	sum.Out = target
	var existing []string
	if st, err := os.Stat(target); err == nil {
		if !st.Mode().IsRegular() {
			return exitcode.Inputf("%s is not a regular file", target)
		}
		existing = []string{target}
	}
	// One file: its columns are encoded on every core (the days of a
	// partitioned output are written in parallel instead).
	w, err := pipeline.NewHistoryWriter(target, pipeline.WriteOptions{HashKeyFingerprint: x.fingerprint(), Workers: runtime.GOMAXPROCS(0)})
	if err != nil {
		return err
	}
	if err := x.merge(ctx, existing, x.spill.newEvents(0, true), -1, w, sum); err != nil {
		w.Abort()
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	return rejects.Commit()
}

// writePartitioned builds the new dataset in a staging directory: the
// files of days the batch does not touch are hard-linked (or copied),
// each touched day is merged from its existing files and the new events;
// then the staging directory is switched into place.
func (x *Exporter) writePartitioned(ctx context.Context, cfg ExportConfig, rejects *atomicfile.File, sum *ExportSummary) error {
	days := x.spill.days()
	rewrite := map[string]bool{} // dt= directory names rewritten
	for _, d := range days {
		rewrite[dayDir(d)] = true
	}
	stage, err := atomicfile.StageDir(cfg.Out)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			os.RemoveAll(stage)
		}
	}()
	rejectsInside := isInside(cfg.Rejects, cfg.Out)
	if err := linkTree(cfg.Out, stage, func(rel string, d fs.DirEntry) bool {
		if rejectsInside && filepath.Join(cfg.Out, rel) == filepath.Clean(cfg.Rejects) {
			return false
		}
		top := strings.SplitN(filepath.ToSlash(rel), "/", 2)[0]
		return !(rewrite[top] && strings.HasSuffix(d.Name(), ".parquet"))
	}); err != nil {
		return err
	}
	// Days are written in parallel: each from its own files and new
	// events, into its own file; the counts are added up in day order.
	daySums := make([]ExportSummary, len(days))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, runtime.GOMAXPROCS(0)))
	for i, d := range days {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			dir := filepath.Join(cfg.Out, dayDir(d))
			existing, _ := filepath.Glob(filepath.Join(dir, "*.parquet"))
			existing = slices.DeleteFunc(existing, func(p string) bool { return strings.HasPrefix(filepath.Base(p), ".") })
			path := pipeline.PartitionPath(stage, time.UnixMicro(d*microsPerDay))
			w, err := pipeline.NewHistoryWriter(path, pipeline.WriteOptions{HashKeyFingerprint: x.fingerprint()})
			if err != nil {
				return err
			}
			if err := x.merge(gctx, existing, x.spill.newEvents(d, false), d, w, &daySums[i]); err != nil {
				w.Abort()
				return err
			}
			return w.Close()
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i := range daySums {
		sum.AlreadyPresent += daySums[i].AlreadyPresent
		sum.Written += daySums[i].Written
		sum.Existing += daySums[i].Existing
		sum.Duplicates += daySums[i].Duplicates
		sum.Events += daySums[i].Events
		sum.OrphanStatuses += daySums[i].OrphanStatuses
		sum.Days++
	}
	if rejectsInside {
		// The reject file goes into the new directory, switched with it.
		rel, _ := filepath.Rel(cfg.Out, cfg.Rejects)
		if err := rejects.Seal(); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(stage, rel)), 0o755); err != nil {
			return err
		}
		if err := os.Rename(rejects.TempName(), filepath.Join(stage, rel)); err != nil {
			return err
		}
	}
	if testHookBeforeSwitch != nil {
		testHookBeforeSwitch()
	}
	if err := atomicfile.SwitchDir(stage, cfg.Out); err != nil {
		return err
	}
	committed = true
	if !rejectsInside {
		return rejects.Commit()
	}
	rejects.Abort() // its temporary file was moved into the dataset
	return nil
}

// fingerprint is the hash-key fingerprint the history files record
// (pipeline.HashKeyMetaKey): the key's, or "unhashed" with NoHash.
func (x *Exporter) fingerprint() string {
	if x.opts.NoHash {
		return pipeline.UnhashedFingerprint
	}
	return pipeline.HashKeyFingerprint(x.opts.HashKey)
}

// checkFingerprint refuses to export into a history (out, when it holds
// one) exported with another key (or --no-hash, or with a key when this
// export has none): its recipients and the new ones could not be joined.
func (x *Exporter) checkFingerprint(out string) error {
	ds, err := pipeline.OpenDataset(out)
	if err != nil {
		return nil // no history there yet (a broken one is reported when merged)
	}
	stored, file, err := ds.HashKeyFingerprint()
	if err != nil || stored == "" || stored == x.fingerprint() {
		return err
	}
	return exitcode.Inputf("%s was exported with hash key fingerprint %s, this export's is %s (--no-hash: %s): merging would mix recipients that cannot be joined; export with the key the history was exported with, or into a new --out",
		file, stored, x.fingerprint(), pipeline.UnhashedFingerprint)
}

// testHookBeforeSwitch, when set by a test, runs once the new dataset is
// staged, just before it is switched into place.
var testHookBeforeSwitch func()

func isInside(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

const microsPerDay = 86400 * 1_000_000

func dayOf(ts int64) int64 {
	d := ts / microsPerDay
	if ts%microsPerDay < 0 {
		d--
	}
	return d
}

func dayDir(day int64) string {
	return "dt=" + time.UnixMicro(day*microsPerDay).UTC().Format(time.DateOnly)
}

// linkTree recreates the tree under src in dst with hard links to its
// files (copies where links fail), keeping the entries keep accepts.
// Hidden entries (temporary files of killed runs) are left out. A missing
// src is an empty tree.
func linkTree(src, dst string, keep func(rel string, d fs.DirEntry) bool) error {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == src {
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			if !keep(rel, d) {
				return nil
			}
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case !d.Type().IsRegular():
			return nil
		case !keep(rel, d):
			return nil
		}
		if err := os.Link(p, to); err == nil {
			return nil
		}
		return copyFile(p, to)
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	return atomicfile.WriteFile(to, func(f *atomicfile.File) error {
		_, err := io.Copy(f, in)
		return err
	})
}

// merge writes the existing files (which may be none) and the new events
// of src into w in time order. A new event whose id the existing files
// already hold is not written again. With day >= 0 every existing row must
// fall on that UTC day (it is that day's partition). Events src read once
// for two runs are counted in sum (Duplicates, OrphanStatuses: negative).
func (x *Exporter) merge(ctx context.Context, existing []string, src *newEvents, day int64, w historyWriter, sum *ExportSummary) error {
	var ds *pipeline.Dataset
	var present map[string]struct{} // ids of the existing events
	if len(existing) > 0 {
		var err error
		if ds, err = pipeline.OpenDatasetFiles(existing); err != nil {
			return err
		}
		present = map[string]struct{}{}
		err = ds.Scan(ctx, pipeline.ScanOptions{Columns: []string{pipeline.ColEventID, pipeline.ColTimestamp}}, func(b []pipeline.Event) error {
			for i := range b {
				if day >= 0 && dayOf(b[i].Timestamp) != day {
					return exitcode.Inputf("%s holds an event of %s (event %s) outside its day: move it to its own partition before exporting into this dataset",
						filepath.Dir(existing[0]), time.UnixMicro(b[i].Timestamp).UTC().Format(time.RFC3339), b[i].EventID)
				}
				present[b[i].EventID] = struct{}{}
			}
			return nil
		})
		if err != nil {
			return existingErr(err)
		}
	}
	// Batches are written on another goroutine while the next is built:
	// two batch slices take turns, and a batch is built again only once
	// its write has returned.
	batches := [2][]pipeline.Event{make([]pipeline.Event, 0, 1<<14), make([]pipeline.Event, 0, 1<<14)}
	cur := 0
	batch := batches[cur]
	var writing chan error // the write in flight, if any
	wait := func() error {
		if writing == nil {
			return nil
		}
		err := <-writing
		writing = nil
		return err
	}
	defer wait() // on an error, w is aborted only once no write runs
	// The new events' ids and message ids, as strings in one array per
	// batch, never written to again once used.
	var arena []byte
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := wait(); err != nil {
			return err
		}
		sum.Written += int64(len(batch))
		done, b := make(chan error, 1), batch
		go func() { done <- w.Write(b) }()
		writing = done
		cur ^= 1
		batch, arena = batches[cur][:0], nil
		return nil
	}
	add := func(e pipeline.Event) error {
		batch = append(batch, e)
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	}
	addNewBefore := func(ts int64, all bool) error {
		for o := src.peek(); o != nil && (all || o.ts < ts); o = src.peek() {
			if cap(arena)-len(arena) < 16+len(o.msg) {
				arena = make([]byte, 0, max(1<<20, 16+len(o.msg)))
			}
			start := len(arena)
			arena = pipeline.AppendEventID(arena, o.id)
			arena = append(arena, o.msg...)
			id := unsafe.String(&arena[start], 16)
			msg := unsafe.String(unsafe.SliceData(arena[start+16:]), len(o.msg))
			if _, ok := present[id]; ok {
				sum.AlreadyPresent++
			} else {
				batch = append(batch, pipeline.Event{})
				x.fillEvent(&batch[len(batch)-1], o, id, msg)
				if len(batch) == cap(batch) {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			src.pop()
		}
		return src.err()
	}
	if ds != nil {
		err := ds.Scan(ctx, pipeline.ScanOptions{}, func(b []pipeline.Event) error {
			for i := range b {
				if err := addNewBefore(b[i].Timestamp, false); err != nil {
					return err
				}
				sum.Existing++
				if err := add(b[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return existingErr(err)
		}
	}
	if err := addNewBefore(0, true); err != nil {
		return err
	}
	sum.Duplicates += src.Duplicates
	sum.Events -= src.Duplicates
	sum.OrphanStatuses -= src.Orphans
	if err := flush(); err != nil {
		return err
	}
	return wait()
}

// existingErr classes an error reading the existing history: a file that
// does not fit the contract is bad input.
func existingErr(err error) error {
	var se *pipeline.SchemaError
	if errors.As(err, &se) {
		return exitcode.AsInput(fmt.Errorf("existing history: %w", err))
	}
	return err
}

// printSummary prints what the export read and wrote.
func printSummary(w io.Writer, s *ExportSummary, wrote bool) {
	if w == nil {
		return
	}
	mb := float64(s.Bytes) / 1e6
	read := s.ReadTime.Seconds()
	fmt.Fprintf(w, "read         %d files, %.1f MB in %.2fs (%.0f MB/s)\n", s.Files, mb, read, mb/max(read, 1e-9))
	fmt.Fprintf(w, "lines        %d send log, %d webhook, %d blank, %d empty webhook bodies\n", s.SendLogLines, s.WebhookLines, s.BlankLines, s.EmptyWebhooks)
	fmt.Fprintf(w, "send log     %d accepted, %d refused by the API\n", s.Accepted, s.Refused)
	fmt.Fprintf(w, "webhooks     %d statuses, %d inbound messages, %d account events, %d changes without statuses or messages skipped\n", s.Statuses, s.Inbound, s.AccountEventCount(), s.SkippedChanges)
	for _, k := range slices.Sorted(maps.Keys(s.AccountEvents)) {
		fmt.Fprintf(w, "  %-19s %d\n", k, s.AccountEvents[k])
	}
	for _, k := range slices.Sorted(maps.Keys(s.UnknownFields)) {
		fmt.Fprintf(w, "not understood  field %q: %d change(s), not in the history\n", k, s.UnknownFields[k])
	}
	for _, k := range slices.Sorted(maps.Keys(s.UnknownValues)) {
		fmt.Fprintf(w, "not understood  %s: %d event(s) kept without it\n", k, s.UnknownValues[k])
	}
	fmt.Fprintf(w, "countries    %d recipients without a country from their number, %d send-log countries overruled by the number\n", s.CountryUnknown, s.CountryConflicts)
	fmt.Fprintf(w, "rejects      %d (%d lines, %.3f%% of lines) -> %s\n", s.Rejects, s.RejectedLines, 100*s.RejectRate(), s.RejectsFile)
	for _, k := range slices.Sorted(maps.Keys(s.RejectsByKind)) {
		fmt.Fprintf(w, "  %-17s %d\n", k, s.RejectsByKind[k])
	}
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "warning      %s\n", warn)
	}
	if !wrote {
		fmt.Fprintf(w, "history      not written (see the error); %s left as it was\n", s.Out)
		return
	}
	fmt.Fprintf(w, "orphans      %d statuses without a send-log record\n", s.OrphanStatuses)
	fmt.Fprintf(w, "masked       %d free-text values or request ids with numbers replaced by their hash\n", s.MaskedValues)
	fmt.Fprintf(w, "duplicates   %d events dropped within the inputs, %d already in the history\n", s.Duplicates, s.AlreadyPresent)
	fmt.Fprintf(w, "merged       %d existing events kept in %d rewritten day(s)\n", s.Existing, s.Days)
	total := s.TotalTime.Seconds()
	fmt.Fprintf(w, "events       %d written to %s (%d new) in %.2fs total (%.0f MB/s)\n", s.Written, s.Out, s.Events-s.AlreadyPresent, total, mb/max(total, 1e-9))
}
