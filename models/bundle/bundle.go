package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/calibrate"
	"github.com/failcast/failcast/models/gbdt"
)

// File names of the two models inside a bundle directory.
const (
	FailFile   = "fail.gbdt"
	FamilyFile = "family.gbdt"
)

// Threshold names stored in the metadata.
const (
	ThresholdHigh   = "high"   // chosen at a target precision on validation
	ThresholdMedium = "medium" // chosen at an alert budget on validation
)

// Keys of Metadata.Extra that hold Serving (see SetServing).
const (
	ExtraLikelyCodes = "likely_codes"
	ExtraLead        = "lead"
	ExtraRefresh     = "refresh"
	ExtraCalibration = "probability_calibration"
	ExtraFamilyCal   = "family_calibration"
)

// Serving are the settings a bundle must be scored with, besides its
// models and thresholds. Training stores them with SetServing; Load reads
// them back. In metadata.json they are extra.lead and extra.refresh
// (duration strings such as "4h0m0s") and extra.likely_codes (an object
// of class name to error code), the layout of every earlier build.
type Serving struct {
	Lead        time.Duration    // features see history this long before a send; 0 when not stored
	Refresh     time.Duration    // spacing of the training cutoff grid; 0 when not stored
	LikelyCodes map[string]int32 // class name -> most frequent error code in training; empty when not stored
	// Calibration maps the fail model's P(fail) to a calibrated
	// probability (fitted on the validation window); nil when the bundle
	// stores none, and then P(fail) is used as the model gives it. In
	// metadata.json it is extra.probability_calibration, an object
	// {"method": "platt", "a": A, "b": B, "rows": N}.
	Calibration *calibrate.Platt
	// CalibrationRows is the number of rows the map was fitted on.
	CalibrationRows int
	// FamilyMaps calibrate the probability of each class (by class index,
	// fitted on the validation window, calibrate.FamilyMaps): Predict
	// applies them. nil when the bundle stores none. In metadata.json it
	// is extra.family_calibration, an object {"method": "platt_min",
	// "maps": [[a0, b0], [a1, b1], ...], "rows": N}.
	FamilyMaps calibrate.FamilyMaps
	// FamilyMapRows is the number of rows the maps were fitted on.
	FamilyMapRows int
}

// Bundle is a loaded, verified model bundle.
type Bundle struct {
	Dir      string
	Metadata artifact.Metadata
	Fail     *gbdt.Model // binary: P(fail)
	Family   *gbdt.Model // softmax: P(class | fail)
	Serving              // lead, refresh and likely codes from the metadata
}

// Thresholds are a bundle's decision thresholds on P(fail), chosen on
// validation. +Inf means the threshold was not reached and flags nothing.
type Thresholds struct {
	High   float64 // ThresholdHigh: chosen at a target precision
	Medium float64 // ThresholdMedium: chosen at an alert budget, never above High
}

// Want is what a caller needs of a bundle before it predicts with it:
// the feature schema of the matrices it will pass, and what it reads.
type Want struct {
	SchemaHash   string   // the feature schema hash the caller computes (required)
	FeatureNames []string // the caller's feature names in matrix column order (nil: not checked)
	MaxClasses   int      // the most family classes the caller can name, class 0 included (0: not checked)
	Thresholds   bool     // require valid "high" and "medium" thresholds
}

// ErrIncompatible is wrapped by Check's errors other than a feature
// schema mismatch (which wraps artifact.ErrSchemaMismatch).
var ErrIncompatible = errors.New("bundle: model incompatible with this build")

// Save writes a bundle directory at dir (which must not exist) with
// artifact.Write. md must carry the feature schema hash and names; fail
// must be a Binary model and family a Softmax model, both over
// len(md.FeatureNames) features.
func Save(dir string, md artifact.Metadata, fail, family *gbdt.Model) error {
	if fail == nil || family == nil {
		return errors.New("bundle: both the fail and the family model are required")
	}
	if err := checkModels(fail, family, len(md.FeatureNames)); err != nil {
		return err
	}
	files := map[string]func(io.Writer) error{
		FailFile:   func(w io.Writer) error { _, err := fail.WriteTo(w); return err },
		FamilyFile: func(w io.Writer) error { _, err := family.WriteTo(w); return err },
	}
	if err := artifact.Write(dir, md, files); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return nil
}

// Load opens and verifies the bundle at dir (checksums, format version,
// feature schema hash equal to schemaHash; see artifact.Open) and reads
// both models. A schema mismatch wraps artifact.ErrSchemaMismatch.
func Load(dir, schemaHash string) (*Bundle, error) {
	a, err := artifact.Open(dir, schemaHash)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", dir, err)
	}
	b := &Bundle{Dir: dir, Metadata: a.Metadata}
	if b.Fail, err = readModel(a, FailFile); err != nil {
		return nil, err
	}
	if b.Family, err = readModel(a, FamilyFile); err != nil {
		return nil, err
	}
	if err := checkModels(b.Fail, b.Family, len(a.Metadata.FeatureNames)); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", dir, err)
	}
	if b.Lead, b.Refresh, b.LikelyCodes, err = parseExtras(a.Metadata.Extra); err != nil {
		return nil, fmt.Errorf("bundle %s: %s: %w", dir, artifact.MetadataFile, err)
	}
	if b.Calibration, b.CalibrationRows, err = parseCalibration(a.Metadata.Extra); err != nil {
		return nil, fmt.Errorf("bundle %s: %s: %w", dir, artifact.MetadataFile, err)
	}
	if b.FamilyMaps, b.FamilyMapRows, err = parseFamilyCalibration(a.Metadata.Extra); err != nil {
		return nil, fmt.Errorf("bundle %s: %s: %w", dir, artifact.MetadataFile, err)
	}
	if len(b.FamilyMaps) > b.NumClass() {
		return nil, fmt.Errorf("bundle %s: %s: extra.%s has %d weights for a family model of %d classes", dir, artifact.MetadataFile, ExtraFamilyCal, len(b.FamilyMaps), b.NumClass())
	}
	return b, nil
}

// LoadFor loads the bundle at dir (Load with want.SchemaHash) and checks
// that the caller can use it (Check). It is what scoring and the
// champion comparison load a model with.
func LoadFor(dir string, want Want) (*Bundle, error) {
	b, err := Load(dir, want.SchemaHash)
	if err != nil {
		return nil, err
	}
	if err := b.Check(want); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", dir, err)
	}
	return b, nil
}

// Check reports whether the bundle fits want: its feature schema hash
// and feature names equal the caller's (else an error wrapping
// artifact.ErrSchemaMismatch), and, as asked, its family model has at
// most want.MaxClasses classes and it stores valid "high" and "medium"
// thresholds (else ErrIncompatible). Load has already checked the format
// version, the checksums and that both models take
// len(Metadata.FeatureNames) features.
func (b *Bundle) Check(want Want) error {
	md := b.Metadata
	switch {
	case want.SchemaHash != "" && md.FeatureSchemaHash != want.SchemaHash:
		return fmt.Errorf("%w: model %s was trained on feature schema %s, this build computes %s: retrain or use a matching build",
			artifact.ErrSchemaMismatch, md.ModelVersion, md.FeatureSchemaHash, want.SchemaHash)
	case want.FeatureNames != nil && !slices.Equal(md.FeatureNames, want.FeatureNames):
		return fmt.Errorf("%w: model %s: its %d feature names differ from the %d this build computes, although the schema hash matches",
			artifact.ErrSchemaMismatch, md.ModelVersion, len(md.FeatureNames), len(want.FeatureNames))
	case want.MaxClasses > 0 && b.NumClass() > want.MaxClasses:
		return fmt.Errorf("%w: model %s: family model has %d classes, this build knows %d",
			ErrIncompatible, md.ModelVersion, b.NumClass(), want.MaxClasses)
	}
	if want.Thresholds {
		if _, err := b.Thresholds(); err != nil {
			return err
		}
	}
	return nil
}

// Thresholds returns the "high" and "medium" thresholds. It fails
// (wrapping ErrIncompatible) when either is missing, not positive, or
// medium is above high.
func (b *Bundle) Thresholds() (Thresholds, error) {
	high, okH := b.Threshold(ThresholdHigh)
	medium, okM := b.Threshold(ThresholdMedium)
	v := b.Metadata.ModelVersion
	switch {
	case !okH || !okM:
		return Thresholds{}, fmt.Errorf("%w: model %s stores no %q and %q thresholds (metadata.json thresholds): retrain it with this build",
			ErrIncompatible, v, ThresholdHigh, ThresholdMedium)
	case !(high > 0) || !(medium > 0):
		return Thresholds{}, fmt.Errorf("%w: model %s: thresholds want positive values, got medium %g, high %g", ErrIncompatible, v, medium, high)
	case medium > high:
		return Thresholds{}, fmt.Errorf("%w: model %s: medium threshold %g is above high %g", ErrIncompatible, v, medium, high)
	}
	return Thresholds{High: high, Medium: medium}, nil
}

func readModel(a *artifact.Artifact, name string) (*gbdt.Model, error) {
	data, err := a.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", a.Dir, err)
	}
	m, err := gbdt.Read(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("bundle %s: read %s: %w", a.Dir, name, err)
	}
	return m, nil
}

func checkModels(fail, family *gbdt.Model, features int) error {
	switch {
	case fail.Objective() != gbdt.Binary:
		return fmt.Errorf("bundle: %s is a %s model, want binary", FailFile, fail.Objective())
	case family.Objective() != gbdt.Softmax:
		return fmt.Errorf("bundle: %s is a %s model, want softmax", FamilyFile, family.Objective())
	case fail.NumFeatures() != features:
		return fmt.Errorf("bundle: %s expects %d features, the metadata names %d", FailFile, fail.NumFeatures(), features)
	case family.NumFeatures() != features:
		return fmt.Errorf("bundle: %s expects %d features, the metadata names %d", FamilyFile, family.NumFeatures(), features)
	}
	return nil
}

// NumClass returns the number of classes of pFamily (class 0 included).
func (b *Bundle) NumClass() int { return b.Family.NumClass() }

// Predict returns P(fail) of every row of X and, per row, the probability
// of every class (class 0 = no failure), which sum to 1. With family
// maps (Serving.FamilyMaps) each class's probability goes through its map
// and P(fail) is their sum (CombineFamilyMapped). It panics if X
// does not have the bundle's number of features, like gbdt's Predict.
func (b *Bundle) Predict(X models.Matrix) (pFail []float64, pFamily [][]float64) {
	return b.PredictInto(&Scratch{}, X)
}

// Threshold returns the value of a stored threshold ("high", "medium").
// ok is false when the bundle has no such threshold; a threshold that was
// not reached on validation is +Inf (it flags nothing).
func (b *Bundle) Threshold(name string) (value float64, ok bool) {
	t, ok := b.Metadata.Thresholds[name]
	if !ok {
		return math.NaN(), false
	}
	return t.Value, true
}

// CombineFamily turns P(fail) and P(class | fail) into unconditional
// class probabilities: P(0) = 1 - P(fail), P(c) = P(fail) * P(c | fail)
// renormalised over c >= 1. A row whose conditional mass on c >= 1 is 0
// spreads P(fail) evenly over those classes.
func CombineFamily(pFail []float64, cond [][]float64) [][]float64 {
	return combineFamilyInto(nil, pFail, cond, nil)
}

// CombineFamilyMapped is CombineFamily with every class's probability
// through its map (calibrate.FamilyMaps; nil: none): P(class c) =
// m.ApplyClass(c, P(fail) * P(c | fail) renormalised over c >= 1), and
// pFail[i] is set, in place, to their sum. It is what Predict returns for
// a bundle storing m.
func CombineFamilyMapped(pFail []float64, cond [][]float64, m calibrate.FamilyMaps) [][]float64 {
	return combineFamilyInto(nil, pFail, cond, m)
}

// combineFamilyInto is CombineFamilyMapped into s's buffers (nil: new
// ones).
func combineFamilyInto(s *Scratch, pFail []float64, cond [][]float64, m calibrate.FamilyMaps) [][]float64 {
	if len(cond) != len(pFail) {
		panic(fmt.Sprintf("bundle: %d P(fail) values for %d family rows", len(pFail), len(cond)))
	}
	if s == nil {
		s = &Scratch{}
	}
	k := 0
	if len(cond) > 0 {
		k = len(cond[0])
	}
	flat := make([]float64, len(cond)*k)
	for i, row := range cond {
		copy(flat[i*k:(i+1)*k], row[:k])
	}
	return combineFamilyFlat(s, pFail, flat, k, m)
}

// combineFamilyFlat is combineFamilyInto with cond row-major, k values
// per row (as gbdt's PredictProbaMultiInto returns them).
func combineFamilyFlat(s *Scratch, pFail, cond []float64, k int, m calibrate.FamilyMaps) [][]float64 {
	if len(cond) != len(pFail)*k {
		panic(fmt.Sprintf("bundle: %d P(fail) values for %d family values of %d classes", len(pFail), len(cond), k))
	}
	out := grow(&s.rows, len(pFail))
	if len(pFail) == 0 {
		return out
	}
	flat := grow(&s.flat, len(pFail)*k)
	// Which classes a map changes, looked up once: the others keep their
	// probability (ApplyClass of an identity map).
	mapped := grow(&s.mapped, k)
	for c := range mapped {
		mapped[c] = m.Map(c) != calibrate.Identity
	}
	for i, p := range pFail {
		row := flat[i*k : (i+1)*k : (i+1)*k]
		ci := cond[i*k : (i+1)*k : (i+1)*k]
		mass := 0.0
		for c := 1; c < k; c++ {
			mass += ci[c]
		}
		sum := 0.0
		for c := 1; c < k; c++ {
			if mass > 0 {
				row[c] = p * ci[c] / mass
				if mapped[c] {
					row[c] = m.ApplyClass(c, row[c])
				}
			} else {
				row[c] = p / float64(k-1)
			}
			sum += row[c]
		}
		if len(m) > 0 && mass > 0 {
			// The maps take probability away: P(fail) is what is left.
			p = min(sum, p)
			pFail[i] = p
		}
		row[0] = 1 - p
		out[i] = row
	}
	return out
}

// Scratch holds the buffers of PredictInto, reused from one call to the
// next. The zero value is ready to use; a Scratch is used by one
// goroutine at a time.
type Scratch struct {
	flat   []float64
	mapped []bool // per class, whether the family maps change it
	rows   [][]float64
	// The models' outputs: P(fail), the family model's raw scores and
	// its class probabilities.
	pFail, raw, cond []float64
}

// PredictInto is Predict with pFail and pFamily in s's buffers: they are
// valid until the next PredictInto with s. A scorer calling it batch
// after batch allocates nothing once the buffers have grown (Predict's
// outputs and the models' raw scores, allocated anew for every batch,
// came to a few hundred MB for a 1M-send plan).
func (b *Bundle) PredictInto(s *Scratch, X models.Matrix) (pFail []float64, pFamily [][]float64) {
	s.pFail = b.Fail.PredictProbaInto(s.pFail, X)
	s.cond, s.raw = b.Family.PredictProbaMultiInto(s.cond, s.raw, X)
	return s.pFail, combineFamilyFlat(s, s.pFail, s.cond, b.Family.NumClass(), b.FamilyMaps)
}

// grow returns (*buf)[:n], reallocating *buf when it is too short.
func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	*buf = (*buf)[:n]
	return *buf
}

// SetServing stores s in md, in the form Load reads back into
// Bundle.Serving.
func SetServing(md *artifact.Metadata, s Serving) {
	if md.Extra == nil {
		md.Extra = map[string]any{}
	}
	md.Extra[ExtraLead] = s.Lead.String()
	md.Extra[ExtraRefresh] = s.Refresh.String()
	codes := make(map[string]any, len(s.LikelyCodes))
	for k, v := range s.LikelyCodes {
		codes[k] = v
	}
	md.Extra[ExtraLikelyCodes] = codes
	if s.Calibration != nil {
		md.Extra[ExtraCalibration] = map[string]any{"method": "platt", "a": s.Calibration.A, "b": s.Calibration.B, "rows": s.CalibrationRows}
	} else {
		delete(md.Extra, ExtraCalibration)
	}
	if len(s.FamilyMaps) > 0 && !s.FamilyMaps.Identity() {
		maps := make([]any, len(s.FamilyMaps))
		for c := range s.FamilyMaps {
			mp := s.FamilyMaps.Map(c)
			maps[c] = []any{mp.A, mp.B}
		}
		md.Extra[ExtraFamilyCal] = map[string]any{"method": "platt_min", "maps": maps, "rows": s.FamilyMapRows}
	} else {
		delete(md.Extra, ExtraFamilyCal)
	}
}

// parseFamilyCalibration reads what SetServing wrote for
// Serving.FamilyMaps: nil when absent; an error for an unknown method or
// a map that is not monotone increasing and finite.
func parseFamilyCalibration(extra map[string]any) (calibrate.FamilyMaps, int, error) {
	m, err := calibrationObject(extra, ExtraFamilyCal, "platt_min", `"maps": [[a, b], ...]`)
	if m == nil || err != nil {
		return nil, 0, err
	}
	list, ok := m["maps"].([]any)
	if !ok {
		return nil, 0, fmt.Errorf("extra.%s.maps is %T, want an array of [a, b] pairs", ExtraFamilyCal, m["maps"])
	}
	maps := make(calibrate.FamilyMaps, len(list))
	for c, v := range list {
		pair, ok := v.([]any)
		if !ok || len(pair) != 2 {
			return nil, 0, fmt.Errorf("extra.%s.maps[%d] is %v, want [a, b]", ExtraFamilyCal, c, v)
		}
		a, okA := pair[0].(float64)
		b, okB := pair[1].(float64)
		if !okA || !okB {
			return nil, 0, fmt.Errorf("extra.%s.maps[%d] is %v, want two numbers", ExtraFamilyCal, c, v)
		}
		maps[c] = calibrate.Platt{A: a, B: b}
	}
	if err := maps.Valid(); err != nil {
		return nil, 0, fmt.Errorf("extra.%s: %w", ExtraFamilyCal, err)
	}
	rows, _ := number(m, "rows")
	return maps, int(rows), nil
}

// calibrationObject returns the object extra[key] holds, with its method
// checked (fields describes the rest, for the error): nil without an
// error when the key is absent.
func calibrationObject(extra map[string]any, key, method, fields string) (map[string]any, error) {
	raw, ok := extra[key]
	if !ok || raw == nil {
		return nil, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("extra.%s is %T, want an object {\"method\": %q, %s}", key, raw, method, fields)
	}
	if m["method"] != method {
		return nil, fmt.Errorf("extra.%s.method is %v, this build knows %q", key, m["method"], method)
	}
	return m, nil
}

// number reads m[key] as a number (float64 from JSON, int as SetServing
// leaves it).
func number(m map[string]any, key string) (float64, bool) {
	switch v := m[key].(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	}
	return 0, false
}

// parseCalibration reads what SetServing wrote for Serving.Calibration:
// nil when absent; an error for an unknown method or a map that is not
// monotone increasing (a bundle is never scored with a map it does not
// understand).
func parseCalibration(extra map[string]any) (*calibrate.Platt, int, error) {
	m, err := calibrationObject(extra, ExtraCalibration, "platt", `"a": A, "b": B`)
	if m == nil || err != nil {
		return nil, 0, err
	}
	a, ok := number(m, "a")
	if !ok {
		return nil, 0, fmt.Errorf("extra.%s.a is %T, want a number", ExtraCalibration, m["a"])
	}
	b, ok := number(m, "b")
	if !ok {
		return nil, 0, fmt.Errorf("extra.%s.b is %T, want a number", ExtraCalibration, m["b"])
	}
	rows, _ := number(m, "rows")
	c := &calibrate.Platt{A: a, B: b}
	if err := c.Valid(); err != nil {
		return nil, 0, fmt.Errorf("extra.%s: %w", ExtraCalibration, err)
	}
	return c, int(rows), nil
}

// parseExtras reads what SetServing wrote, as it comes back from JSON (or
// as SetServing left it, for a Metadata that was never encoded).
func parseExtras(extra map[string]any) (lead, refresh time.Duration, codes map[string]int32, err error) {
	codes = map[string]int32{}
	dur := func(key string) (time.Duration, error) {
		v, ok := extra[key]
		if !ok {
			return 0, nil
		}
		s, ok := v.(string)
		if !ok {
			return 0, fmt.Errorf("extra.%s is %T, want a duration string such as \"4h0m0s\"", key, v)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("extra.%s: %w", key, err)
		}
		return d, nil
	}
	if lead, err = dur(ExtraLead); err != nil {
		return
	}
	if refresh, err = dur(ExtraRefresh); err != nil {
		return
	}
	raw, ok := extra[ExtraLikelyCodes]
	if !ok {
		return
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return 0, 0, nil, fmt.Errorf("extra.%s is %T, want an object of class name to error code", ExtraLikelyCodes, raw)
	}
	for name, v := range m {
		switch c := v.(type) {
		case float64:
			if c != math.Trunc(c) || c < math.MinInt32 || c > math.MaxInt32 {
				return 0, 0, nil, fmt.Errorf("extra.%s[%s] = %v, want an integer error code", ExtraLikelyCodes, name, c)
			}
			codes[name] = int32(c)
		case int32:
			codes[name] = c
		default:
			return 0, 0, nil, fmt.Errorf("extra.%s[%s] is %T, want an integer error code", ExtraLikelyCodes, name, v)
		}
	}
	return
}
