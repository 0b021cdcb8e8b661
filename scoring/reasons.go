package scoring

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/gbdt"
)

// Reasons says which sends get a reasons cell in predictions.csv: the
// top features of their P(fail) by exact TreeSHAP contribution. TreeSHAP
// costs about 600 predictions per row (BenchmarkReasons), so reasons are
// opt-in.
type Reasons string

// The reasons modes (--reasons).
const (
	// ReasonsOff computes no reasons: the reasons column is empty.
	ReasonsOff Reasons = "off"
	// ReasonsFlagged computes reasons for medium and high risk sends only.
	ReasonsFlagged Reasons = "flagged"
	// ReasonsAll computes reasons for every send.
	ReasonsAll Reasons = "all"
)

// ReasonsModes lists the modes in the order the flag's help names them.
var ReasonsModes = []Reasons{ReasonsOff, ReasonsFlagged, ReasonsAll}

// TopReasons is how many features a reasons cell names.
const TopReasons = 3

// valid reports whether r is a known mode ("" counts as off).
func (r Reasons) valid() bool {
	switch r {
	case "", ReasonsOff, ReasonsFlagged, ReasonsAll:
		return true
	}
	return false
}

func (r Reasons) on() bool { return r == ReasonsFlagged || r == ReasonsAll }

// wants reports whether a send of the given risk gets reasons.
func (r Reasons) wants(risk Risk) bool {
	return r == ReasonsAll || r == ReasonsFlagged && risk >= RiskMedium
}

// checkReasons refuses a reasons mode the fail model cannot serve: a
// model without node cover (trained by an older build) has no TreeSHAP.
func checkReasons(mode Reasons, fail *gbdt.Model, version string) error {
	if !mode.on() || fail.HasCover() {
		return nil
	}
	return exitcode.Inputf("--reasons %s: model %s has no node cover (trained by a build before reasons): retrain it, or score with --reasons off", mode, version)
}

// reasoner fills Prediction.Reasons of the sends its mode selects. It is
// used by the model stage only (one goroutine); Contributions spreads the
// rows over the cores.
type reasoner struct {
	mode  Reasons
	fail  *gbdt.Model
	names []string // feature names, by matrix column
	rows  []int
	sub   []float32
	phi   gbdt.Contributions
	top   []gbdt.Reason
	buf   []byte
}

func newReasoner(mode Reasons, fail *gbdt.Model, names []string) *reasoner {
	if !mode.on() {
		return nil
	}
	return &reasoner{mode: mode, fail: fail, names: names}
}

// fill computes the reasons of the selected predictions of preds, whose
// feature rows are X's rows in order.
func (r *reasoner) fill(ctx context.Context, X models.Matrix, preds []Prediction) error {
	if r == nil {
		return nil
	}
	if X.Rows != len(preds) {
		return fmt.Errorf("scoring: reasons: %d feature rows for %d predictions", X.Rows, len(preds))
	}
	r.rows, r.sub = r.rows[:0], r.sub[:0]
	for i := range preds {
		if r.mode.wants(preds[i].Risk) {
			r.rows = append(r.rows, i)
			r.sub = append(r.sub, X.Row(i)...)
		}
	}
	if len(r.rows) == 0 {
		return nil
	}
	sub := models.Matrix{Rows: len(r.rows), Cols: X.Cols, Data: r.sub}
	if err := r.fail.Contributions(ctx, sub, &r.phi); err != nil {
		if errors.Is(err, gbdt.ErrNoCover) {
			return exitcode.AsInput(err)
		}
		return fmt.Errorf("scoring: reasons: %w", err)
	}
	for k, i := range r.rows {
		r.top = gbdt.TopReasons(r.phi.Of(k, 0), TopReasons, r.top)
		preds[i].Reasons = r.format(r.top)
	}
	return nil
}

// format writes reasons as predictions.csv's reasons cell.
func (r *reasoner) format(top []gbdt.Reason) string {
	r.buf = AppendReasons(r.buf[:0], r.names, top)
	return string(r.buf)
}

// AppendReasons appends the reasons cell of top to b: each feature's name
// and its signed contribution to the log-odds of P(fail), two decimals,
// largest first, separated by "; ", e.g.
// "template_hours_since_pause:+2.31; recipient_marketing_24h:-0.12". A
// contribution that rounds to 0 is written "+0.00" or "-0.00" by its sign.
func AppendReasons(b []byte, names []string, top []gbdt.Reason) []byte {
	for i, t := range top {
		if i > 0 {
			b = append(b, "; "...)
		}
		b = append(b, names[t.Feature]...)
		b = append(b, ':')
		if t.Contribution >= 0 {
			b = append(b, '+')
		} else {
			b = append(b, '-')
		}
		v := t.Contribution
		if v < 0 {
			v = -v
		}
		b = strconv.AppendFloat(b, v, 'f', 2, 64)
	}
	return b
}

// ParseReasons reads a reasons cell back into feature names and signed
// contributions ("" gives none). It is the inverse of AppendReasons up to
// the two decimals.
func ParseReasons(cell string) (names []string, values []float64, err error) {
	if cell == "" {
		return nil, nil, nil
	}
	for _, part := range strings.Split(cell, "; ") {
		name, num, ok := strings.Cut(part, ":")
		if !ok || name == "" {
			return nil, nil, fmt.Errorf("reasons %q: part %q: want feature:+value", cell, part)
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("reasons %q: part %q: %w", cell, part, err)
		}
		names, values = append(names, name), append(values, v)
	}
	return names, values, nil
}
