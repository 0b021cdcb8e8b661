package main

import (
	"context"
	"encoding/binary"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/internal/atomicfile"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/training"
)

// buildTables builds the training and validation tables of src as
// failcast's training stage does (training.BuildTables: its windows,
// time split and as-of guard) with its default 28 training and 3
// validation days.
func buildTables(ctx context.Context, src features.Source, asOf time.Time) (*training.Tables, error) {
	cfg := training.DefaultConfig()
	cfg.AsOf = asOf
	return training.BuildTables(ctx, src, cfg)
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

// writeAtomic writes path with fill through internal/atomicfile: renamed
// into place when fill succeeds.
func writeAtomic(path string, fill func(w io.Writer) error) error {
	return atomicfile.WriteFile(path, func(f *atomicfile.File) error { return fill(f) })
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
	return writeAtomic(path, func(w io.Writer) error {
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
// first: the layout bench/f32matrix.py reads with numpy.fromfile.
func writeF32(path string, X models.Matrix, y []bool) error {
	return writeAtomic(path, func(w io.Writer) error {
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
