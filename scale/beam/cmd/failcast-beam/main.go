// Command failcast-beam runs failcast's training-table and scoring
// pipelines on Apache Beam: locally on Prism (the default), or on Flink,
// Spark or Dataflow through their Beam runners. See docs/scale-out.md.
//
//	failcast-beam table --history H --as-of T --out train.parquet
//	failcast-beam train --table train.parquet --as-of T --registry R   (one machine, no Beam)
//	failcast-beam score --history H --plan P --as-of T --model DIR --out DIR
//
// The runner is --runner (default prism, in process; beamx registers
// prism, flink, spark, dataflow and universal). Flags are Go flag-package flags, because Beam's own options (--runner,
// --endpoint, --environment_type, --environment_config, --project, ...)
// are registered there; workers run this same binary with Beam's worker
// flags and no subcommand.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	scalebeam "github.com/failcast/failcast/scale/beam"
	"github.com/failcast/failcast/training"
)

var (
	history   = flag.String("history", "out/sim/history", "history dataset: Parquet file, directory (hive partitions dt=YYYY-MM-DD) or glob; workers must see it at this path")
	asOfFlag  = flag.String("as-of", "", "as-of time (RFC 3339): nothing at or after it is read (required)")
	out       = flag.String("out", "", "table: the training table's Parquet file; score: the output directory (shared by the workers)")
	trainDays = flag.Int("train-days", training.DefaultConfig().TrainDays, "table, train: days of history before the validation window (train --train-days)")
	validDays = flag.Int("valid-days", training.DefaultConfig().ValidDays, "table, train: validation days before as-of (train --valid-days)")
	lead      = flag.Duration("lead", training.DefaultConfig().Lead, "table, train: lead time (train --lead)")
	refresh   = flag.Duration("refresh", training.DefaultConfig().Refresh, "table, train: training cutoff grid (train --refresh)")
	warmup    = flag.Duration("warmup", 0, "table, train: history at the start that only warms the state (train --warmup)")
	table     = flag.String("table", "", "train: the training table written by failcast-beam table")
	plans     = flag.String("plan", "", "score: plan files, comma-separated")
	model     = flag.String("model", "", "score: model directory (default: the registry's current model)")
	registry  = flag.String("registry", "out/registry", "train: registry to publish to; score: model registry")
	tokens    = flag.String("tokens", "", "score: token file (score --tokens)")
	explore   = flag.Float64("explore", 0, "score: exploration share (score --explore)")
	seed      = flag.Uint64("seed", 1, "train: training seed (train --seed); score: exploration seed (score --seed)")
)

const usage = `usage: failcast-beam table|train|score [flags]   (failcast-beam -help lists the flags)`

func main() {
	mode := ""
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		mode = os.Args[1]
		os.Args = append(os.Args[:1], os.Args[2:]...)
	}
	flag.Parse()
	beam.Init() // on a worker this runs the harness and does not return
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	err := run(context.Background(), mode)
	if err != nil {
		fmt.Fprintln(os.Stderr, "failcast-beam:", err)
		os.Exit(exitcode.Of(err))
	}
}

func run(ctx context.Context, mode string) error {
	if mode != "table" && mode != "train" && mode != "score" {
		return exitcode.Usagef("%s", usage)
	}
	if *asOfFlag == "" {
		return exitcode.Usagef("--as-of is required")
	}
	asOf, err := time.Parse(time.RFC3339, *asOfFlag)
	if err != nil {
		return exitcode.Usagef("--as-of %q: want an RFC 3339 time such as 2026-11-01T00:00:00Z", *asOfFlag)
	}
	tc := training.DefaultConfig()
	tc.AsOf, tc.TrainDays, tc.ValidDays, tc.Lead, tc.Refresh, tc.Warmup = asOf, *trainDays, *validDays, *lead, *refresh, *warmup
	if mode == "train" {
		// Training runs on one machine, on the table the pipeline wrote.
		if *table == "" {
			return exitcode.Usagef("train needs --table")
		}
		tab, err := features.ReadParquet(*table)
		if err != nil {
			return exitcode.AsInput(err)
		}
		tc.History, tc.Registry, tc.Seed = *table, *registry, *seed
		tc.Log = slog.Default()
		res, err := training.RunTable(ctx, tc, tab)
		if err != nil {
			return err
		}
		slog.Info("trained on the table", "version", res.Version, "promoted", res.Promoted, "valid_pr_auc", res.ValidPRAUC)
		return nil
	}
	if *out == "" {
		return exitcode.Usagef("--out is required")
	}
	p, s := beam.NewPipelineWithRoot()
	began := time.Now()
	switch mode {
	case "table":
		n, err := scalebeam.TrainingTable(s, scalebeam.TrainingConfig{History: *history, Out: *out, Train: tc})
		if err != nil {
			return exitcode.AsInput(err)
		}
		slog.Info("training-table pipeline built", "splits", n)
	case "score":
		if *plans == "" {
			return exitcode.Usagef("score needs --plan")
		}
		sc := scalebeam.DefaultScoringConfig()
		sc.History, sc.Plans, sc.AsOf, sc.Model, sc.Registry, sc.Out = *history, strings.Split(*plans, ","), asOf, *model, *registry, *out
		sc.Tokens, sc.Explore, sc.Seed = *tokens, *explore, *seed
		if err := scalebeam.Scoring(s, sc); err != nil {
			return exitcode.AsInput(err)
		}
	}
	if err := beamx.Run(ctx, p); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	slog.Info("pipeline finished", "mode", mode, "seconds", time.Since(began).Seconds())
	return nil
}
