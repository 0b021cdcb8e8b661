package bundle

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/failcast/failcast/models/artifact"
	"github.com/failcast/failcast/models/drift"
)

// ExtraDrift is the key of Metadata.Extra holding the training rows'
// feature distributions (see SetDrift).
const ExtraDrift = "drift_reference"

// SetDrift stores ref, the distribution of every feature over the
// training rows (drift.Fit), in md: metadata.json's extra.drift_reference,
// {"rows": n, "features": [{"name", "edges", "shares", "missing"}, ...]}
// in feature order. Scoring compares a plan's features with it.
func SetDrift(md *artifact.Metadata, ref *drift.Reference) {
	if md.Extra == nil {
		md.Extra = map[string]any{}
	}
	md.Extra[ExtraDrift] = ref
}

// DriftReference returns the training feature distributions SetDrift
// stored, nil when the bundle has none (a build before drift). A stored
// reference that does not parse, does not name the bundle's features in
// order or fails drift.Reference.Check is an error.
func (b *Bundle) DriftReference() (*drift.Reference, error) {
	raw, ok := b.Metadata.Extra[ExtraDrift]
	if !ok || raw == nil {
		return nil, nil
	}
	var ref drift.Reference
	switch v := raw.(type) {
	case *drift.Reference: // set in this process, never encoded
		ref = *v
	default:
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("bundle %s: extra.%s: %w", b.Dir, ExtraDrift, err)
		}
		if err := json.Unmarshal(data, &ref); err != nil {
			return nil, fmt.Errorf("bundle %s: extra.%s: %w", b.Dir, ExtraDrift, err)
		}
	}
	names := make([]string, len(ref.Features))
	for i, f := range ref.Features {
		names[i] = f.Name
	}
	if !slices.Equal(names, b.Metadata.FeatureNames) {
		return nil, fmt.Errorf("bundle %s: extra.%s names %d features, not the model's %d in order", b.Dir, ExtraDrift, len(names), len(b.Metadata.FeatureNames))
	}
	if err := ref.Check(); err != nil {
		return nil, fmt.Errorf("bundle %s: extra.%s: %w", b.Dir, ExtraDrift, err)
	}
	return &ref, nil
}
