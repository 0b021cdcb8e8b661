package evaluate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

// syntheticTimes returns n row times spread at random over days days from
// t0, in random order (splits must not rely on sorted input).
func syntheticTimes(seed uint64, n, days int) []int64 {
	r := rand.New(rand.NewPCG(seed, 7))
	times := make([]int64, n)
	for i := range times {
		times[i] = t0 + r.Int64N(int64(days)*Day)
	}
	return times
}

func TestTimeSplit(t *testing.T) {
	times := syntheticTimes(1, 5000, 60)
	tests := []struct {
		name      string
		validFrom int64
		gap       time.Duration
	}{
		{"no gap", t0 + 50*Day, 0},
		{"one day lead", t0 + 50*Day, 24 * time.Hour},
		{"three day lead", t0 + 40*Day, 72 * time.Hour},
		{"odd gap", t0 + 30*Day + 12345, 90 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			train, valid, err := TimeSplit(times, tc.validFrom, tc.gap)
			if err != nil {
				t.Fatal(err)
			}
			inTrain := map[int]bool{}
			for _, i := range train {
				inTrain[i] = true
				if times[i] >= tc.validFrom-tc.gap.Microseconds() {
					t.Fatalf("train row %d at %s is inside the gap or validation window", i, FormatMicros(times[i]))
				}
			}
			for _, i := range valid {
				if inTrain[i] {
					t.Fatalf("row %d in both train and valid", i)
				}
				if times[i] < tc.validFrom {
					t.Fatalf("valid row %d at %s is before validFrom", i, FormatMicros(times[i]))
				}
			}
			// Every row outside both sides lies in the gap.
			inValid := map[int]bool{}
			for _, i := range valid {
				inValid[i] = true
			}
			for i, tm := range times {
				if !inTrain[i] && !inValid[i] && (tm < tc.validFrom-tc.gap.Microseconds() || tm >= tc.validFrom) {
					t.Fatalf("row %d at %s dropped but not in the gap", i, FormatMicros(tm))
				}
			}
			if !slices.IsSorted(train) || !slices.IsSorted(valid) {
				t.Error("rows not in row order")
			}
		})
	}
}

func TestTimeSplitErrors(t *testing.T) {
	times := syntheticTimes(2, 100, 10)
	if _, _, err := TimeSplit(times, t0+5*Day, -time.Second); err == nil {
		t.Error("negative gap accepted")
	}
	if _, _, err := TimeSplit(times, t0+20*Day, 0); !errors.Is(err, ErrEmptySide) {
		t.Errorf("validation after all rows: err = %v, want ErrEmptySide", err)
	}
	if _, _, err := TimeSplit(times, t0+5*Day, 30*24*time.Hour); !errors.Is(err, ErrEmptySide) {
		t.Errorf("gap swallowing all training rows: err = %v, want ErrEmptySide", err)
	}
}

func TestLastDays(t *testing.T) {
	times := syntheticTimes(3, 3000, 30)
	last := slices.Max(times)
	train, valid, validFrom, err := LastDays(times, 7, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if validFrom != last+1-7*Day {
		t.Errorf("validFrom = %s, want 7 days before just after %s", FormatMicros(validFrom), FormatMicros(last))
	}
	for i, tm := range times {
		want := tm > last-7*Day
		if got := slices.Contains(valid, i); got != want {
			t.Fatalf("row %d at %s: in valid %v, want %v", i, FormatMicros(tm), got, want)
		}
	}
	_, trainTo := Window(times, train)
	if trainTo >= validFrom-Day {
		t.Errorf("latest training row %s is within a day of the validation window", FormatMicros(trainTo))
	}
	if _, _, _, err := LastDays(times, 0, 0); err == nil {
		t.Error("0 days accepted")
	}
	if _, _, _, err := LastDays(nil, 3, 0); !errors.Is(err, ErrEmptySide) {
		t.Errorf("no rows: %v", err)
	}
}

func TestBacktest(t *testing.T) {
	times := syntheticTimes(4, 6000, 60)
	labels := make([]bool, len(times))
	signal := make([]float64, len(times))
	r := rand.New(rand.NewPCG(5, 6))
	for i := range labels {
		signal[i] = r.Float64()
		labels[i] = r.Float64() < signal[i]*0.3
	}
	gap := 48 * time.Hour
	var calls int
	fit := func(train, valid []int) ([]float64, error) {
		calls++
		_, trainTo := Window(times, train)
		validFrom, _ := Window(times, valid)
		if trainTo >= validFrom-gap.Microseconds() {
			return nil, fmt.Errorf("training row at %s within the gap before %s", FormatMicros(trainTo), FormatMicros(validFrom))
		}
		scores := make([]float64, len(valid))
		for j, i := range valid {
			scores[j] = signal[i]
		}
		return scores, nil
	}
	folds, err := Backtest(context.Background(), times, 4, 7, gap, fit, labels)
	if err != nil {
		t.Fatal(err)
	}
	if len(folds) != 4 || calls != 4 {
		t.Fatalf("%d folds, %d fit calls; want 4", len(folds), calls)
	}
	last := slices.Max(times)
	if folds[3].ValidTo != last+1 || folds[0].ValidFrom != last+1-28*Day {
		t.Errorf("windows %s..%s, want the last 28 days", FormatMicros(folds[0].ValidFrom), FormatMicros(folds[3].ValidTo))
	}
	for k, f := range folds {
		if f.ValidTo-f.ValidFrom != 7*Day {
			t.Errorf("fold %d window is %d us long", k, f.ValidTo-f.ValidFrom)
		}
		if k > 0 {
			p := folds[k-1]
			if f.ValidFrom != p.ValidTo || f.TrainRows <= p.TrainRows || f.TrainTo <= p.TrainTo {
				t.Errorf("fold %d does not move forward from fold %d: %+v after %+v", k, k-1, f, p)
			}
		}
		if f.TrainTo >= f.ValidFrom-gap.Microseconds() {
			t.Errorf("fold %d trains up to %s, inside the gap", k, FormatMicros(f.TrainTo))
		}
		if f.ValidRows != len(f.Scores) || f.Metrics.Rows != f.ValidRows {
			t.Errorf("fold %d rows: %+v", k, f)
		}
		if f.Metrics.ROCAUC < 0.6 {
			t.Errorf("fold %d ROC-AUC %v: the signal should be learnable", k, f.Metrics.ROCAUC)
		}
	}
}

func TestBacktestErrors(t *testing.T) {
	times := syntheticTimes(6, 500, 20)
	labels := make([]bool, len(times))
	ok := func(train, valid []int) ([]float64, error) { return make([]float64, len(valid)), nil }
	ctx := context.Background()
	boom := errors.New("boom")
	tests := []struct {
		name  string
		ctx   context.Context
		folds int
		days  int
		gap   time.Duration
		fit   FitFunc
		want  error
	}{
		{"fit error", ctx, 2, 3, 0, func(_, _ []int) ([]float64, error) { return nil, boom }, boom},
		{"short scores", ctx, 2, 3, 0, func(_, v []int) ([]float64, error) { return make([]float64, len(v)-1), nil }, nil},
		{"folds reach before the data", ctx, 5, 5, 0, ok, ErrEmptySide},
		{"negative gap", ctx, 2, 3, -time.Hour, ok, nil},
		{"no folds", ctx, 0, 3, 0, ok, nil},
		{"cancelled", cancelled(), 2, 3, 0, ok, context.Canceled},
	}
	for _, tc := range tests {
		_, err := Backtest(tc.ctx, times, tc.folds, tc.days, tc.gap, tc.fit, labels)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := Backtest(ctx, times, 1, 1, 0, ok, labels[:3]); err == nil {
		t.Error("labels of the wrong length accepted")
	}
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func ExampleTimeSplit() {
	day := Day
	times := []int64{0, 1 * day, 2 * day, 3 * day, 4 * day, 5 * day}
	// Validate from day 4 on; labels look 24h ahead, so leave a one-day gap.
	train, valid, err := TimeSplit(times, 4*day, 24*time.Hour)
	fmt.Println(train, valid, err)
	// Output: [0 1 2] [4 5] <nil>
}

func ExampleBacktest() {
	// One row an hour for 30 days; the label is known 24h after a row.
	// The windows end just after the latest row (day 29, 23:00).
	var times []int64
	var labels []bool
	for h := range 30 * 24 {
		times = append(times, int64(h)*Day/24)
		labels = append(labels, h%7 == 0)
	}
	// A "model" that has learnt the rule exactly.
	fit := func(train, valid []int) ([]float64, error) {
		scores := make([]float64, len(valid))
		for j, i := range valid {
			if i%7 == 0 {
				scores[j] = 1
			}
		}
		return scores, nil
	}
	folds, err := Backtest(context.Background(), times, 3, 5, 24*time.Hour, fit, labels)
	if err != nil {
		panic(err)
	}
	for _, f := range folds {
		fmt.Printf("fold %d: train %d rows, validate %d rows from %s, ROC-AUC %.2f\n",
			f.Fold, f.TrainRows, f.ValidRows, FormatMicros(f.ValidFrom), f.Metrics.ROCAUC)
	}
	// Output:
	// fold 0: train 336 rows, validate 120 rows from 1970-01-15T23:00:00Z, ROC-AUC 1.00
	// fold 1: train 456 rows, validate 120 rows from 1970-01-20T23:00:00Z, ROC-AUC 1.00
	// fold 2: train 576 rows, validate 120 rows from 1970-01-25T23:00:00Z, ROC-AUC 1.00
}
