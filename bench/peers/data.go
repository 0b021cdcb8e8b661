package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/evaluate"
	"github.com/failcast/failcast/pipeline"
)

// windows are cmd/train's time windows for one as-of time (Unix µs).
type windows struct {
	from, validFrom, asOf int64
	gap                   time.Duration
}

// trainWindows returns the windows cmd/train uses: validation = the last
// validDays before asOf, training = the trainDays before it, minus a gap of
// lead.
func trainWindows(asOf time.Time, trainDays, validDays int, lead time.Duration) windows {
	day := 24 * time.Hour
	validFrom := asOf.Add(-time.Duration(validDays) * day)
	from := validFrom.Add(-lead - time.Duration(trainDays)*day)
	return windows{from: from.UnixMicro(), validFrom: validFrom.UnixMicro(), asOf: asOf.UnixMicro(), gap: lead}
}

// asOfSource stops every scan of the history before the as-of time, so
// nothing at or after it (labels included) reaches the models.
type asOfSource struct {
	src  features.Source
	asOf int64
}

func (s asOfSource) Scan(ctx context.Context, opts pipeline.ScanOptions, fn func([]pipeline.Event) error) error {
	if opts.To == 0 || opts.To > s.asOf {
		opts.To = s.asOf
	}
	return s.src.Scan(ctx, opts, fn)
}

// split is the time-ordered split of a feature table.
type split struct {
	names                    []string
	trainX, validX           models.Matrix
	trainLabels, validLabels []bool
}

// buildSplit builds the training feature table of src and splits it as
// cmd/train does.
func buildSplit(ctx context.Context, src features.Source, w windows) (*split, error) {
	cfg := features.DefaultConfig()
	cfg.Lead = w.gap
	tab, err := features.BuildTraining(ctx, asOfSource{src: src, asOf: w.asOf}, cfg, w.from, w.asOf)
	if err != nil {
		return nil, fmt.Errorf("build features: %w", err)
	}
	train, valid, err := evaluate.TimeSplit(tab.Time, w.validFrom, w.gap)
	if err != nil {
		return nil, fmt.Errorf("time split at %s: %w", evaluate.FormatMicros(w.validFrom), err)
	}
	X := models.Matrix{Rows: tab.Rows, Cols: len(tab.Names), Data: tab.X}
	return &split{
		names:  tab.Names,
		trainX: X.SelectRows(train), validX: X.SelectRows(valid),
		trainLabels: pick(tab.Failed, train), validLabels: pick(tab.Failed, valid),
	}, nil
}

func pick[T any](s []T, rows []int) []T {
	out := make([]T, len(rows))
	for k, i := range rows {
		out[k] = s[i]
	}
	return out
}

// positiveRate is the share of true labels.
func positiveRate(y []bool) float64 {
	n := 0
	for _, v := range y {
		if v {
			n++
		}
	}
	return float64(n) / float64(len(y))
}

// sampleRows returns at most n of rows, drawn without replacement with the
// seed and kept in order (cmd/train's sample for its baselines).
func sampleRows(rows []int, n int, seed uint64) []int {
	if len(rows) <= n {
		return rows
	}
	rng := rand.New(rand.NewPCG(seed, 0x6261736531696e65))
	perm := rng.Perm(len(rows))[:n]
	slices.Sort(perm)
	out := make([]int, n)
	for k, j := range perm {
		out[k] = rows[j]
	}
	return out
}

// writeAtomic writes path through a temporary file in the same directory,
// renamed into place when fill succeeds.
func writeAtomic(path string, fill func(w *bufio.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err = fill(w); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// label returns 1 for a failed send, else 0.
func label(v bool) float32 {
	if v {
		return 1
	}
	return 0
}

// writeCSV writes label,f0,f1,... lines, no header (XGBoost's
// label_column=0 layout). Values are written in full float32 precision.
func writeCSV(path string, X models.Matrix, y []bool) error {
	return writeAtomic(path, func(w *bufio.Writer) error {
		line := make([]byte, 0, 1024)
		for i := 0; i < X.Rows; i++ {
			line = strconv.AppendFloat(line[:0], float64(label(y[i])), 'g', -1, 32)
			for _, v := range X.Row(i) {
				line = append(line, ',')
				line = strconv.AppendFloat(line, float64(v), 'g', -1, 32)
			}
			line = append(line, '\n')
			if _, err := w.Write(line); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeF32 writes every row as little-endian float32 values, the label
// first: the layout bench/hgb.py reads with numpy.fromfile.
func writeF32(path string, X models.Matrix, y []bool) error {
	return writeAtomic(path, func(w *bufio.Writer) error {
		buf := make([]byte, 4*(X.Cols+1))
		for i := 0; i < X.Rows; i++ {
			binary.LittleEndian.PutUint32(buf, math.Float32bits(label(y[i])))
			for j, v := range X.Row(i) {
				binary.LittleEndian.PutUint32(buf[4*(j+1):], math.Float32bits(v))
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
		return nil
	})
}
