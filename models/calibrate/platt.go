package calibrate

import (
	"errors"
	"fmt"
	"math"
)

// MinPositives is the fewest positive (and negative) rows FitPlatt fits on.
const MinPositives = 30

// ErrTooFew is returned (wrapped) when a set has too few positives or
// negatives to fit a calibration map.
var ErrTooFew = errors.New("calibrate: too few positive or negative rows")

// Platt is the map p' = sigmoid(A*logit(p) + B). The zero value is not a
// map; Identity is A = 1, B = 0.
type Platt struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// Identity is the map that changes nothing.
var Identity = Platt{A: 1}

// clip keeps logits finite: scores are clipped to [eps, 1-eps].
const eps = 1e-7

func logit(p float64) float64 {
	p = math.Min(math.Max(p, eps), 1-eps)
	return math.Log(p / (1 - p))
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Apply returns the calibrated probability of score p (a probability in
// [0, 1]). NaN stays NaN.
func (c Platt) Apply(p float64) float64 {
	if math.IsNaN(p) {
		return p
	}
	return sigmoid(c.A*logit(p) + c.B)
}

// Valid reports whether c is a usable map: finite, with A > 0 (monotone
// increasing).
func (c Platt) Valid() error {
	if !(c.A > 0) || math.IsInf(c.A, 0) || math.IsNaN(c.B) || math.IsInf(c.B, 0) {
		return fmt.Errorf("calibrate: map a=%g b=%g is not monotone increasing and finite", c.A, c.B)
	}
	return nil
}

// FitPlatt fits the map on scores (probabilities) and their labels.
func FitPlatt(scores []float64, labels []bool) (Platt, error) {
	return FitPlattOuter(scores, labels, nil)
}

// Outer is a known map the calibrated probability q of a row goes through
// before it meets the row's label: the row fails with probability
// max(q, C + D*q). It is how a known cause the model does not see
// combines with it: a cause that fails a share s of the rows on its own,
// independently of the model's causes, of which a part r still applies,
// gives C = s and D = (1-s)*r. The identity is {0, 1}.
type Outer struct {
	C, D float64
}

// IdentityOuter leaves q as it is.
var IdentityOuter = Outer{C: 0, D: 1}

// Apply returns max(q, C + D*q).
func (o Outer) Apply(q float64) float64 {
	return math.Max(q, o.C+o.D*q)
}

// pClip keeps the log-likelihood of rows an outer map makes certain
// finite.
const pClip = 1e-9

// FitPlattOuter fits the map on scores, their labels and each row's outer
// map (nil: the identity for every row) by maximum likelihood of the
// labels under outer[i].Apply(map(scores[i])): the map is fitted so that
// the combined probability, not the score alone, is calibrated. Rows a
// known cause fails for sure (C = 1) carry no information on the map.
// Newton's method on Fisher's information, damped, with Platt's smoothed
// targets.
func FitPlattOuter(scores []float64, labels []bool, outer []Outer) (Platt, error) {
	if len(scores) != len(labels) {
		return Platt{}, fmt.Errorf("calibrate: %d scores for %d labels", len(scores), len(labels))
	}
	if outer != nil && len(outer) != len(scores) {
		return Platt{}, fmt.Errorf("calibrate: %d outer maps for %d scores", len(outer), len(scores))
	}
	pos := 0
	for i, y := range labels {
		if math.IsNaN(scores[i]) || scores[i] < 0 || scores[i] > 1 {
			return Platt{}, fmt.Errorf("calibrate: score %d is %g, want a probability", i, scores[i])
		}
		if outer != nil {
			o := outer[i]
			if !(o.C >= 0 && o.D >= 0 && o.C+o.D <= 1+1e-9) {
				return Platt{}, fmt.Errorf("calibrate: outer map %d is %g + %g q, want C, D >= 0 and C + D <= 1", i, o.C, o.D)
			}
		}
		if y {
			pos++
		}
	}
	neg := len(labels) - pos
	if pos < MinPositives || neg < MinPositives {
		return Platt{}, fmt.Errorf("%w: %d positives and %d negatives, want at least %d of each", ErrTooFew, pos, neg, MinPositives)
	}
	hi := (float64(pos) + 1) / (float64(pos) + 2)
	lo := 1 / (float64(neg) + 2)
	x := make([]float64, len(scores))
	for i, s := range scores {
		x[i] = logit(s)
	}
	target := func(i int) float64 {
		if labels[i] {
			return hi
		}
		return lo
	}
	identity := func(i int) bool { return outer == nil || outer[i] == IdentityOuter }
	a, b := 1.0, 0.0
	loss := func(a, b float64) float64 {
		l := 0.0
		for i, xi := range x {
			t := target(i)
			z := a*xi + b
			if identity(i) {
				// -(t log s(z) + (1-t) log(1-s(z))) = log(1+e^z) - t z
				l += softplus(z) - t*z
				continue
			}
			p := math.Min(math.Max(outer[i].Apply(sigmoid(z)), pClip), 1-pClip)
			l -= t*math.Log(p) + (1-t)*math.Log1p(-p)
		}
		return l
	}
	cur := loss(a, b)
	for iter := 0; iter < 100; iter++ {
		var ga, gb, haa, hab, hbb float64
		for i, xi := range x {
			t := target(i)
			q := sigmoid(a*xi + b)
			dq := q * (1 - q)
			if identity(i) {
				d := q - t
				ga += d * xi
				gb += d
				haa += dq * xi * xi
				hab += dq * xi
				hbb += dq
				continue
			}
			o := outer[i]
			p, g := o.C+o.D*q, o.D
			if p < q {
				p, g = q, 1
			}
			if p <= pClip || p >= 1-pClip {
				continue // certain: no information on the map
			}
			v := p * (1 - p)
			dp := g * dq // dP/dz
			d := (p - t) / v * dp
			ga += d * xi
			gb += d
			w := dp * dp / v
			haa += w * xi * xi
			hab += w * xi
			hbb += w
		}
		// Levenberg damping keeps the step safe when the Hessian is flat.
		lambda := 1e-9 * (haa + hbb)
		var na, nb, next float64
		for try := 0; try < 30; try++ {
			det := (haa+lambda)*(hbb+lambda) - hab*hab
			if det <= 0 {
				lambda = lambda*10 + 1e-12
				continue
			}
			da := ((hbb+lambda)*ga - hab*gb) / det
			db := ((haa+lambda)*gb - hab*ga) / det
			na, nb = a-da, b-db
			next = loss(na, nb)
			if next <= cur {
				break
			}
			lambda = lambda*10 + 1e-6*(haa+hbb)
		}
		if !(next <= cur) {
			break
		}
		done := math.Abs(cur-next) <= 1e-10*math.Max(1, math.Abs(cur))
		a, b, cur = na, nb, next
		if done {
			break
		}
	}
	c := Platt{A: a, B: b}
	if err := c.Valid(); err != nil {
		return Platt{}, err
	}
	return c, nil
}

func softplus(z float64) float64 {
	if z > 30 {
		return z
	}
	return math.Log1p(math.Exp(z))
}
