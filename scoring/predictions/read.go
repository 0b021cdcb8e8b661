package predictions

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ReadActions reads the action of every send from a predictions CSV: a
// header row naming the columns send_id and action (matched without case,
// other columns ignored), then one row per send. name is the file's name
// in error messages, which also give the row and column. An empty send id
// or an action that is not one of Actions is an error.
func ReadActions(name string, r io.Reader) (map[string]Action, error) {
	out := map[string]Action{}
	err := readColumns(name, r, []string{ColSendID, ColAction}, func(line int, v []string) error {
		if v[0] == "" {
			return fmt.Errorf("%s: row %d: column %s is empty", name, line, ColSendID)
		}
		a, err := ParseAction(v[1])
		if err != nil {
			return fmt.Errorf("%s: row %d: column %s: %w", name, line, ColAction, err)
		}
		out[v[0]] = a
		return nil
	})
	return out, err
}

// ReadCampaignRates reads the recommended rate of every throttled
// campaign from a campaigns CSV: a header row naming the columns
// campaign_id and recommended_rate_mps (other columns ignored). An empty
// rate means no throttling: such campaigns are left out. A rate that is
// not a positive finite number is an error naming the file and row.
func ReadCampaignRates(name string, r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	err := readColumns(name, r, []string{ColCampaignID, ColRecommendedRateMPS}, func(line int, v []string) error {
		if strings.TrimSpace(v[1]) == "" {
			return nil
		}
		rate, err := strconv.ParseFloat(strings.TrimSpace(v[1]), 64)
		if err != nil || rate <= 0 || math.IsInf(rate, 0) || math.IsNaN(rate) {
			return fmt.Errorf("%s: row %d: column %s: want a positive number of messages per second, got %q", name, line, ColRecommendedRateMPS, v[1])
		}
		out[v[0]] = rate
		return nil
	})
	return out, err
}

// readColumns reads a CSV with a header and calls row with the values of
// the wanted columns of each data row (line is the 1-based file row).
func readColumns(name string, r io.Reader, want []string, row func(line int, values []string) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: empty file, want a header row with columns %s", name, strings.Join(want, ", "))
	}
	if err != nil {
		return fmt.Errorf("%s: header: %w", name, err)
	}
	cols := make([]int, len(want))
	for i, w := range want {
		cols[i] = -1
		for j, h := range header {
			h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
			if strings.EqualFold(h, w) {
				cols[i] = j
				break
			}
		}
		if cols[i] < 0 {
			return fmt.Errorf("%s: header has no column %q (want columns %s)", name, w, strings.Join(want, ", "))
		}
	}
	values := make([]string, len(want))
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: row %d: %w", name, line, err)
		}
		for i, c := range cols {
			if c >= len(rec) {
				return fmt.Errorf("%s: row %d: has %d columns, want at least %d", name, line, len(rec), c+1)
			}
			values[i] = strings.Clone(rec[c])
		}
		if err := row(line, values); err != nil {
			return err
		}
	}
}
