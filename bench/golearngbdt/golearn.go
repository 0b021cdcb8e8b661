package golearngbdt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/failcast/failcast/models"
	"github.com/failcast/failcast/models/gbdt"
	"github.com/sjwhitworth/golearn/base"
)

// GolearnClassifier adapts gbdt to golearn's base.Classifier, so golearn
// grids, evaluation.GetConfusionMatrix and cross-validation work with it.
// Every non-class attribute must be a FloatAttribute and the single class
// attribute a CategoricalAttribute; two class values train a gbdt.Binary
// model, more a gbdt.Softmax one. Predict picks the most probable class.
type GolearnClassifier struct {
	// Params are used by Fit; Objective and NumClass are set from the
	// class attribute.
	Params gbdt.Params
	// Model is the trained model (nil before Fit or Load).
	Model *gbdt.Model

	features []string // attribute names, in the model's column order
	classes  []string // class values, by class index
}

var _ base.Classifier = (*GolearnClassifier)(nil)

// NewGolearnClassifier returns an unfitted adapter using p.
func NewGolearnClassifier(p gbdt.Params) *GolearnClassifier {
	return &GolearnClassifier{Params: p}
}

// String names the classifier and its state.
func (c *GolearnClassifier) String() string {
	if c.Model == nil {
		return "golearngbdt.GolearnClassifier(unfitted)"
	}
	return fmt.Sprintf("golearngbdt.GolearnClassifier(%v, %d classes, %d features, %d rounds)",
		c.Model.Objective(), c.Model.NumClass(), c.Model.NumFeatures(), c.Model.NumRounds())
}

// classAttribute returns the grid's single categorical class attribute.
func classAttribute(grid base.FixedDataGrid) (*base.CategoricalAttribute, error) {
	attrs := grid.AllClassAttributes()
	if len(attrs) != 1 {
		return nil, fmt.Errorf("gbdt: golearn grid has %d class attributes, want 1", len(attrs))
	}
	cat, ok := attrs[0].(*base.CategoricalAttribute)
	if !ok {
		return nil, fmt.Errorf("gbdt: golearn class attribute %q is %T, want a CategoricalAttribute", attrs[0].GetName(), attrs[0])
	}
	return cat, nil
}

// matrixOf reads the named float attributes of grid into a Matrix.
func matrixOf(grid base.FixedDataGrid, names []string) (models.Matrix, error) {
	_, rows := grid.Size()
	specs := make([]base.AttributeSpec, len(names))
	floats := make([]*base.FloatAttribute, len(names))
	for j, name := range names {
		a := base.GetAttributeByName(grid, name)
		if a == nil {
			return models.Matrix{}, fmt.Errorf("gbdt: golearn grid has no attribute %q", name)
		}
		f, ok := a.(*base.FloatAttribute)
		if !ok {
			return models.Matrix{}, fmt.Errorf("gbdt: golearn attribute %q is %T, want a FloatAttribute", name, a)
		}
		spec, err := grid.GetAttribute(a)
		if err != nil {
			return models.Matrix{}, fmt.Errorf("gbdt: golearn attribute %q: %w", name, err)
		}
		specs[j], floats[j] = spec, f
	}
	X := models.NewMatrix(rows, len(names))
	for i := 0; i < rows; i++ {
		row := X.Row(i)
		for j, spec := range specs {
			row[j] = float32(floats[j].GetFloatFromSysVal(grid.Get(spec, i)))
		}
	}
	return X, nil
}

// Fit trains on every non-class attribute of grid.
func (c *GolearnClassifier) Fit(grid base.FixedDataGrid) error {
	cat, err := classAttribute(grid)
	if err != nil {
		return err
	}
	classes := slices.Clone(cat.GetValues())
	if len(classes) < 2 {
		return fmt.Errorf("gbdt: golearn class attribute %q has %d values, want >= 2", cat.GetName(), len(classes))
	}
	var names []string
	for _, a := range base.NonClassAttributes(grid) {
		names = append(names, a.GetName())
	}
	if len(names) == 0 {
		return errors.New("gbdt: golearn grid has no feature attributes")
	}
	X, err := matrixOf(grid, names)
	if err != nil {
		return err
	}
	spec, err := grid.GetAttribute(cat)
	if err != nil {
		return fmt.Errorf("gbdt: golearn class attribute %q: %w", cat.GetName(), err)
	}
	y := make([]float32, X.Rows)
	for i := range y {
		v := cat.GetStringFromSysVal(grid.Get(spec, i))
		k := slices.Index(classes, v)
		if k < 0 {
			return fmt.Errorf("gbdt: golearn row %d: class %q is not a value of %q", i, v, cat.GetName())
		}
		y[i] = float32(k)
	}
	p := c.Params
	if len(classes) == 2 {
		p.Objective, p.NumClass = gbdt.Binary, 0
	} else {
		p.Objective, p.NumClass = gbdt.Softmax, len(classes)
	}
	m, err := gbdt.Fit(context.Background(), p, gbdt.Dataset{X: X, Y: y}, nil)
	if err != nil {
		return err
	}
	c.Model, c.features, c.classes = m, names, classes
	return nil
}

// Predict returns a grid holding grid's class attribute filled with the
// most probable class of every row.
func (c *GolearnClassifier) Predict(grid base.FixedDataGrid) (base.FixedDataGrid, error) {
	if c.Model == nil {
		return nil, errors.New("gbdt: golearn Predict before Fit or Load")
	}
	if _, err := classAttribute(grid); err != nil {
		return nil, err
	}
	X, err := matrixOf(grid, c.features)
	if err != nil {
		return nil, err
	}
	probs := c.Model.PredictProbaMulti(X)
	out := base.GeneratePredictionVector(grid)
	for i, p := range probs {
		best := 0
		for k := range p {
			if p[k] > p[best] {
				best = k
			}
		}
		base.SetClass(out, i, c.classes[best])
	}
	return out, nil
}

// golearnClassifierName and golearnClassifierVersion tag saved adapters.
const (
	golearnClassifierName    = "failcast-gbdt"
	golearnClassifierVersion = "1"
)

// GetMetadata describes the adapter for golearn's serialisation.
func (c *GolearnClassifier) GetMetadata() base.ClassifierMetadataV1 {
	return base.ClassifierMetadataV1{
		FormatVersion:      1,
		ClassifierName:     golearnClassifierName,
		ClassifierVersion:  golearnClassifierVersion,
		ClassifierMetadata: map[string]interface{}{"model_format_version": gbdt.FormatVersion},
	}
}

// Save writes the fitted adapter to path in golearn's classifier file
// format, atomically (temporary file in the same directory + rename).
func (c *GolearnClassifier) Save(path string) (err error) {
	if c.Model == nil {
		return errors.New("gbdt: golearn Save before Fit")
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("gbdt: save %s: %w", path, err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer func() {
		if err != nil {
			os.Remove(tmpName)
		}
	}()
	w, err := base.CreateSerializedClassifierStub(tmpName, c.GetMetadata())
	if err != nil {
		return fmt.Errorf("gbdt: save %s: %w", path, err)
	}
	if err = c.SaveWithPrefix(w, ""); err != nil {
		w.Close()
		return fmt.Errorf("gbdt: save %s: %w", path, err)
	}
	if err = w.Close(); err != nil {
		return fmt.Errorf("gbdt: save %s: %w", path, err)
	}
	if err = os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("gbdt: save %s: %w", path, err)
	}
	return nil
}

// adapterState is what SaveWithPrefix stores next to the model bytes.
type adapterState struct {
	Features []string `json:"features"`
	Classes  []string `json:"classes"`
}

// SaveWithPrefix writes the model and the attribute and class names under
// prefix (used when the adapter is part of a golearn ensemble).
func (c *GolearnClassifier) SaveWithPrefix(w *base.ClassifierSerializer, prefix string) error {
	if c.Model == nil {
		return errors.New("gbdt: golearn SaveWithPrefix before Fit")
	}
	if err := w.WriteJSONForKey(w.Prefix(prefix, "GBDT_STATE"), adapterState{Features: c.features, Classes: c.classes}); err != nil {
		return err
	}
	b, err := c.Model.MarshalBinary()
	if err != nil {
		return err
	}
	return w.WriteBytesForKey(w.Prefix(prefix, "GBDT_MODEL"), b)
}

// Load reads an adapter written by Save.
func (c *GolearnClassifier) Load(path string) error {
	r, err := base.ReadSerializedClassifierStub(path)
	if err != nil {
		return fmt.Errorf("gbdt: load %s: %w", path, err)
	}
	defer r.Close()
	if err := c.LoadWithPrefix(r, ""); err != nil {
		return fmt.Errorf("gbdt: load %s: %w", path, err)
	}
	return nil
}

// LoadWithPrefix reads what SaveWithPrefix wrote under prefix.
func (c *GolearnClassifier) LoadWithPrefix(r *base.ClassifierDeserializer, prefix string) error {
	var st adapterState
	if err := r.GetJSONForKey(r.Prefix(prefix, "GBDT_STATE"), &st); err != nil {
		return err
	}
	b, err := r.GetBytesForKey(r.Prefix(prefix, "GBDT_MODEL"))
	if err != nil {
		return err
	}
	m, err := gbdt.Read(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if len(st.Features) != m.NumFeatures() || len(st.Classes) != m.NumClass() {
		return fmt.Errorf("gbdt: golearn state names %d features and %d classes, the model has %d and %d",
			len(st.Features), len(st.Classes), m.NumFeatures(), m.NumClass())
	}
	c.Model, c.features, c.classes = m, st.Features, st.Classes
	c.Params = m.Params()
	return nil
}
