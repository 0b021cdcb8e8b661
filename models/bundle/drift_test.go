package bundle

import (
	"path/filepath"
	"testing"

	"github.com/failcast/failcast/models/drift"
)

func TestDriftReferenceRoundTrip(t *testing.T) {
	X, fail, family := fitPair(t)
	md := testMetadata()
	ref, err := drift.Fit(X, md.FeatureNames, drift.Bins)
	if err != nil {
		t.Fatal(err)
	}
	SetDrift(&md, ref)
	dir := saveModel(t, md, fail, family)
	b, err := Load(dir, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.DriftReference()
	if err != nil || got == nil {
		t.Fatalf("DriftReference = %v, %v", got, err)
	}
	// Read back, it measures the training rows as undrifted.
	m := drift.NewMeter(got)
	if err := m.Add(X); err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Result() {
		if !(d.PSI < 1e-9) {
			t.Errorf("%s: PSI of the training rows against the saved reference = %v, want 0", d.Name, d.PSI)
		}
	}

	// A bundle without a reference (an earlier build) has none, no error.
	md = testMetadata()
	dir2 := filepath.Join(t.TempDir(), "old")
	if err := Save(dir2, md, fail, family); err != nil {
		t.Fatal(err)
	}
	if b, err = Load(dir2, testSchema); err != nil {
		t.Fatal(err)
	}
	if got, err := b.DriftReference(); got != nil || err != nil {
		t.Fatalf("no reference stored: got %v, %v; want nil, nil", got, err)
	}

	// A reference naming other features is refused.
	b.Metadata.Extra[ExtraDrift] = map[string]any{"rows": 3, "features": []any{map[string]any{"name": "zz", "edges": []any{}, "shares": []any{1.0}, "missing": 0.0}}}
	if _, err := b.DriftReference(); err == nil {
		t.Fatal("a reference of other features: want an error")
	}
}
